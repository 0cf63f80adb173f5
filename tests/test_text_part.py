"""The plain-text part on a phone: no line past 78 columns but an address or a word that cannot be broken, and
then alone on its line; rules short enough not to wrap; and in the .eml, format=flowed (RFC 3676), parsed
back with the standard library."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

import pytest
from click.testing import CliRunner

import digest
from digest.cli import cli

LONG_LINK = "https://clinicaltrials.gov/study/NCT00000001?tab=results&view=record&utm_source=newsletter&utm_medium=email"
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2  # 90 letters, no space to break at
LONG_INSTITUTION = ("The Very Long Name of a Department of Rheumatology, Immunology and Pain Research at a "
                    "University Hospital Trust")

EDGES = f"""\
subject: A subject line that is long enough
preheader: A preheader that is long enough to pass the checks we run.
date: 2024-05-14
intro: |
  A first paragraph that is long enough to be wrapped over several lines of the text part, so that a
  phone's mail program can join them again to fit its own screen, as format=flowed lets it.

  From the editors: a line that starts with the word From, which mbox-minded servers would mangle.

  > A quoted sentence, long enough to be wrapped over more than one line of the text part, for the test.

  - A list item long enough to wrap onto a second line, whose hanging indentation must stay as it is.
  - {LONG_WORD}
entries:
  - institution: {LONG_INSTITUTION}
    title: A trial whose title is long enough to need two lines of the text part on any screen at all
    status: Recruiting
    summary: |
      Our words about it.
    link: {LONG_LINK}
"""


@pytest.fixture(params=["default", "plain"])
def edges(request, newsletter):
    newsletter.write_issue(EDGES)
    settings(newsletter, f'theme = "{request.param}"\nview_online = "archive-always"\n'
                         'archive_url = "https://www.testnews.example/a/very/long/path/to/the/newsletter/archive/"\n')
    return newsletter


def settings(newsletter, lines: str = "") -> None:
    config = newsletter.config.read_text().replace(
        "\n\n[[social]]", '\nsender = "Test News <news@testnews.example>"\n' + lines + "\n[[social]]", 1)
    newsletter.config.write_text(config)


def unbreakable(line: str) -> bool:
    """A line that is one token after its indentation: an address or a word `wrap` may not break."""
    return len(line.split()) == 1 or re.fullmatch(r"\s*- \S+", line) is not None


def test_no_line_past_78_columns_but_one_that_cannot_be_broken_and_it_stands_alone(edges):
    text = digest.build(edges.issue).text
    lines = text.splitlines()
    long = [line for line in lines if len(line) > 78]
    assert long and all(unbreakable(line) for line in long), long
    assert LONG_LINK in lines  # the address alone on its line, after its label
    assert lines[lines.index(LONG_LINK) - 1] == "Find out more:"
    assert "- " + LONG_WORD in lines
    assert "https://www.testnews.example/a/very/long/path/to/the/newsletter/archive/test-issue/" in lines
    assert lines[lines.index("https://www.testnews.example/a/very/long/path/to/the/newsletter/archive/test-issue/") - 1] \
        == "View this email in your browser:"
    institution = [line for line in lines if line.startswith("The Very Long Name")]
    assert institution and len(institution[0]) <= 78  # wrapped, not cut
    assert "a University Hospital Trust:" in text.replace("\n", " ")
    item = lines.index("- A list item long enough to wrap onto a second line, whose hanging")
    assert lines[item + 1] == "  indentation must stay as it is."


def test_rules_fit_a_phone(edges, sample_email):
    for text in (digest.build(edges.issue).text, sample_email.text):
        rules = [line for line in text.splitlines() if line and set(line) <= set("=-_*~#")]
        assert rules and all(len(line) <= 40 for line in rules), rules


def eml(newsletter, tmp_path):
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--eml", "--force"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "test-issue"
    raw = (folder / "email.eml").read_bytes()
    text_part = next(p for p in BytesParser(policy=policy.default).parsebytes(raw).walk() if p.get_content_type() == "text/plain")
    return raw, text_part, (folder / "email.txt").read_text(encoding="utf-8")


def unflow(body: str) -> str:
    """RFC 3676 section 4.2, as a reading mail program does it (DelSp=No): unstuff, then join each line that
    ends in a space to the next."""
    out, paragraph = [], ""
    for line in body.split("\n"):
        line = line[1:] if line.startswith(" ") else line
        if line.endswith(" ") and line != "-- ":
            paragraph += line
        else:
            out.append(paragraph + line)
            paragraph = ""
    return "\n".join(out + ([paragraph] if paragraph else []))


def test_the_eml_text_part_is_format_flowed_and_reads_back_as_the_text_part(edges, tmp_path):
    raw, part, text = eml(edges, tmp_path)
    assert part.get_param("format") == "flowed"
    assert part.get_param("delsp") in (None, "no")
    assert part["Content-Transfer-Encoding"] == "quoted-printable"
    body = part.get_content().replace("\r\n", "\n")
    assert b"=20\r\n" in raw  # quoted-printable keeps the spaces that end flowed lines, which transport strips

    # Where flowed is not understood, the lines are shown as they are: the text part, less the invisible
    # trailing spaces and the stuffing.
    undone = "\n".join((line[1:] if line.startswith(" ") else line).rstrip(" ") for line in body.split("\n"))
    assert undone == text
    assert " From the editors: a line that starts" in body  # stuffed: "From " starts a line

    # Where it is: each wrapped paragraph is one line again, to be wrapped to the screen, and nothing else moves.
    flowed = unflow(body)
    lines = flowed.split("\n")
    assert ("A first paragraph that is long enough to be wrapped over several lines of the text part, so that a "
            "phone's mail program can join them again to fit its own screen, as format=flowed lets it.") in lines
    assert f"Find out more: {LONG_LINK}" in lines
    assert "From the editors: a line that starts with the word From, which mbox-minded servers would mangle." in lines
    title = [line for line in lines if line.startswith("A trial whose title")]
    assert title == ["A trial whose title is long enough to need two lines of the text part on any screen at all"]
    assert lines[lines.index(title[0]) + 1] == "Recruiting"  # a hard break: the trial line stays its own
    assert "  indentation must stay as it is." in lines  # a list item's hanging lines are not joined into the sentence
    assert flowed.split() == text.split()  # the same words in the same order
    assert not any(line.endswith(" ") for line in lines)


def test_the_sample_s_eml_too(newsletter, tmp_path):
    from conftest import SAMPLE_ISSUE

    newsletter.write_issue(SAMPLE_ISSUE.read_text().replace("images/", "https://img.testnews.example/"))
    settings(newsletter)
    raw, part, text = eml(newsletter, tmp_path)
    body = part.get_content().replace("\r\n", "\n")
    assert "\n".join(line.rstrip(" ") for line in body.split("\n")) == text  # nothing to stuff in the sample
    assert unflow(body).split() == text.split()


def test_stuffing_and_soft_breaks_of_the_flowed_form():
    from digest.render import SOFT_BREAK, text_parts

    plain, flowed = text_parts(f"> not a quote{SOFT_BREAK}\nFrom here \n one space\n-- \nend{SOFT_BREAK}\nline")
    assert plain == "> not a quote\nFrom here\n one space\n--\nend\nline"
    assert flowed == " > not a quote \n From here\n  one space\n--\nend \nline"
    assert unflow(flowed) == "> not a quote From here\n one space\n--\nend line"
