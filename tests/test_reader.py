"""The issue reader: every kind of bad input gets one line naming the file, the line and the field."""

from __future__ import annotations

import datetime

import pytest

from digest.config import load_config
from digest.exceptions import IssueError
from digest.reader import read_issue


def read(newsletter, text: str):
    path = newsletter.write_issue(text)
    return read_issue(path, load_config(newsletter.config))


def error_of(newsletter, text: str | bytes) -> str:
    if isinstance(text, bytes):
        newsletter.issue.write_bytes(text)
    else:
        newsletter.write_issue(text)
    with pytest.raises(IssueError) as caught:
        read_issue(newsletter.issue, load_config(newsletter.config))
    message = caught.value.__str__()
    assert "\n" not in message
    return message


GOOD = """\
subject: A subject line that is long enough
preheader: A preheader
date: 2024-05-14
intro: Hello.
entries:
  - institution: Test University
    title: A trial
    logo: images/logo.png
    summary: A summary.
    link: https://clinicaltrials.gov/study/NCT00000001
"""


def test_reads_every_field(newsletter):
    issue = read(newsletter, GOOD.replace("    link:", "    nct_id: nct00000001\n    link_label: Read the study\n    link:"))
    assert issue.subject == "A subject line that is long enough"
    assert issue.date == datetime.date(2024, 5, 14)
    assert issue.slug == "test-issue"
    (entry,) = issue.entries
    assert entry.institution == "Test University"
    assert entry.logo.alt == "Test University"  # alt defaults to the institution
    assert entry.logo.url == "https://cdn.testnews.example/news/issues/images/logo.png"
    assert entry.nct_id == "NCT00000001"
    assert entry.link_label == "Read the study"
    assert entry.line == 6


def test_values_are_the_text_the_editor_typed(newsletter):
    issue = read(newsletter, GOOD.replace("title: A trial", "title: no").replace("intro: Hello.", "intro: 3.10"))
    assert issue.entries[0].title == "no"  # not YAML's False
    assert issue.intro.plain == "3.10"  # not the number 3.1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "issues/test-issue.yaml: the issue file is empty"),
        ("   \n\n", "issues/test-issue.yaml: the issue file is empty"),
        (b"subject: x\n\x00\x01\x02", "issues/test-issue.yaml:2: is not a text file"),
        (b"subject: caf\xe9\n", "issues/test-issue.yaml:1: is not UTF-8 text"),
        ("subject: [unclosed\n", "issues/test-issue.yaml:1: subject: a value starting with '[' must be in quotes: subject: \"[unclosed\""),
        ("subject: a: b\n", "issues/test-issue.yaml:1: subject: the ':' in this value makes YAML read it as another field: "
                            "put the whole value in quotes: subject: \"a: b\""),
        ("- a list\n", "issues/test-issue.yaml:1: an issue starts with"),
        (GOOD.replace("subject:", "subjet:"), "issues/test-issue.yaml:1: subjet: unknown field; did you mean 'subject'?"),
        (GOOD.replace("preheader: A preheader\n", ""), "issues/test-issue.yaml:1: preheader: is missing"),
        (GOOD + "subject: again\n", "issues/test-issue.yaml:11: subject: appears twice (first on line 1): delete one of them"),
        (GOOD.replace("date: 2024-05-14", "date: 2024-13-45"), "issues/test-issue.yaml:3: date: '2024-13-45' is not a date"),
        (GOOD.replace("date: 2024-05-14", "date: next week"), "issues/test-issue.yaml:3: date: 'next week' is not a date"),
        (GOOD.replace("subject: A subject line that is long enough", "subject:"), "issues/test-issue.yaml:1: subject: is empty"),
        (GOOD.replace("subject: A subject line that is long enough", "subject: [a, b]"), "issues/test-issue.yaml:1: subject: must be text, not a list"),
        (GOOD.replace("intro: Hello.", "intro: {a: b}"), "issues/test-issue.yaml:4: intro: must be text, not a group of fields"),
        (GOOD.replace("subject: A subject line that is long enough", 'subject: "two\\nlines"'), "issues/test-issue.yaml:1: subject: must fit on one line"),
        (GOOD.replace("entries:\n", "entries: soon\n").split("  - ")[0], "issues/test-issue.yaml:5: entries: must be a list"),
        (GOOD.replace("    title: A trial\n", ""), "issues/test-issue.yaml:6: entries[1].title: is missing"),
        (GOOD.replace("    title:", "    titel:"), "issues/test-issue.yaml:7: entries[1].titel: unknown field; did you mean 'title'?"),
        (GOOD.replace("https://clinicaltrials.gov/study/NCT00000001", "javascript:alert(1)"),
         "issues/test-issue.yaml:10: entries[1].link: the link 'javascript:alert(1)' must start with https://, http:// or mailto:"),
        (GOOD.replace("https://clinicaltrials.gov/study/NCT00000001", "data:text/html,hi"), "issues/test-issue.yaml:10: entries[1].link: the link 'data:text/html,hi' must start"),
        (GOOD.replace("https://clinicaltrials.gov/study/NCT00000001", "https://"), "entries[1].link: the link 'https://' has no web address"),
        (GOOD.replace("intro: Hello.", "intro: |\n  Hello.\n\n  See [this](javascript:alert(1))."),
         "issues/test-issue.yaml:7: intro: the link 'javascript:alert(1)' must start with"),
        (GOOD.replace("images/logo.png", "images/missing.png"), "issues/test-issue.yaml:8: entries[1].logo: no image file at 'images/missing.png'"),
        (GOOD.replace("images/logo.png", "../digest.toml"), "entries[1].logo: the image path '../digest.toml' must be relative to the file, without '..'"),
        (GOOD.replace("images/logo.png", "javascript:alert(1)"), "entries[1].logo: the image 'javascript:alert(1)' must be a file path or a web address"),
        (GOOD.replace("    logo: images/logo.png\n", "    logo_alt: A logo\n"), "entries[1].logo_alt: there is no logo to describe"),
        (GOOD.replace("    link:", "    nct_id: NCT123\n    link:"), "issues/test-issue.yaml:10: entries[1].nct_id: 'NCT123' is not a ClinicalTrials.gov id"),
        (GOOD.replace("    link:", "    conditions: pain\n    link:"), "entries[1].conditions: must be a list"),
        (GOOD.replace("entries:\n", "entries:\n  - just text\n"), "issues/test-issue.yaml:6: entries[1]: each entry is a group of fields"),
        ("subject: a\n\tpreheader: b\n", "issues/test-issue.yaml:2: a tab character at the start of this line: indent with spaces"),
    ],
)
def test_bad_input_names_file_line_and_field(newsletter, monkeypatch, text, expected):
    monkeypatch.chdir(newsletter.root)
    message = error_of(newsletter, text)
    assert expected in message
    assert message.startswith("issues/test-issue.yaml")


def test_missing_and_folder_paths(newsletter, tmp_path):
    config = load_config(newsletter.config)
    with pytest.raises(IssueError, match="no such issue file"):
        read_issue(tmp_path / "nope.yaml", config)
    with pytest.raises(IssueError, match="is a folder"):
        read_issue(tmp_path / "issues", config)


def test_empty_entries_list_is_read(newsletter):
    issue = read(newsletter, GOOD.split("entries:")[0] + "entries: []\n")
    assert issue.entries == ()


def test_image_urls_are_kept_and_relative_paths_need_asset_base_url(newsletter, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    issue = read(newsletter, GOOD.replace("images/logo.png", "https://img.testnews.example/a.png"))
    assert issue.entries[0].logo.url == "https://img.testnews.example/a.png"
    assert issue.entries[0].logo.source is None
    newsletter.write_config(newsletter.config.read_text().replace('asset_base_url = "https://cdn.testnews.example/news/"\n', "").split("[[social]]")[0])
    assert "set asset_base_url in digest.toml" in error_of(newsletter, GOOD)


@pytest.mark.parametrize("escape", ["\\u0000", "\\e", "\\u000b"])
def test_control_characters_typed_as_escapes_are_refused(newsletter, monkeypatch, escape):
    monkeypatch.chdir(newsletter.root)
    message = error_of(newsletter, GOOD.replace("title: A trial", f'title: "A{escape}trial"'))
    assert message.startswith("issues/test-issue.yaml:7: entries[1].title: contains an invisible control character (U+")


def test_an_escape_that_is_no_character(newsletter, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    message = error_of(newsletter, GOOD.replace("title: A trial", 'title: "A\\ud800trial"'))
    assert message.startswith("issues/test-issue.yaml:7: ")


@pytest.mark.parametrize("brk", ["\\r", "\\u2028", "\\x85"])
def test_a_subject_has_no_line_break_of_any_kind(newsletter, monkeypatch, brk):
    monkeypatch.chdir(newsletter.root)
    message = error_of(newsletter, GOOD.replace("subject: A subject line that is long enough", f'subject: "A{brk}Bcc: x@testnews.example"'))
    assert message == "issues/test-issue.yaml:1: subject: must fit on one line"


def test_a_tab_is_named_whatever_the_yaml_parser(newsletter, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    message = error_of(newsletter, GOOD.replace("    title: A trial", "\ttitle: A trial"))
    assert message.endswith("a tab character at the start of this line: indent with spaces, like the lines around it")
