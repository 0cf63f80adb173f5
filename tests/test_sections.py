"""Sections: entries grouped under headings, read with exact lines, shown by both themes and the archive,
understood by the checks, the platforms, the preview and `digest trial --issue --section`."""

from __future__ import annotations

import os
import re
import textwrap

import pytest
import yaml
from click.testing import CliRunner

import digest
from digest.checks import run_checks
from digest.cli import cli
from digest.config import load_config
from digest.exceptions import IssueError
from digest.issue_edit import append_entries, open_issue
from digest.platforms import PLATFORMS
from digest.reader import read_issue
from ctgov_server import Registry

HEAD = """\
subject: A subject line that is long enough
preheader: A preheader that is long enough to pass the checks we run.
date: 2024-05-14
intro: Hello readers.
"""


def entry(n: int, indent: int = 2, **extra) -> str:
    lines = [f"- institution: Institution {n}", f"  title: Trial number {n}", f"  summary: Words about trial {n}.",
             f"  link: https://clinicaltrials.gov/study/NCT0000000{n}"] + [f"  {k}: {v}" for k, v in extra.items()]
    return "".join(" " * indent + line + "\n" for line in lines)


SECTIONED = HEAD + "entries:\n" + entry(1) + """\
sections:
  - heading: New trials
    entries:
""" + entry(2, 6) + entry(3, 6) + """\
  - heading: Updates on trials we covered
    entries:
""" + entry(4, 6, status="Completed")


@pytest.fixture
def sectioned(newsletter):
    newsletter.write_issue(SECTIONED)
    return newsletter


def read(newsletter):
    return read_issue(newsletter.issue, load_config(newsletter.config))


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --- reading ------------------------------------------------------------------------------------------------

def test_sections_are_read_with_their_headings_fields_and_lines(sectioned):
    issue = read(sectioned)
    assert [(s.heading, s.field, [e.title for e in s.entries]) for s in issue.sections] == [
        (None, "entries", ["Trial number 1"]),
        ("New trials", "sections[1]", ["Trial number 2", "Trial number 3"]),
        ("Updates on trials we covered", "sections[2]", ["Trial number 4"]),
    ]
    assert [e.field for e in issue.entries] == ["entries[1]", "sections[1].entries[1]", "sections[1].entries[2]", "sections[2].entries[1]"]
    source = issue.source
    assert source.line("sections[1].heading") == line_of(SECTIONED, "heading: New trials")
    assert source.line("sections[2]") == line_of(SECTIONED, "  - heading: Updates")
    assert source.line("sections[1].entries[2].summary") == line_of(SECTIONED, "summary: Words about trial 3")
    assert issue.entries[2].line == line_of(SECTIONED, "- institution: Institution 3")
    assert source.urls["https://clinicaltrials.gov/study/NCT00000004"] == ("sections[2].entries[1].link", line_of(SECTIONED, "NCT00000004"))


def test_plain_entries_are_one_section_without_a_heading(newsletter):
    issue = read(newsletter)
    assert [(s.heading, s.field, len(s.entries)) for s in issue.sections] == [(None, "entries", 1)]
    assert issue.entries[0].field == "entries[1]" and issue.sections[0].entries == issue.entries


def test_sections_alone_need_no_entries_key(newsletter):
    text = HEAD + "sections:\n  - heading: Only\n    entries:\n" + entry(1, 6)
    issue = read_issue(newsletter.write_issue(text), load_config(newsletter.config))
    assert [s.heading for s in issue.sections] == ["Only"] and issue.entries[0].field == "sections[1].entries[1]"


@pytest.mark.parametrize(
    "tail, message",
    [
        ("sections: yes\n", "5: sections: must be a list of sections, each starting with '- heading:'"),
        ("sections:\n  - New trials\n", "6: sections[1]: each section is a heading and its entries: '- heading: …' then 'entries:'"),
        ("sections:\n  - entries: []\n", "6: sections[1].heading: is missing (a section needs heading, entries)"),
        ("sections:\n  - heading: A\n    entries: []\n    heding: B\n", "8: sections[1].heding: unknown field; did you mean 'heading'?"),
        ("sections:\n  - heading: A\n    entries: word\n", "7: sections[1].entries: must be a list of entries, each starting with '- institution:'"),
        ("sections:\n  - heading: A\n    entries:\n      - institution: X\n        summary: S\n        link: https://clinicaltrials.gov/\n",
         "8: sections[1].entries[1].title: is missing (an entry needs institution, title, summary, link)"),
        ("sections:\n  - heading: News\n    entries: []\n  - heading: news\n    entries: []\n",
         "8: sections[2].heading: the same heading as sections[1] (line 6): give each section its own, or put their entries together"),
        ("sections:\n  - heading: |\n      Two\n      lines\n    entries: []\n", "6: sections[1].heading: must fit on one line"),
    ],
)
def test_a_mistake_in_a_section_names_its_line_and_field(newsletter, tail, message):
    newsletter.write_issue(HEAD + tail)
    with pytest.raises(IssueError) as info:
        read(newsletter)
    assert str(info.value) == f"{newsletter.issue}:{message}"


def test_neither_entries_nor_sections_is_one_line(newsletter):
    with pytest.raises(IssueError, match=r"test-issue.yaml:1: entries: is missing: list the entries under 'entries:' \(or under headings, with 'sections:'\)"):
        read_issue(newsletter.write_issue(HEAD), load_config(newsletter.config))


# --- the checks ----------------------------------------------------------------------------------------------

def test_findings_in_sections_name_the_section_s_field_and_line(sectioned):
    text = SECTIONED.replace("Words about trial 3.", "Words TODO.").replace("heading: Updates on trials we covered", "heading: Updates TODO")
    text = text.replace("title: Trial number 4", "title: Trial number 2")
    findings = run_checks(digest.build(sectioned.write_issue(text)))
    found = {(f.id, f.field, f.line) for f in findings}
    assert ("placeholder", "sections[1].entries[2].summary", line_of(text, "Words TODO")) in found
    assert ("placeholder", "sections[2].heading", line_of(text, "heading: Updates TODO")) in found
    duplicate = next(f for f in findings if f.id == "entry-duplicate-title")
    assert (duplicate.field, duplicate.line) == ("sections[2].entries[1].title", line_of(text, "title: Trial number 2\n        summary: Words about trial 4"))
    assert duplicate.message == f"same title as sections[1].entries[1] (line {line_of(text, '- institution: Institution 2')}): is it the same news twice?"


def test_a_withdrawn_trial_in_a_section_is_flagged_at_its_line(sectioned):
    text = SECTIONED.replace("status: Completed", "status: Withdrawn")
    (finding,) = [f for f in run_checks(digest.build(sectioned.write_issue(text))) if f.id == "trial-status"]
    assert (finding.field, finding.line) == ("sections[2].entries[1].status", line_of(text, "status: Withdrawn"))


def test_a_section_without_entries_is_an_error_and_a_duplicate_in_plain_entries_keeps_its_words(newsletter):
    text = HEAD + "entries:\n" + entry(1) + entry(2).replace("Trial number 2", "Trial number 1") + "sections:\n  - heading: Later\n    entries:\n"
    findings = run_checks(digest.build(newsletter.write_issue(text)))
    (empty,) = [f for f in findings if f.id == "empty-section"]
    assert (empty.field, empty.line, empty.severity) == ("sections[1].heading", line_of(text, "heading: Later"), "error")
    assert empty.message == "the section 'Later' has no entries: add some, or remove the section (its heading would stand alone in the email)"
    (duplicate,) = [f for f in findings if f.id == "entry-duplicate-title"]
    assert duplicate.message == "same title as entry 1 (line 6): is it the same news twice?"


def test_template_code_in_a_heading_is_refused_for_the_platform_that_would_run_it(sectioned):
    text = SECTIONED.replace("heading: New trials", "heading: New trials for *|LNAME|*")
    findings = run_checks(digest.build(sectioned.write_issue(text), platform="mailchimp"))
    assert [(f.id, f.field) for f in findings if f.id == "template-code"] == [("template-code", "sections[1].heading")]


# --- the themes, the text part, the platforms, the archive --------------------------------------------------

@pytest.mark.parametrize("theme", ["default", "plain"])
def test_each_heading_is_an_h2_and_its_entries_titles_h3(sectioned, theme):
    if theme == "plain":
        sectioned.config.write_text('theme = "plain"\n' + sectioned.config.read_text(encoding="utf-8"), encoding="utf-8")
    email = digest.build(sectioned.issue)
    headings = re.findall(r"<(h[23])[^>]*>(.*?)</\1>", email.html, re.DOTALL)
    titles = [(tag, re.sub(r"<[^>]+>", "", text).strip()) for tag, text in headings]
    assert titles == [
        ("h2", "Institution 1:Trial number 1"),
        ("h2", "New trials"),
        ("h3", "Institution 2:Trial number 2"),
        ("h3", "Institution 3:Trial number 3"),
        ("h2", "Updates on trials we covered"),
        ("h3", "Institution 4:Trial number 4"),
    ]
    assert email.ok, [f for f in email.findings if f.severity == "error"]
    text = email.text
    assert text.index("Trial number 1") < text.index("NEW TRIALS") < text.index("Trial number 2") < text.index("UPDATES ON TRIALS WE COVERED") < text.index("Trial number 4")
    assert "#" * 30 + "\nNEW TRIALS\n" + "#" * 30 in text  # rules a phone does not break


def test_the_sample_without_sections_is_unchanged_by_them(sample_email):
    assert "<h3" not in sample_email.html and "####" not in sample_email.text
    assert len(sample_email.html.encode("utf-8")) <= 24 * 1024


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_platform_builds_a_sectioned_issue(sectioned, platform):
    email = digest.build(sectioned.issue, platform=platform)
    assert email.html.count('class="section"') == 2 and "UPDATES ON TRIALS WE COVERED" in email.text


def test_a_restyled_entry_block_sees_the_section_and_a_heading_block_can_be_replaced(sectioned):
    templates = sectioned.root / "templates"
    templates.mkdir()
    (templates / "email.mjml.j2").write_text(textwrap.dedent("""\
        {% extends "default/email.mjml.j2" %}
        {% block section_heading %}{% if section.heading %}<mj-section><mj-column><mj-text><h2>Part: {{ section.heading }}</h2></mj-text></mj-column></mj-section>{% endif %}{% endblock %}
        {% block entry %}<mj-section><mj-column><mj-text><p>{{ section.field }} / {{ loop.index }}: {{ entry.title }}</p></mj-text></mj-column></mj-section>{% endblock %}
        """), encoding="utf-8")
    html = digest.build(sectioned.issue).html
    assert "Part: New trials" in html and "Part: Updates on trials we covered" in html
    assert [m for m in re.findall(r"<p[^>]*>([^<]*Trial number \d)</p>", html)] == [
        "entries / 1: Trial number 1", "sections[1] / 1: Trial number 2", "sections[1] / 2: Trial number 3", "sections[2] / 1: Trial number 4"]


def test_the_archive_shows_the_headings_and_keeps_each_entry_s_id_unique(sectioned, tmp_path):
    from digest.archive import build_site

    built = build_site(tmp_path / "site", [sectioned.issue], config=sectioned.config, feed=False)
    page = (built.folder / "test-issue" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<h2 class="section">([^<]+)</h2>', page) == ["New trials", "Updates on trials we covered"]
    assert re.findall(r'<(h[23]) id="(entry-\d+)"', page) == [("h2", "entry-1"), ("h3", "entry-2"), ("h3", "entry-3"), ("h3", "entry-4")]
    assert page.count('aria-describedby="entry-4"') == 1


def test_the_preview_lists_a_section_s_findings_with_their_field(sectioned):
    from digest.preview.state import Preview

    sectioned.write_issue(SECTIONED.replace("Words about trial 4.", "Words FIXME."))
    preview = Preview(sectioned.issue, sectioned.config)
    ok, _ = preview.rebuild()
    state = yaml.safe_load(preview.state_json())
    assert ok and {(f["field"], f["line"]) for f in state["findings"] if f["id"] == "placeholder"} == {
        ("sections[2].entries[1].summary", line_of(SECTIONED, "Words about trial 4"))}


# --- adding to a section ------------------------------------------------------------------------------------

NEW = {"institution": "Added U", "title": "Added trial", "summary": "Added words.",
       "link": "https://clinicaltrials.gov/study/NCT09990001", "nct_id": "NCT09990001"}


def inserted_only(old: str, new: str) -> str:
    """What was added, once it is clear nothing else changed."""
    start = len(os.path.commonprefix([old, new]))
    added = len(new) - len(old)
    assert added > 0 and new[:start] + new[start + added:] == old
    return new[start:start + added]


def test_entries_go_at_the_end_of_the_named_section_case_aside(sectioned):
    old = sectioned.issue.read_text(encoding="utf-8")
    new = append_entries(open_issue(sectioned.issue), [NEW], "new TRIALS")
    inserted_only(old, new)
    data = yaml.safe_load(new)
    assert [e["title"] for e in data["sections"][0]["entries"]] == ["Trial number 2", "Trial number 3", "Added trial"]
    assert data["sections"][1] == yaml.safe_load(old)["sections"][1] and data["entries"] == yaml.safe_load(old)["entries"]


def test_a_section_that_is_not_there_is_made_after_the_others(sectioned):
    old = sectioned.issue.read_text(encoding="utf-8")
    new = append_entries(open_issue(sectioned.issue), [NEW], "Also")
    assert inserted_only(old, new).startswith("\n  - heading: Also\n    entries:\n      - institution: Added U\n")
    assert [s["heading"] for s in yaml.safe_load(new)["sections"]] == ["New trials", "Updates on trials we covered", "Also"]


def test_an_issue_of_plain_entries_gets_sections_after_its_entries(newsletter):
    text = HEAD + "entries:\n" + entry(1) + "\n# closing words\noutro: Bye.\n"
    newsletter.write_issue(text)
    new = append_entries(open_issue(newsletter.issue), [NEW], "Updates on trials we covered")
    assert new == HEAD + "entries:\n" + entry(1) + (
        "\nsections:\n  - heading: Updates on trials we covered\n    entries:\n"
        "      - institution: Added U\n        title: Added trial\n        summary: |\n"
        "          Added words.\n        link: https://clinicaltrials.gov/study/NCT09990001\n"
        "        nct_id: NCT09990001\n") + "\n# closing words\noutro: Bye.\n"
    newsletter.issue.write_text(new, encoding="utf-8")
    assert [s.heading for s in read(newsletter).sections] == [None, "Updates on trials we covered"]


def test_an_empty_sections_key_and_an_empty_section_take_entries(newsletter):
    text = HEAD + "sections:\n  - heading: First\n    entries:\n# more to come\n"
    newsletter.write_issue(text)
    new = append_entries(open_issue(newsletter.issue), [NEW], "First")
    assert yaml.safe_load(new)["sections"][0]["entries"][0]["title"] == "Added trial"
    text = HEAD + "sections:\n\noutro: Bye.\n"
    newsletter.write_issue(text)
    new = append_entries(open_issue(newsletter.issue), [NEW], "First")
    assert yaml.safe_load(new)["sections"] == [{"heading": "First", "entries": [NEW | {"summary": "Added words.\n"}]}]


def test_an_issue_of_sections_only_needs_section_named(newsletter):
    text = HEAD + "sections:\n  - heading: First\n    entries:\n" + entry(1, 6)
    newsletter.write_issue(text)
    with pytest.raises(IssueError, match=r"has no 'entries:' of its own, only sections: say which one the trials go in with --section NAME \(the sections: 'First'\)"):
        append_entries(open_issue(newsletter.issue), [NEW])


def test_a_sections_list_in_flow_style_is_refused_and_left_alone(newsletter):
    text = HEAD + "entries: []\nsections: [{heading: A, entries: []}]\n"
    newsletter.write_issue(text)
    with pytest.raises(IssueError, match=r"test-issue.yaml:6: sections: write 'sections:' on its own line"):
        append_entries(open_issue(newsletter.issue), [NEW], "B")
    assert newsletter.issue.read_text(encoding="utf-8") == text


def test_digest_trial_adds_to_a_section_and_skips_a_trial_in_any_section(sectioned, monkeypatch, tmp_path):
    with Registry() as server:
        monkeypatch.setenv("DIGEST_CTGOV_URL", server.url)
        monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path / "cache"))
        text = SECTIONED.replace("NCT00000003", "NCT02965768")
        sectioned.write_issue(text)
        result = CliRunner().invoke(cli, ["trial", "NCT03008590", "NCT02965768", "--issue", str(sectioned.issue), "--section", "Updates on trials we covered"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: NCT02965768 is already in {sectioned.issue} (the entry on line {line_of(text, '- institution: Institution 3')}): not added again",
        f"Added NCT03008590 (VA Office of Research and Development) to {sectioned.issue} (section 'Updates on trials we covered')",
    ]
    issue = read(sectioned)
    assert [e.nct_id for e in issue.sections[2].entries] == [None, "NCT03008590"]
    assert issue.sections[2].entries[1].field == "sections[2].entries[2]"
    assert digest.build(sectioned.issue).ok
