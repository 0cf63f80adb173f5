"""The mistakes a volunteer editor makes in an issue file and in digest.toml, each answered through the command
line with one line: the file, the line that is wrong, the field, and what to do, in plain words."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import CONFIG as NEWSLETTER_CONFIG, SAMPLE_ISSUE
from digest.cli import cli
from digest.mistakes import yaml_mistake
from digest.reader import ENTRY_FIELDS, ISSUE_FIELDS

ISSUE = """\
subject: A subject line that is long enough
preheader: A preheader that is long enough to pass the checks we run.
date: 2024-05-14
intro: |
  Hello readers.

  A second paragraph.
entries:
  - institution: Test University
    title: A trial of something
    summary: |
      “A quote.”

      Our words.
    link: https://clinicaltrials.gov/study/NCT00000001
    nct_id: NCT00000001

  - institution: Other University
    title: Another trial
    summary: |
      Some words here.
    link: https://clinicaltrials.gov/study/NCT00000002
outro: |
  Bye for now.
"""


def changed(lines: dict[int, str]) -> str:
    text = ISSUE.splitlines()
    for number, line in lines.items():
        text[number - 1] = line
    return "\n".join(text) + "\n"


# (the lines changed, the line `digest build` must print): each mistake an editor makes, on its own line.
MISTAKES = {
    "a title indented one space less": (
        {10: "   title: A trial of something"},
        "10: entries[1].title: indent this line like 'institution:' on line 9 (4 spaces, not 3)"),
    "a long value starting with [, shown cut short: the message stays one line to read": (
        {10: "    title: " + "[" * 3000 + "]" * 3000},
        "10: entries[1].title: a value starting with '[' must be in quotes: title: \"" + "[" * 79 + "…\""),
    "an entry indented 5 spaces": (
        {18: "     - institution: Other University"},
        "18: entries[2]: start this entry's '- ' in the same column as the '- ' on line 9 (2 spaces, not 5)"),
    "an entry indented 3 spaces": (
        {18: "   - institution: Other University"},
        "18: entries[2]: start this entry's '- ' in the same column as the '- ' on line 9 (2 spaces, not 3)"),
    "a summary's first line under-indented": (
        {21: "    Some words here."},
        "21: entries[2].summary: the text under 'summary: |' (line 20) must be indented more than 'summary:': "
        "indent this line by 6 spaces"),
    "a summary's second paragraph indented one space less": (
        {14: "     Our words."},
        "14: entries[1].summary: indent this line like line 12 (6 spaces, not 5): it is part of the text of "
        "'summary' (line 11)"),
    "a summary's second paragraph at the field's own indentation": (
        {14: "    Our words."},
        "14: entries[1].summary: indent this line like line 12 (6 spaces, not 4): it is part of the text of "
        "'summary' (line 11)"),
    "the intro not indented": (
        {5: "Hello readers."},
        "5: intro: the text under 'intro: |' (line 4) must be indented more than 'intro:': indent this line by 2 spaces"),
    "the summary's text without '|'": (
        {11: "    summary:", 12: "    “A quote.”", 14: "    Our words."},
        "12: entries[1].summary: the text under 'summary:' (line 11) must be indented more than 'summary:'; to keep "
        "its lines and paragraphs, write 'summary: |' and indent each line of the text by 6 spaces"),
    "a missing '- ' before an entry": (
        {18: "    institution: Other University"},
        "18: entries[1].institution: appears twice in this entry (first on line 9): if a new entry starts here, put "
        "'- ' before 'institution:' as on line 9; if not, delete one of them"),
    "a new entry's first field at the start of the line": (
        {18: "institution: Other University"},
        "18: institution: 'institution' is a field of an entry: start a new entry with '- ' before it, indented like "
        "line 9: '  - institution: …'"),
    "a '- ' on every field of an entry": (
        {19: "  - title: Another trial"},
        "18: entries[2].title: is missing (an entry needs institution, title, summary, link; only an entry's first "
        "field starts with '- ')"),
    "no space after '-'": (
        {18: "  -institution: Other University"},
        "18: put a space after '-': '  - institution: Other University'"),
    "a tab to indent": (
        {10: "\ttitle: A trial of something"},
        "10: a tab character at the start of this line: indent with spaces, like the lines around it"),
    "a missing colon": (
        {10: "    title A trial of something"},
        "10: entries[1].title: put ':' after 'title': 'title: A trial of something'"),
    "no space after the colon": (
        {10: "    title:A trial of something"},
        "10: entries[1].title: put a space after 'title:': 'title: A trial of something'"),
    "a colon inside an unquoted value": (
        {10: "    title: Phase 2: a trial of something"},
        "10: entries[1].title: the ':' in this value makes YAML read it as another field: put the whole value in "
        "quotes: title: \"Phase 2: a trial of something\""),
    "an unclosed quote": (
        {1: 'subject: "A subject line that is long enough'},
        "1: subject: the quote \" that starts this value is never closed: end the value with \""),
    "text after a closing quote": (
        {10: '    title: "Phase 2" trial of something'},
        "10: entries[1].title: there is text after the closing quote: put the whole value in quotes: "
        "title: '\"Phase 2\" trial of something'"),
    "Markdown italics at the start of a value": (
        {10: "    title: *Big* trial of something"},
        "10: entries[1].title: a value starting with '*' must be in quotes: title: \"*Big* trial of something\""),
    "a value starting with '!'": (
        {10: "    title: !important trial"},
        "10: entries[1].title: a value starting with '!' must be in quotes: title: \"!important trial\""),
    "a value starting with '['": (
        {10: "    title: [Phase 2] trial"},
        "10: entries[1].title: a value starting with '[' must be in quotes: title: \"[Phase 2] trial\""),
    "a Markdown link as the entry's link": (
        {15: "    link: [the study](https://clinicaltrials.gov/study/NCT00000001)"},
        "15: entries[1].link: the link is the address alone: 'link: https://clinicaltrials.gov/study/NCT00000001' "
        "(the words on the button are link_label)"),
    "the button's words before the link": (
        {15: "    link: Find out more: https://clinicaltrials.gov/study/NCT00000001"},
        "15: entries[1].link: the link is the address alone: 'link: https://clinicaltrials.gov/study/NCT00000001'; "
        "the words on the button go in link_label: 'link_label: Find out more'"),
    "the button's words before the link, in quotes as the message on a ':' says": (
        {15: '    link: "Find out more: https://clinicaltrials.gov/study/NCT00000001"'},
        "15: entries[1].link: the link is the address alone: 'link: https://clinicaltrials.gov/study/NCT00000001'; "
        "the words on the button go in link_label: 'link_label: Find out more'"),
    "a new entry typed at the start of the line, without its '- '": (
        {15: "    link: https://clinicaltrials.gov/study/NCT00000001\ninstitution: Other University\ntitle: Another\n"
             "summary: Words.\nlink: https://clinicaltrials.gov/study/NCT00000002"},
        "16: institution: 'institution' is a field of an entry: start a new entry with '- ' before it, indented like "
        "line 9: '  - institution: …'"),
    "an entry's field above the entries is a field the issue does not know": (
        {4: "status: draft\nintro: |"},
        "4: status: unknown field; known fields: subject, preheader, date, intro, entries, sections, outro, greeting"),
    "a link in curly quotes, pasted from a word processor": (
        {15: "    link: “https://clinicaltrials.gov/study/NCT00000001”"},
        "15: entries[1].link: the link is the address alone, without “ ” around it: "
        "'link: https://clinicaltrials.gov/study/NCT00000001'"),
    "a link ending in the closing quote it was pasted with": (
        {15: "    link: https://clinicaltrials.gov/study/NCT00000001”"},
        "15: entries[1].link: the link ends in ”, a quotation mark pasted with it: "
        "'link: https://clinicaltrials.gov/study/NCT00000001'"),
    "a link in capitals ending in the closing quote it was pasted with": (
        {15: "    link: HTTPS://clinicaltrials.gov/study/NCT00000001’"},
        "15: entries[1].link: the link ends in ’, a quotation mark pasted with it: "
        "'link: HTTPS://clinicaltrials.gov/study/NCT00000001'"),
    "no space after the colon of an entry's first field": (
        {9: "  - institution:Test University"},
        "9: entries[1].institution: put a space after 'institution:': 'institution: Test University'"),
    "no space after the colon, and a colon in the value": (
        {1: 'subject:"Our news: a subject line long enough"'},
        "1: subject: put a space after 'subject:': 'subject: \"Our news: a subject line long enough\"'"),
    "no space after the colon, a colon in the value, no quotes": (
        {1: "subject:Our news: a subject line long enough"},
        "1: subject: put a space after 'subject:': 'subject: \"Our news: a subject line long enough\"'"),
    "an entry started with a dash a word processor made": (
        {9: "  – institution: Test University"},
        "9: this line starts with '–', which a word processor typed for '-': type the plain '-' instead"),
    "a line indented with non-breaking spaces": (
        {10: "\u00a0\u00a0\u00a0\u00a0title: A trial of something"},
        "10: this line is indented with non-breaking spaces (pasted from a word processor): delete them and indent "
        "with ordinary spaces, like the lines around it"),
    "a value over two lines without '|'": (
        {10: "    title: A trial of something,\n    this time for pain"},
        "11: entries[1].title: this line goes on the text of 'title:' (line 10) but is not indented more than it: "
        "to write 'title' over several lines, write 'title: |' and indent each line of the text by 6 spaces"),
    "a value in curly quotes, pasted from a word processor": (
        {1: "subject: “Our news: a subject line long enough”"},
        "1: subject: use straight quotes (\"), not curly ones: subject: \"Our news: a subject line long enough\""),
    "a value starting with '- '": (
        {10: "    title: - A trial of something"},
        "10: entries[1].title: a value starting with '-' must be in quotes: title: \"- A trial of something\""),
    "an empty field with a note after it is empty, not a value to quote": (
        {10: "    title: # to do"},
        "10: entries[1].title: is empty"),
    "a value starting with '#'": (
        {10: "    title: #2 A trial of something"},
        "10: entries[1].title: a value starting with '#' is read as a note and left out: put the whole value in "
        "quotes: title: \"#2 A trial of something\""),
    "a link ending in the quote and the full stop of the sentence it was copied from": (
        {15: '    link: "https://clinicaltrials.gov/study/NCT00000001”."'},
        "15: entries[1].link: the link ends in ”., pasted with it from a sentence: "
        "'link: https://clinicaltrials.gov/study/NCT00000001'"),
    "a link pasted with words around it": (
        {15: "    link: See https://clinicaltrials.gov/study/NCT00000001 for details."},
        "15: entries[1].link: the link is the address alone, without the words around it: "
        "'link: https://clinicaltrials.gov/study/NCT00000001'"),
    "a link pasted with words after it": (
        {15: "    link: https://clinicaltrials.gov/study/NCT00000001 (opens in new window)"},
        "15: entries[1].link: the link is the address alone, without the words around it: "
        "'link: https://clinicaltrials.gov/study/NCT00000001'"),
    "an address with spaces of its own is not taken for one with a button label": (
        {15: '    link: "mailto:trials@testnews.example?subject=A question about the trial"'},
        "15: entries[1].link: the link 'mailto:trials@testnews.example?subject=A question about the trial' contains "
        "spaces or control characters"),
    "a ' #' inside a value": (
        {10: "    title: Trial #2 of something"},
        "10: entries[1].title: everything from '#2' on is read as a note and left out: put the whole value in "
        "quotes: title: \"Trial #2 of something\""),
    "a field typed twice": (
        {2: "subject: Another subject line long enough"},
        "2: subject: appears twice (first on line 1): delete one of them"),
    "a top-level field indented": (
        {3: " date: 2024-05-14"},
        "3: date: indent this line like 'preheader:' on line 2 (at the start of the line, not 1)"),
    "an entry with nothing after its '- '": (
        {18: "  -", 19: "", 20: "", 21: "", 22: ""},
        "18: entries[2]: an entry with nothing after its '- ': write its fields (institution, title, summary, link), "
        "or delete the line"),
    "a misspelt field": (
        {10: "    tittle: A trial of something"},
        "10: entries[1].tittle: unknown field; did you mean 'title'?"),
    "a date without dashes": (
        {3: "date: 20240514"},
        "3: date: '20240514' is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14"),
    "a date as a week": (
        {3: "date: 2024-W20-2"},
        "3: date: '2024-W20-2' is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14"),
}


def build(root):
    import os

    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(cli, ["build", "issues/test-issue.yaml"], catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.mark.parametrize("lines, expected", MISTAKES.values(), ids=MISTAKES.keys())
def test_each_mistake_is_one_line_in_plain_words_on_its_line(newsletter, lines, expected):
    newsletter.issue.write_text(changed(lines), encoding="utf-8")
    result = build(newsletter.root)
    assert result.exit_code == 1
    assert result.stderr == f"issues/test-issue.yaml:{expected}\n"
    assert not (newsletter.root / "build").exists()


@pytest.mark.parametrize("link", ["https://clinicaltrials.gov/study/NCT00000001.", "https://clinicaltrials.gov/study/NCT00000001,"])
def test_a_link_with_the_sentence_s_full_stop_is_a_warning_with_the_address_to_type(newsletter, link):
    # The full stop went into the email, and check said nothing; an error would refuse an address that does
    # end so (…/wiki/Washington,_D.C.), hence a warning.
    newsletter.issue.write_text(changed({15: f"    link: {link}"}))
    result = build(newsletter.root)
    assert result.exit_code == 0
    assert (f"issues/test-issue.yaml:15: entries[1].link: warning: the link ends in '{link[-1]}': if it came with the "
            "sentence it was copied from, leave it out: 'link: https://clinicaltrials.gov/study/NCT00000001' "
            "[link-end]") in result.stderr


def test_entries_with_nothing_under_it(newsletter):
    newsletter.issue.write_text(ISSUE.split("  - institution: Test")[0].replace("entries:\n", "entries:\noutro: Bye.\n"))
    result = build(newsletter.root)
    assert result.exit_code == 1
    assert "issues/test-issue.yaml:8: entries: error: the issue has no entries: add at least one under 'entries:' [no-entries]" in result.stderr


def test_first_name_outside_the_greeting_is_refused_on_its_line(newsletter):
    newsletter.issue.write_text(changed({7: "  A second paragraph, {first_name}."}))
    result = build(newsletter.root)
    assert result.exit_code == 1
    assert ("issues/test-issue.yaml:7: intro: error: {first_name} is filled in only in the greeting, the line above "
            "the intro: move it there (greeting: \"Dear {first_name},\") [first-name]") in result.stderr
    newsletter.issue.write_text(changed({1: "subject: A subject line for {first_name} and friends"}))
    assert "issues/test-issue.yaml:1: subject: error: {first_name} is filled in only" in build(newsletter.root).stderr


def test_a_misspelt_trial_status_is_a_warning_with_the_registry_s_word(newsletter):
    newsletter.issue.write_text(changed({16: "    status: recruting"}))
    result = build(newsletter.root)
    assert result.exit_code == 0
    assert ("issues/test-issue.yaml:16: entries[1].status: warning: 'recruting' is not a ClinicalTrials.gov status; "
            "did you mean 'Recruiting'? [trial-status-unknown]") in result.stderr


CONFIG = NEWSLETTER_CONFIG + '\n[colours]\nbrand = "#1d4f91"\n'

TOML_MISTAKES = {
    "an unquoted value": (
        ('organisation = "Test Org"', "organisation = Test Org"),
        '2: organisation: put the text in quotes: organisation = "Test Org"'),
    "an unquoted address": (
        ('url = "https://www.facebook.com/testnews"', "url = https://www.facebook.com/testnews"),
        '9: social[1].url: put the text in quotes: url = "https://www.facebook.com/testnews"'),
    "an unclosed quote": (
        ('name = "Test News"', 'name = "Test News'),
        '1: name: the quote " that starts this value is never closed: end the value with "'),
    "a colon for '='": (
        ('name = "Test News"', 'name: "Test News"'),
        "1: name: write settings with '=', not ':': name = \"Test News\""),
    "a colon for '=', and no quotes": (
        ('name = "Test News"', "name: Test News"),
        "1: name: write settings with '=', not ':': name = \"Test News\""),
    "a colon for '=' before a number": (
        ('name = "Test News"', 'name = "Test News"\nwidth: 600'),
        "2: width: write settings with '=', not ':': width = 600"),
    "a list never closed, at the end of the file": (
        ('brand = "#1d4f91"', 'brand = "#1d4f91"\nlink = ["#1d4f91",'),
        "13: colours.link: the [ that starts this value is never closed: end it with ]"),
    "a list over several lines never closed, at the end of the file": (
        ('brand = "#1d4f91"', 'brand = "#1d4f91"\nlink = [\n  "#1d4f91",\n  "#1d4f92",'),
        "13: colours.link: the [ that starts this value is never closed: end it with ]"),
    "no '='": (
        ('name = "Test News"', 'name "Test News"'),
        "1: name: put '=' between the setting's name and its value: name = \"Test News\""),
    "curly quotes": (
        ('name = "Test News"', "name = “Test News”"),
        '1: name: use straight quotes ("), not curly ones: name = "Test News"'),
    "a key typed twice": (
        ('website =', 'name = "Again"\nwebsite ='),
        "3: name: appears twice (first on line 1): delete one of them"),
    "a table typed twice": (
        ('brand = "#1d4f91"', 'brand = "#1d4f91"\n\n[colours]\nlink = "#1d4f91"'),
        "14: colours: [colours] appears twice (first on line 11): put its settings under one [colours] and delete the other line"),
    "a setting added at the end of the file, below [colours]": (
        ('brand = "#1d4f91"', 'brand = "#1d4f91"\nsender = "Test News <news@testnews.example>"'),
        "13: colours.sender: unknown key: 'sender' is a setting of its own: move its line above the [colours] line "
        "(line 11); below it, TOML reads it as part of [colours]"),
    "an unquoted colour": (
        ('brand = "#1d4f91"', "brand = #1d4f91"),
        '12: colours.brand: a value starting with # must be in quotes (a # starts a note): brand = "#1d4f91"'),
    "a Windows path": (
        ('asset_base_url', 'logo = { src = "images\\logo.png", alt = "Logo" }\nasset_base_url'),
        "5: logo: a \\ inside double quotes starts an escape: write paths with / (\"images/logo.png\"), or put the value in single quotes"),
    "an apostrophe inside single quotes": (
        ('name = "Test News"', "name = 'Bob's News'"),
        "1: name: there is more after the closing quote: put the whole value in double quotes: name = \"Bob's News\""),
    "a long value without quotes, shown cut short": (
        ('name = "Test News"', "name = " + "Test News " * 500),
        '1: name: put the text in quotes: name = "' + ("Test News " * 8).rstrip() + '…"'),
    "Twitter, now X": (
        ('platform = "facebook"', 'platform = "twitter"'),
        "8: social[1].platform: the default theme has no 'twitter'; did you mean 'x'? (Twitter is called X now)"),
}


@pytest.mark.parametrize("change, expected", TOML_MISTAKES.values(), ids=TOML_MISTAKES.keys())
def test_each_settings_mistake_is_one_line_in_plain_words_on_its_line(newsletter, change, expected):
    old, new = change
    assert old in CONFIG
    newsletter.config.write_text(CONFIG.replace(old, new, 1), encoding="utf-8")
    result = build(newsletter.root)
    assert result.exit_code == 1
    assert result.stderr == f"digest.toml:{expected}\n"


GOOD_LAYOUTS = [
    SAMPLE_ISSUE.read_text(encoding="utf-8"),
    ISSUE,
    # entries at the start of the line, lists both ways, quotes and notes everywhere, |- and > blocks
    """\
# a note
subject: "A subject: with a colon"   # a note after a value
preheader: 'It''s a preheader'
date: 2024-05-14
greeting: "Dear {first_name},"
intro: >-
  Folded
  text.

entries:
- institution: A
  title: "B"
  summary: |-
    Text

      indented more, kept.
  # between fields
  link: https://x.example/
  conditions: [a, b]
-   institution: C
    title: D
    summary: |
      E
    link: https://x.example/2
    conditions:
      - a
      - b
    status: >
      Recruiting
outro: A plain value
  that goes on to a second line
  - and a third.
""",
]


@pytest.mark.parametrize("text", GOOD_LAYOUTS)
def test_a_file_yaml_reads_breaks_no_rule_of_the_layout(text):
    """The layout walk only runs once YAML has failed, but it must never call a good line wrong: here it walks
    files YAML reads, to their last line, and finds nothing."""
    import yaml

    yaml.safe_load(text)
    lines = text.count("\n") + 1
    assert yaml_mistake(text, lines, None, None, ISSUE_FIELDS, ENTRY_FIELDS) is None


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LINES = ISSUE.splitlines()


@st.composite
def slips(draw):
    """The sample's layout with one or two slips of the hand: a line indented more or less, a character typed
    or lost, a line lost."""
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 2))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["indent", "insert", "delete-char", "delete-line"]))
        if kind == "indent":
            shift = draw(st.integers(-3, 3))
            lines[i] = " " * max(0, len(lines[i]) - len(lines[i].lstrip(" ")) + shift) + lines[i].lstrip(" ")
        elif kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(list("\"'*&!:#\t[]{}-|>@`%") + [": ", " #"])) + lines[i][at:]
        elif kind == "delete-char" and lines[i]:
            at = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:at] + lines[i][at + 1:]
        elif len(lines) > 1:
            del lines[i]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=slips())
def test_any_slip_is_one_line_at_or_before_where_yaml_gave_up(newsletter, text):
    import yaml

    from digest import safe_yaml
    from digest.config import load_config
    from digest.exceptions import IssueError
    from digest.reader import read_issue

    newsletter.issue.write_text(text, encoding="utf-8")
    try:
        safe_yaml.compose(text)
        gave_up = None
    except yaml.MarkedYAMLError as exc:
        gave_up = (exc.problem_mark or exc.context_mark).line + 1
    try:
        read_issue(newsletter.issue, load_config(newsletter.config))
    except IssueError as exc:
        assert "\n" not in str(exc)
        if gave_up is not None:
            assert exc.line is not None and exc.line <= max(gave_up, 1)


_YAML_BITS = list(" \n\n  -:#'\"|>[]{}*&!@`%\tab=") + ["entries:", "summary: |", "  - ", "title: ", "\n    "]
_TOML_BITS = list(" \n\n=\"'[]{}#.,:\\“”ab") + ["name = ", "[colours]", "[[social]]", '"""', "'''"]


@settings(max_examples=300, deadline=None)
@given(yaml_text=st.lists(st.sampled_from(_YAML_BITS), max_size=40).map("".join),
       toml_text=st.lists(st.sampled_from(_TOML_BITS), max_size=30).map("".join))
def test_whatever_fails_to_parse_is_explained_without_a_traceback(yaml_text, toml_text):
    import re
    import tomllib

    import yaml

    from digest import safe_yaml
    from digest.mistakes import toml_mistake
    from digest.reader import syntax_error

    try:
        safe_yaml.compose(yaml_text)
    except yaml.MarkedYAMLError as exc:
        assert "\n" not in str(syntax_error(yaml_text, exc, "x.yaml"))
    except yaml.YAMLError:
        pass
    try:
        tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+)", str(exc))
        found = toml_mistake(toml_text, str(exc).split(" (at")[0], int(at.group(1)) if at else None)
        assert found is None or "\n" not in found.problem
    except RecursionError:
        pass


SECTIONS = """\
subject: A subject line that is long enough
preheader: A preheader that is long enough to pass the checks we run.
date: 2024-05-14
intro: Hello readers.
sections:
  - heading: New trials
    entries:
      - institution: Test University
        title: A trial of something
        summary: Our words.
        link: https://clinicaltrials.gov/study/NCT00000001
  - heading: Updates
    entries:
      - institution: Other University
        title: Another trial
        summary: Some words.
        link: https://clinicaltrials.gov/study/NCT00000002
"""


@pytest.mark.parametrize("old, new, expected", [
    ("        title: A trial of something", "       title: A trial of something",
     "9: sections[1].entries[1].title: indent this line like 'institution:' on line 8 (8 spaces, not 7)"),
    ("  - heading: Updates", "   - heading: Updates",
     "12: sections[2]: start this section's '- ' in the same column as the '- ' on line 6 (2 spaces, not 3)"),
    ("  - heading: Updates", "    heading: Updates",
     "12: sections[1].heading: appears twice in this section (first on line 6): if a new section starts here, put "
     "'- ' before 'heading:' as on line 6; if not, delete one of them"),
    ("    entries:\n      - institution: Other", "    entries:\n        institution: Other",
     "14: sections[2].entries: must be a list of entries, each starting with '- institution:'"),
    ("  - heading: New trials", "  - heading New trials",
     "6: sections[1].heading: put ':' after 'heading': 'heading: New trials'"),
])
def test_mistakes_in_sections_too(newsletter, old, new, expected):
    assert old in SECTIONS
    newsletter.issue.write_text(SECTIONS.replace(old, new, 1), encoding="utf-8")
    result = build(newsletter.root)
    assert result.exit_code == 1
    assert result.stderr == f"issues/test-issue.yaml:{expected}\n"
