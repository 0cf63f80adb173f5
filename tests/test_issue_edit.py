"""Adding entries to an editor's issue file: the new entries at the end of the list, every other byte kept."""

from __future__ import annotations

import os
import stat

import pytest
import yaml

from conftest import SAMPLE_ISSUE
from digest.config import load_config
from digest.exceptions import IssueError
from digest.files import write_atomically as write_bytes
from digest.issue_edit import append_entries, open_issue, render_entries


def write_atomically(path, text: str) -> None:
    # How `digest trial` saves an issue: digest.files' atomic write, with the issue's error.
    write_bytes(path, text.encode("utf-8"), IssueError)
from digest.reader import read_issue

NEW = {
    "institution": "Hôpital Universitaire — Genève",
    "title": "A trial: with a colon",
    "summary": "The study record says: “One.\n\nTwo.”",
    "link": "https://clinicaltrials.gov/study/NCT09990001",
    "nct_id": "NCT09990001",
    "status": "Recruiting",
    "phase": "Phase 2/Phase 3",
    "conditions": ["Fibromyalgia", "yes", "#1: pain"],
}

EDITED = """\
# June issue.   Comments, 'quotes' and odd spacing are the editor's and must survive.
subject:   "Low dose naltrexone is making news again"
preheader: 'Three leading institutions have launched new clinical trials of LDN.'
date: 2024-06-04
intro: |
  Hello **readers**.

entries:

  # First the VA.
  - institution: VA Boston Healthcare System   # the name readers know
    title: Low-Dose Naltrexone for Chronic Pain
    summary: >
      Folded
      text.
    link: https://clinicaltrials.gov/study/NCT03008590
    nct_id: nct03008590

  - {institution: "University of Alabama", title: ME/CFS,
     summary: Quote., link: "https://clinicaltrials.gov/ct2/show/NCT02965768"}

  - institution: University of Copenhagen
    title: Fibromyalgia
    summary: |
      A quote.

    link: https://clinicaltrials.gov/study/NCT02806440
    # logo: images/copenhagen.png     (commented out by the editor: stays with this entry)



# Closing words: this comment introduces the outro and stays before it.
outro: Thanks for reading.
"""


def _split_at(text: str, marker: str) -> tuple[str, str]:
    at = text.index(marker) + len(marker)
    return text[:at], text[at:]


def test_entries_go_after_the_last_entry_and_every_other_byte_stays(newsletter):
    path = newsletter.write_issue(EDITED)
    original = path.read_bytes()
    result = append_entries(open_issue(path), [NEW])
    write_atomically(path, result)
    after = path.read_bytes()

    prefix, suffix = _split_at(original.decode(), "(commented out by the editor: stays with this entry)\n")
    block = render_entries([NEW], dash=2, indent=4, gap=True)
    assert after == (prefix + block + suffix).encode()
    assert after.startswith(prefix.encode()) and after.endswith(suffix.encode())
    assert len(after) == len(original) + len(block.encode())

    issue = read_issue(path, load_config(newsletter.config))
    assert [e.institution for e in issue.entries] == [
        "VA Boston Healthcare System", "University of Alabama", "University of Copenhagen", "Hôpital Universitaire — Genève"]
    new = issue.entries[-1]
    assert (new.title, new.nct_id, new.status, new.phase) == ("A trial: with a colon", "NCT09990001", "Recruiting", "Phase 2/Phase 3")
    assert new.conditions == ("Fibromyalgia", "yes", "#1: pain")
    assert new.summary.plain == "The study record says: “One.\n\nTwo.”"
    assert new.line == prefix.count("\n") + 2  # after the blank line that separates entries here
    assert issue.outro.plain == "Thanks for reading."


def test_the_sample_issue_gets_its_entries_at_the_end(tmp_path):
    path = tmp_path / "issue.yaml"
    path.write_bytes(SAMPLE_ISSUE.read_bytes())
    original = path.read_bytes()
    write_atomically(path, append_entries(open_issue(path), [NEW, {**NEW, "nct_id": "NCT09990002"}]))
    after = path.read_bytes()
    assert after.startswith(original)
    assert after[len(original):].decode() == render_entries([NEW, {**NEW, "nct_id": "NCT09990002"}], gap=True)


def test_trials_already_in_the_issue_are_found_by_id_and_by_link(newsletter):
    issue = open_issue(newsletter.write_issue(EDITED))
    assert issue.trials == {"NCT03008590": 11, "NCT02965768": 19, "NCT02806440": 22}


LAYOUTS = {
    "no indent before the dash": "entries:\n- institution: A\n  title: B\n  summary: C\n  link: https://testnews.example/\noutro: D\n",
    "deep indent": "entries:\n    -   institution: A\n        title: B\n        summary: C\n        link: https://testnews.example/\n",
    "no line break at the end": "entries:\n  - institution: A\n    title: B\n    summary: C\n    link: https://testnews.example/",
    "windows line breaks": "entries:\r\n  - institution: A\r\n    title: B\r\n    summary: |\r\n      C\r\n\r\n      D\r\n    link: https://testnews.example/\r\noutro: E\r\n",
    "byte order mark": "\ufeffentries:\n  - institution: A\n    title: B\n    summary: C\n    link: https://testnews.example/\n",
    "empty list": "entries:\n\n# a comment after\noutro: E\n",
    "empty list with a comment": "entries:   # trials go here\noutro: E\n",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(tmp_path, layout):
    head = "subject: A subject\npreheader: A preheader\ndate: 2024-06-04\nintro: Hi.\n"
    text = head.replace("\n", "\r\n") + LAYOUTS[layout] if "windows" in layout else LAYOUTS[layout].replace("entries:", head + "entries:", 1)
    path = tmp_path / "issue.yaml"
    path.write_bytes(text.encode())
    result = append_entries(open_issue(path), [NEW])
    old = yaml.safe_load(text.lstrip("\ufeff"))
    new = yaml.safe_load(result.lstrip("\ufeff"))
    assert new["entries"][:-1] == (old["entries"] or [])
    assert new["entries"][-1]["nct_id"] == "NCT09990001"
    assert {k: v for k, v in new.items() if k != "entries"} == {k: v for k, v in old.items() if k != "entries"}
    # Only added: remove the new lines and the file is what it was.
    added = len(result) - len(text)
    assert added > 0
    start = len(os.path.commonprefix([text, result]))
    assert result[:start] + result[start + added:] == text
    if "windows" in layout:
        assert "\n" not in result.replace("\r\n", "")


@pytest.mark.parametrize(
    "entries",
    [
        "entries: []\n",
        "entries: [{institution: A, title: B, summary: C, link: 'https://testnews.example/'}]\n",
        "entries: ~\n",
        "entries:\n  - institution: A\n    title: B\n    link: https://testnews.example/\n    summary: |+\n      C\n\n",
    ],
    ids=["flow empty", "flow list", "null", "keep-chomped block at the end"],
)
def test_a_layout_that_cannot_be_added_to_safely_is_refused_and_left_alone(tmp_path, entries):
    path = tmp_path / "issue.yaml"
    path.write_text("subject: A\npreheader: B\ndate: 2024-06-04\nintro: Hi.\n" + entries, encoding="utf-8")
    with pytest.raises(IssueError) as info:
        append_entries(open_issue(path), [NEW])
    message = info.value.__str__()
    assert "issue.yaml:5: entries: " in message and message.endswith("nothing was changed (run without --issue to print the entries and paste them in)")


def test_a_broken_issue_file_is_reported_before_anything_is_fetched(tmp_path):
    path = tmp_path / "issue.yaml"
    path.write_text("subject: A\nentries:\n  - institution: A\n   title: B\n", encoding="utf-8")
    with pytest.raises(IssueError, match=r"issue.yaml:4: entries\[1\].title: indent this line like 'institution:' on line 3 \(4 spaces, not 3\); fix it before adding trials"):
        open_issue(path)
    path.write_text("subject: A\n", encoding="utf-8")
    with pytest.raises(IssueError, match="has no 'entries:' list to add the trials to"):
        open_issue(path)


@pytest.mark.parametrize(
    "value",
    ["plain words", "yes", "null", "2024", "a: b", "#tag", "- dash", '"quoted"', "'single'", "{x}", "x #y", "@at",
     "ends with colon:", " spaced ", "Université de Genève", "[list]", "a\\b", "*star", "&anchor", "!tag", "%pct", "`tick`", "|", ">"],
)
def test_every_value_reads_back_as_written(value):
    entry = {**NEW, "institution": value, "title": value, "conditions": [value]}
    data = yaml.safe_load(render_entries([entry], 0, 2))
    # The reader takes scalars as typed text; so does this check, through the composed nodes.
    node = yaml.compose(render_entries([entry], 0, 2)).value[0]
    fields = {k.value: v for k, v in node.value}
    assert fields["institution"].value == value and fields["title"].value == value
    assert fields["conditions"].value[0].value == value
    assert data[0]["link"] == NEW["link"]


def test_the_write_is_atomic_and_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "issue.yaml"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o640)
    write_atomically(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["issue.yaml"]  # no temporary file left behind


def test_a_file_that_cannot_be_replaced_is_one_line_and_nothing_is_left_behind(tmp_path):
    path = tmp_path / "issue.yaml"
    path.mkdir()  # os.replace cannot put a file over a folder, even for root
    with pytest.raises(IssueError, match="issue.yaml: cannot be written"):
        write_atomically(path, "new")
    assert os.listdir(tmp_path) == ["issue.yaml"] and path.is_dir()
