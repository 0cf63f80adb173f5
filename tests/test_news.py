"""`digest trial --new` and `--updates`: what is new since the last issue, and what became of the trials already
covered, against a real local server that searches, pages and serves records as ClinicalTrials.gov API v2 does."""

from __future__ import annotations

import json
import os
import re
import sys
import time

import pytest
import yaml
from click.testing import CliRunner

import digest
from conftest import REPO, on_a_terminal
from ctgov_server import Registry, make_study
from digest.cli import cli
from digest.config import load_config
from digest.exceptions import IssueError
from digest.reader import read_issue

MAY = """\
subject: May
preheader: The May issue.
date: 2024-05-01
intro: Hello.
entries:
  - institution: One
    title: Naltrexone one
    summary: Words.
    link: https://clinicaltrials.gov/study/NCT01000001
    status: Recruiting
    phase: Phase 2
  - institution: Two
    title: Naltrexone two
    summary: Words.
    link: https://clinicaltrials.gov/study/NCT01000002
    nct_id: NCT01000002
    status: Recruiting
"""

JUNE = """\
subject: June
preheader: The June issue.
date: 2024-06-04
intro: Also see [the fifth](https://clinicaltrials.gov/ct2/show/NCT01000005).
entries: []
sections:
  - heading: Updates on trials we covered
    entries:
      - institution: One
        title: Naltrexone one, again
        summary: Words.
        link: https://clinicaltrials.gov/study/NCT01000001
        nct_id: NCT01000001
        status: Active, not recruiting
"""

STUDIES = [
    # featured in May and June; since June: completed, results posted
    make_study("NCT01000001", "2023-01-05", "2024-07-01", status="COMPLETED", title="Naltrexone one", results="2024-07-01"),
    make_study("NCT01000002", "2023-02-01", "2024-01-10", title="Naltrexone two"),  # featured in May; nothing since
    make_study("NCT01000003", "2024-06-10", "2024-06-12", title="Naltrexone three, first posted since June"),
    make_study("NCT01000004", "2020-03-01", "2024-06-04", title="Naltrexone four, updated on the very day", status="ACTIVE_NOT_RECRUITING"),
    make_study("NCT01000005", "2024-06-20", "2024-06-20", title="Naltrexone five, linked from June's intro"),
    make_study("NCT01000006", "2019-01-01", "2023-03-01", title="Naltrexone six, untouched since 2023"),
    make_study("NCT01000007", "2024-07-02", "2024-07-03", title="Naltrexone seven, newest", status="NOT_YET_RECRUITING"),
    make_study("NCT01000008", "2024-06-03", "2024-06-05", title="Naltrexone eight, posted the day before, updated after"),
]
NEW_ROWS = [("NCT01000007", "new"), ("NCT01000003", "new"), ("NCT01000008", "updated"), ("NCT01000004", "updated")]


@pytest.fixture
def news(newsletter, monkeypatch, tmp_path):
    """The conftest newsletter (its test-issue.yaml, dated 2024-05-14, links NCT00000001) with a May and a
    June issue, and a server that holds the studies, two to a page."""
    (newsletter.root / "issues" / "2024-05-01-may.yaml").write_text(MAY, encoding="utf-8")
    (newsletter.root / "issues" / "2024-06-04-june.yaml").write_text(JUNE, encoding="utf-8")
    monkeypatch.chdir(newsletter.root)
    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    newsletter.cache = tmp_path / "cache" / "ctgov"
    return newsletter


@pytest.fixture
def server(monkeypatch):
    with Registry(page_max=2) as registry:
        registry.add(*STUDIES)
        monkeypatch.setenv("DIGEST_CTGOV_URL", registry.url)
        yield registry


def run(*args):
    return CliRunner().invoke(cli, ["trial", *args], catch_exceptions=False)


def rows(stdout: str) -> list[tuple[str, str]]:
    lines = stdout.splitlines()
    assert lines[0].split() == ["id", "first", "posted", "last", "updated", "status", "sponsor", "title", "why"]
    return [(line.split()[0], line.split()[-1]) for line in lines[1:]]


def age(folder, days: float) -> None:
    """Make every saved copy `days` old."""
    then = time.time() - days * 86400
    for path in folder.rglob("*.json"):
        os.utime(path, (then, then))


# --- --new ----------------------------------------------------------------------------------------------------

def test_new_lists_what_was_first_posted_or_updated_since_the_newest_issue_less_what_any_issue_has(news, server):
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == NEW_ROWS
    assert "NCT01000004  2020-03-01    2024-06-04    Active, not recruiting   VA Office of Research and Dev…  Naltrexone four, updated on the very day" in result.stdout
    assert result.stderr == ("2 new and 2 updated since 2024-06-04 (the date of issues/2024-06-04-june.yaml, the newest "
                             "issue); 2 more already in an issue. Add them with --issue FILE\n")
    # Asked of the API: the words, the dates, the fields; and every page, each through the token of the one before.
    searches = server.searches()
    assert len(searches) == 3  # 6 studies updated since 4 June, two to a page
    assert {q["filter.advanced"][0] for q in searches} == {"AREA[LastUpdatePostDate]RANGE[2024-06-04,MAX]"}
    assert {q["query.term"][0] for q in searches} == {"naltrexone"}
    assert "pageToken" not in searches[0] and [q["pageToken"][0].split("-")[1] for q in searches[1:]] == ["2", "4"]
    assert set(searches[0]["fields"][0].split(",")) >= {"NCTId", "StudyFirstPostDate", "LastUpdatePostDate", "LeadSponsorName"}


def test_a_server_that_ignores_the_date_filter_is_checked_here(news, monkeypatch):
    with Registry(page_max=3, ignore_dates=True) as lax:
        lax.add(*STUDIES)
        monkeypatch.setenv("DIGEST_CTGOV_URL", lax.url)
        result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == NEW_ROWS  # NCT01000002 and NCT01000006 came back, and were not listed
    assert len(lax.searches()) == 3  # all 8, three to a page


def test_since_status_and_json(news, server):
    result = run("--search", "naltrexone", "--new", "--since", "2024-06-05", "--status", "recruiting,not yet recruiting", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(t["nct_id"], t["why"]) for t in data["trials"]] == [("NCT01000007", "new"), ("NCT01000003", "new"), ("NCT01000008", "updated")]
    assert data["trials"][0] == {"nct_id": "NCT01000007", "first_posted": "2024-07-02", "last_updated": "2024-07-03",
                                 "status": "Not yet recruiting", "sponsor": "VA Office of Research and Development",
                                 "title": "Naltrexone seven, newest", "why": "new"}
    assert (data["since"], data["covered"], data["stale"]) == ("2024-06-05", 1, [])
    assert server.searches()[0]["filter.overallStatus"] == ["RECRUITING,NOT_YET_RECRUITING"]
    assert server.searches()[0]["filter.advanced"] == ["AREA[LastUpdatePostDate]RANGE[2024-06-05,MAX]"]


def test_new_trials_become_entries_of_the_issue_and_a_second_run_finds_nothing_new(news, server):
    issue = news.issue  # dated 2024-05-14: the June issue still dates what is new
    before = issue.read_text(encoding="utf-8")
    result = run("--search", "naltrexone", "--new", "--issue", str(issue))
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == NEW_ROWS
    assert result.stderr.splitlines()[-4:] == [f"Added {i} (VA Office of Research and Development) to {issue}" for i, _ in NEW_ROWS]
    after = issue.read_text(encoding="utf-8")
    assert after.startswith(before)
    read = read_issue(issue, load_config(news.config))
    assert [e.nct_id for e in read.entries] == [None, *(i for i, _ in NEW_ROWS)]
    assert read.entries[1].summary.plain.startswith("The study record says: “Over 100 million Americans")
    assert digest.build(issue).ok

    requests = len(server.requests)
    again = run("--search", "naltrexone", "--new", "--issue", str(issue))
    assert again.exit_code == 0 and again.stdout == ""
    assert again.stderr == ("no new trials since 2024-06-04 (the date of issues/2024-06-04-june.yaml, the newest issue): "
                            "of 6 studies found, 6 are already in an issue\n")
    assert issue.read_text(encoding="utf-8") == after
    assert len(server.requests) == requests  # every page from the copies saved a moment ago


def test_a_trial_the_issue_being_written_links_to_is_not_new_for_it(news, server):
    # The docs: --new leaves out every trial an issue names, by a link anywhere in it; the issue given with
    # --issue was left out of that, and a trial its intro links to was added to it as an entry.
    issue = news.issue
    issue.write_text(issue.read_text(encoding="utf-8").replace(
        "Hello **readers**.", "Hello **readers**. See [the third](https://clinicaltrials.gov/study/NCT01000003)."),
        encoding="utf-8")
    result = run("--search", "naltrexone", "--new", "--issue", str(issue))
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == [row for row in NEW_ROWS if row[0] != "NCT01000003"]
    assert "NCT01000003" not in [e.nct_id for e in read_issue(issue, load_config(news.config)).entries]


def test_a_study_of_the_search_answer_without_a_proper_id_is_left_out_not_fetched(news, server):
    # Its id became a path: '../../outside/pwned' was asked for, and its answer written outside the cache.
    server.add(make_study("../../../outside/pwned", "2024-06-11", "2024-06-11", title="Naltrexone elsewhere"))
    result = run("--search", "naltrexone", "--new", "--issue", str(news.issue))
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == NEW_ROWS
    assert "warning: ClinicalTrials.gov's answer held 1 study without an id like NCT03008590: left out" in result.stderr
    assert not any("outside" in path for path in server.paths())
    assert not (news.cache.parent / "outside").exists() and not (news.root / "outside").exists()


def test_a_study_link_in_other_digits_is_no_trial_and_no_traceback(news, server):
    (news.root / "issues" / "2024-05-01-may.yaml").write_text(
        MAY.replace("study/NCT01000001", "study/NCT０１０００００１"), encoding="utf-8")
    result = run("--updates")
    assert result.exit_code == 0, result.output
    assert not any("０" in path for path in server.paths())


def test_an_nct_id_that_is_no_id_stops_updates_before_any_request(news, server):
    (news.root / "issues" / "2024-05-01-may.yaml").write_text(
        MAY.replace("nct_id: NCT01000002", "nct_id: ../../elsewhere/NCT01000002"), encoding="utf-8")
    result = run("--updates")
    assert result.exit_code == 1
    assert result.stderr == ("issues/2024-05-01-may.yaml:16: entries[2].nct_id: '../../ELSEWHERE/NCT01000002' is not a "
                             "ClinicalTrials.gov id like NCT03008590\n")
    assert server.requests == []


def test_new_entries_can_go_into_a_section(news, server):
    result = run("--search", "naltrexone", "--new", "--since", "2024-07-01", "--issue", str(news.issue), "--section", "New trials")
    assert result.exit_code == 0, result.output
    read = read_issue(news.issue, load_config(news.config))
    assert [(s.heading, [e.nct_id for e in s.entries]) for s in read.sections] == [(None, [None]), ("New trials", ["NCT01000007"])]


def test_an_update_exactly_on_the_day_counts_and_the_day_before_does_not(news, server):
    result = run("--search", "naltrexone", "--new", "--since", "2024-06-04", "--format", "json")
    assert ("NCT01000004", "updated") in [(t["nct_id"], t["why"]) for t in json.loads(result.stdout)["trials"]]
    result = run("--search", "naltrexone", "--new", "--since", "2024-06-05", "--format", "json")
    assert "NCT01000004" not in result.stdout


@pytest.mark.parametrize("since", ["06/04/2024", "2024-6-4", "20240604", "2024-02-30", "yesterday"])
def test_a_date_in_another_format_is_one_line_before_any_request(news, server, since):
    result = run("--search", "naltrexone", "--new", "--since", since)
    assert result.exit_code == 2  # a value typed on the command line: usage
    assert result.stderr == f"--since: {since!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-06-04\n"
    assert server.requests == []


def test_new_without_issues_to_date_from_asks_for_since(news, server):
    for path in (news.root / "issues").glob("*.yaml"):
        path.unlink()
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 1
    assert result.stderr == "--new: no issues in issues/ to count from: say since when with --since YYYY-MM-DD\n"
    assert server.requests == []


def test_a_search_that_finds_nothing_is_an_error_and_nothing_new_is_not(news, server):
    before = news.issue.read_bytes()
    result = run("--search", "nothing like this", "--new", "--issue", str(news.issue))
    assert result.exit_code == 1
    assert result.stderr == "no studies on ClinicalTrials.gov match 'nothing like this'\n"
    assert server.searches()[-1]["pageSize"] == ["1"] and "filter.advanced" not in server.searches()[-1]
    result = run("--search", "naltrexone", "--new", "--since", "2030-01-01", "--issue", str(news.issue))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == "no new trials since 2030-01-01 (given with --since): of 0 studies found, 0 are already in an issue\n"
    assert news.issue.read_bytes() == before


def test_a_page_token_that_comes_back_is_one_line_and_the_issue_is_untouched(news, server):
    page = {"totalCount": 9, "studies": [make_study("NCT01000003", "2024-06-10", "2024-06-12")], "nextPageToken": "same"}
    server.queue("/api/v2/studies", 200, page)
    before = news.issue.read_bytes()
    result = run("--search", "naltrexone", "--new", "--issue", str(news.issue))
    assert result.exit_code == 1
    assert result.stderr == ("ClinicalTrials.gov sent the same page token twice ('same', after page 2): "
                             "the search would go round for ever; try again later\n")
    assert len(server.searches()) == 2 and news.issue.read_bytes() == before
    # Trying again later, as the line says, asks again: the pages of the failed search were not kept.
    server.queued.clear()
    again = run("--search", "naltrexone", "--new")
    assert again.exit_code == 0, again.output
    assert rows(again.stdout) == NEW_ROWS and len(server.searches()) == 5


def test_a_broken_page_is_one_line_and_the_issue_is_untouched(news, server):
    first = {"studies": [make_study("NCT01000003", "2024-06-10", "2024-06-12")], "nextPageToken": "next"}
    server.queue("/api/v2/studies", 200, first)
    server.queue("/api/v2/studies", 200, '{"studies": [{"protocolSection": ')
    before = news.issue.read_bytes()
    result = run("--search", "naltrexone", "--new", "--issue", str(news.issue))
    assert result.exit_code == 1
    assert result.stderr == "ClinicalTrials.gov sent page 2 of the search broken (not a list of studies); try again later\n"
    assert news.issue.read_bytes() == before


def test_offline_the_saved_pages_answer_with_a_word_that_they_may_be_stale(news, server):
    first = run("--search", "naltrexone", "--new")
    age(news.cache, 2)  # older than a day: fetched again when online
    server.__exit__()
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 0, result.output
    assert result.stdout == first.stdout
    saved = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * 86400))
    assert result.stderr.startswith(f"warning: ClinicalTrials.gov could not be reached, so 3 of the answers are copies saved "
                                    f"earlier (the oldest on {saved}): these results may be stale; run again when online\n")


def test_offline_without_saved_copies_is_one_line(news, server):
    server.__exit__()
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 1
    assert result.stderr == f"cannot reach ClinicalTrials.gov ({server.url}): Connection refused; check the internet connection\n"


def test_a_terminal_sees_the_pages_and_the_studies_arrive(news, server):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "digest", "trial", "--search", "naltrexone", "--new", "--issue", str(news.issue)]
    seen = on_a_terminal(command, env=env, cwd=news.root)
    assert re.search(rb"Searching ClinicalTrials.gov +\[#+\] +100%", seen)
    assert re.search(rb"Fetching from ClinicalTrials.gov +\[#+\] +100%", seen)


# --- --updates ------------------------------------------------------------------------------------------------

def test_updates_say_what_changed_since_the_issue_that_featured_each_trial(news, server):
    result = run("--updates")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("NCT01000001  status: Active, not recruiting → Completed · results posted 2024-07-01 · record updated "
                             "2024-07-01  (issues/2024-06-04-june.yaml:9, 2024-06-04)\n")
    assert result.stderr == ("warning: issues/test-issue.yaml:7: no study NCT00000001 on ClinicalTrials.gov\n"
                             "1 of the 3 trials the issues have featured changed (since the issue that featured each)\n")
    assert sorted(p for p in server.paths() if p != "/api/v2/studies") == [
        "/api/v2/studies/NCT00000001", "/api/v2/studies/NCT01000001", "/api/v2/studies/NCT01000002"]


def test_updates_as_json(news, server):
    result = run("--updates", "--format", "json")
    data = json.loads(result.stdout)
    assert (data["checked"], data["since"], data["stale"]) == (3, None, [])
    assert data["changed"] == [{
        "nct_id": "NCT01000001", "title": "Naltrexone one",
        "featured": {"file": "issues/2024-06-04-june.yaml", "line": 9, "field": "sections[1].entries[1]", "date": "2024-06-04"},
        "changes": [{"what": "status", "was": "Active, not recruiting", "now": "Completed"},
                    {"what": "results", "was": None, "now": "2024-07-01"},
                    {"what": "updated", "was": None, "now": "2024-07-01"}],
    }]


def test_updates_since_a_day_look_only_at_records_updated_since(news, server):
    result = run("--updates", "--since", "2024-07-02")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.endswith("no news of the 3 trials the issues have featured (since the issue that featured each, "
                                  "records updated on or after 2024-07-02)\n")


def test_enrolment_and_phase_are_compared_with_the_copy_saved_on_the_issue_s_day(news, monkeypatch):
    # The June issue's trial, as the registry had it then, fetched then: the copy is kept.
    then = make_study("NCT01000001", "2023-01-05", "2024-05-20", status="RECRUITING", phases=("PHASE2",), enrolment=(60, "ESTIMATED"))
    now = make_study("NCT01000001", "2023-01-05", "2024-08-01", status="ACTIVE_NOT_RECRUITING", phases=("PHASE3",), enrolment=(29, "ACTUAL"))
    (news.root / "issues" / "2024-05-01-may.yaml").unlink()
    news.issue.unlink()
    june = news.root / "issues" / "2024-06-04-june.yaml"
    june.write_text(JUNE.replace("        status: Active, not recruiting\n", ""), encoding="utf-8")  # the entry says neither
    with Registry() as registry:
        monkeypatch.setenv("DIGEST_CTGOV_URL", registry.url)
        registry.add(then)
        assert run("--updates").stdout == ""  # nothing since June: and the record of that day is now saved
        age(news.cache, 1)
        registry.add(now)
        result = run("--updates")
    assert result.stdout == ("NCT01000001  status: Recruiting → Active, not recruiting · phase: Phase 2 → Phase 3 · enrolment: "
                             "60 (estimated) → 29 (actual) · record updated 2024-08-01  (issues/2024-06-04-june.yaml:9, 2024-06-04)\n")
    assert (news.cache / "versions" / "NCT01000001" / "2024-05-20.json").is_file()


def test_with_an_issue_the_news_become_an_updates_section_and_a_mere_update_is_left_out(news, server):
    server.add(make_study("NCT01000002", "2023-02-01", "2024-06-20", title="Naltrexone two"))  # touched, nothing a reader sees
    before = news.issue.read_text(encoding="utf-8")
    result = run("--updates", "--issue", str(news.issue))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "NCT01000002  record updated 2024-06-20  (issues/2024-05-01-may.yaml:12, 2024-05-01)",
        "NCT01000001  status: Active, not recruiting → Completed · results posted 2024-07-01 · record updated 2024-07-01  "
        "(issues/2024-06-04-june.yaml:9, 2024-06-04)",
    ]
    assert result.stderr.splitlines()[-3:] == [
        "2 of the 2 trials the issues have featured changed (since the issue that featured each)",
        "1 of them only had their record updated: not added (nothing a reader would notice)",
        f"Added NCT01000001 (One) to {news.issue} (section 'Updates on trials we covered')",
    ]
    assert news.issue.read_text(encoding="utf-8").startswith(before)
    read = read_issue(news.issue, load_config(news.config))
    (section,) = read.sections[1:]
    assert section.heading == "Updates on trials we covered"
    (entry,) = section.entries
    assert (entry.nct_id, entry.status, entry.field) == ("NCT01000001", "Completed", "sections[1].entries[1]")
    assert (entry.institution, entry.title) == ("One", "Naltrexone one, again")  # as the newsletter named it
    assert entry.summary.plain == ("Since we covered this trial on 4 June 2024, its status changed from Active, not recruiting "
                                   "to Completed; its results were posted on 1 July 2024.")
    assert digest.build(news.issue).ok


def test_updates_offline_come_from_the_saved_copies_with_a_warning(news, server):
    run("--updates")
    age(news.cache, 3)
    server.__exit__()
    result = run("--updates")
    assert result.exit_code == 0
    assert result.stdout.startswith("NCT01000001  status: Active, not recruiting → Completed")
    assert result.stderr.splitlines()[:2] == [
        f"warning: issues/test-issue.yaml:7: cannot reach ClinicalTrials.gov ({server.url}): Connection refused; check the internet connection",
        "warning: ClinicalTrials.gov could not be reached, so 2 of the answers are copies saved earlier (the oldest on "
        f"{time.strftime('%Y-%m-%d', time.localtime(time.time() - 3 * 86400))}): these results may be stale; run again when online",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--updates", "NCT01000001"], "--updates follows every trial the issues have featured: give no ids and no --search"),
        (["--new"], "--new lists the new trials of a search: add --search WORDS"),
        (["NCT01000001", "--since", "2024-01-01"], "--since: only dates --new and --updates"),
        (["NCT01000001", "--format", "json"], "--format: json is for --new and --updates"),
        (["--search", "x", "--new", "--limit", "5"], "--limit: shortens a plain --search; --new lists every new trial"),
        (["NCT01000001", "--section", "New"], "--section: names a section of the issue given with --issue"),
    ],
)
def test_options_that_do_not_go_together_are_one_line(news, server, args, message):
    result = run(*args)
    assert result.exit_code == 2 and result.stderr == message + "\n"  # usage
    assert server.requests == []


def test_an_issue_that_cannot_be_read_stops_before_any_request(news, server):
    (news.root / "issues" / "2024-05-01-may.yaml").write_text(MAY.replace("date: 2024-05-01", "date: May 2024"), encoding="utf-8")
    result = run("--updates")
    assert result.exit_code == 1
    assert result.stderr == "issues/2024-05-01-may.yaml:3: date: is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14\n"
    (news.root / "issues" / "2024-05-01-may.yaml").write_text(MAY.replace("  - institution: Two", " - institution: Two"), encoding="utf-8")
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 1 and result.stderr == (
        "issues/2024-05-01-may.yaml:12: entries[2]: start this entry's '- ' in the same column as the '- ' on line 6 "
        "(2 spaces, not 1); digest reads every issue to know which trials the newsletter has covered\n")
    assert server.requests == []


def test_read_covered_knows_each_trial_s_entries_and_every_link(news):
    from digest.covered import read_covered
    from digest.files import issue_files

    covered = read_covered(issue_files(news.root / "issues"))
    assert [(f.path.name, f.field, f.status) for f in covered.featured["NCT01000001"]] == [
        ("2024-05-01-may.yaml", "entries[1]", "Recruiting"), ("2024-06-04-june.yaml", "sections[1].entries[1]", "Active, not recruiting")]
    assert covered.named == {"NCT00000001", "NCT01000001", "NCT01000002", "NCT01000005"}
    assert covered.newest[1].isoformat() == "2024-06-04"
    with pytest.raises(IssueError):
        read_covered([news.root / "issues" / "missing.yaml"])
    assert yaml.safe_load(JUNE)["sections"][0]["heading"] == "Updates on trials we covered"


def test_an_issue_of_sections_only_says_so_before_any_request(news, server):
    news.write_issue("subject: S\ndate: 2024-07-01\nsections:\n  - heading: New trials\n    entries:\n")
    result = run("--search", "naltrexone", "--new", "--issue", str(news.issue))
    assert result.exit_code == 1
    assert result.stderr == ("issues/test-issue.yaml: has no 'entries:' of its own, only sections: say which one the trials go in "
                             "with --section NAME (the sections: 'New trials')\n")
    assert server.requests == []
    assert run("--updates", "--issue", str(news.issue)).exit_code == 0  # an updates section is made


@pytest.mark.parametrize("limit, message", [("MAX_FOUND", "more than 3 studies match 'naltrexone'"),
                                            ("MAX_PAGES", "more than 3 pages of studies match 'naltrexone'")])
def test_a_search_too_broad_to_read_through_stops_with_one_line(news, server, monkeypatch, limit, message):
    from digest import ctgov

    monkeypatch.setattr(ctgov, limit, 3)
    monkeypatch.setattr(ctgov, "PAGE_SIZE", 1)
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 1
    assert result.stderr == f"{message}: narrow the search (more words, or --status)\n"
    assert len(server.searches()) == 4


def test_a_page_token_that_is_not_text_is_named_as_such(news, server):
    page = {"totalCount": 9, "studies": [make_study("NCT01000003", "2024-06-10", "2024-06-12")], "nextPageToken": 5}
    server.queue("/api/v2/studies", 200, page)
    result = run("--search", "naltrexone", "--new")
    assert result.exit_code == 1
    assert result.stderr == "ClinicalTrials.gov sent a page token that is not text ('5', after page 1): try again later\n"


@pytest.mark.parametrize("count", [True, "29", 2.5, None])
def test_an_enrolment_count_that_is_not_a_whole_number_is_not_shown(count):
    from digest.ctgov import facts

    study = make_study("NCT01000003", "2024-06-10", "2024-06-12")
    study["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = count  # JSON's true is a Python int
    assert facts(study).enrolment == ""
