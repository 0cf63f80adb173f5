"""`digest trial`: the command, end to end, against a real local server shaped like ClinicalTrials.gov."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from conftest import REPO, on_a_terminal
from ctgov_server import FIXTURES, Registry, fixture
from digest.cli import cli
import digest
from digest.config import load_config
from digest.inline import MERGE_TAG
from digest.reader import read_issue

SAMPLE_IDS = ["NCT03008590", "NCT02965768", "NCT02806440"]


@pytest.fixture
def registry(monkeypatch, tmp_path):
    with Registry() as server:
        monkeypatch.setenv("DIGEST_CTGOV_URL", server.url)
        monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path / "cache"))
        yield server


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_three_trials_are_added_and_the_issue_builds(newsletter, registry):
    before = newsletter.issue.read_bytes()
    result = run("trial", *SAMPLE_IDS, "--issue", str(newsletter.issue))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Added NCT03008590 (VA Office of Research and Development) to {newsletter.issue}",
        f"Added NCT02965768 (University of Alabama at Birmingham) to {newsletter.issue}",
        f"Added NCT02806440 (Rigshospitalet, Denmark) to {newsletter.issue}",
    ]
    after = newsletter.issue.read_bytes()
    assert after.startswith(before)

    issue = read_issue(newsletter.issue, load_config(newsletter.config))
    assert [e.nct_id for e in issue.entries] == [None, *SAMPLE_IDS]
    va = issue.entries[1]
    assert (va.institution, va.title) == ("VA Office of Research and Development", "Low Dose Naltrexone for Chronic Pain From Arthritis")
    assert (va.status, va.phase, va.link) == ("Completed", "Phase 2", "https://clinicaltrials.gov/study/NCT03008590")
    assert va.conditions == ("Osteoarthritis", "Arthritis, Rheumatoid", "Arthritis, Psoriatic")
    assert va.summary.plain.startswith("The study record says: “Over 100 million Americans report chronic pain.")

    email = digest.build(newsletter.issue)
    assert "Phase 2 · Completed · NCT03008590" in email.html
    assert "Withdrawn · NCT02965768" in email.html
    assert "Phase 4 · Completed · NCT02806440" in email.text


def test_a_trial_already_in_the_issue_is_a_warning_and_changes_nothing(newsletter, registry):
    assert run("trial", "NCT03008590", "--issue", str(newsletter.issue)).exit_code == 0
    before = newsletter.issue.read_bytes()
    stamp = newsletter.issue.stat().st_mtime_ns
    requests = len(registry.requests)
    result = run("trial", "nct03008590", "--issue", str(newsletter.issue))
    assert result.exit_code == 0
    assert result.stderr == f"warning: NCT03008590 is already in {newsletter.issue} (the entry on line 15): not added again\n"
    assert newsletter.issue.read_bytes() == before and newsletter.issue.stat().st_mtime_ns == stamp
    assert len(registry.requests) == requests  # nothing fetched for it


def test_a_trial_linked_in_the_issue_is_not_added_again(newsletter, registry):
    newsletter.issue.write_text(newsletter.issue.read_text(encoding="utf-8").replace("NCT00000001", "NCT02806440"), encoding="utf-8")
    result = run("trial", "NCT02806440", "NCT03008590", "--issue", str(newsletter.issue))
    assert result.exit_code == 0
    assert "warning: NCT02806440 is already in" in result.stderr and "Added NCT03008590" in result.stderr
    assert registry.paths() == ["/api/v2/studies/NCT03008590"]


def test_without_an_issue_the_entries_are_printed_ready_to_paste(newsletter, registry):
    result = run("trial", "NCT02965768", "NCT02806440")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("\n  - institution: University of Alabama at Birmingham\n    title: Immune Effects")
    newsletter.issue.write_text(newsletter.issue.read_text(encoding="utf-8") + result.stdout, encoding="utf-8")
    issue = read_issue(newsletter.issue, load_config(newsletter.config))
    assert [e.nct_id for e in issue.entries] == [None, "NCT02965768", "NCT02806440"]


def test_ids_from_a_file_and_a_bad_id_stops_before_any_request(newsletter, registry, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("# June\nNCT03008590\n\nnct02965768   # Alabama\n", encoding="utf-8")
    result = run("trial", "--from-file", str(ids), "--issue", str(newsletter.issue))
    assert result.exit_code == 0 and result.stderr.count("Added") == 2

    before = newsletter.issue.read_bytes()
    registry.requests.clear()
    result = run("trial", "NCT02806440", "NCT1234", "--issue", str(newsletter.issue))
    assert result.exit_code == 2  # a value typed on the command line: usage
    assert result.stderr == "NCT id: 'NCT1234' is not a ClinicalTrials.gov id like NCT03008590 (NCT and 8 digits)\n"
    assert registry.requests == [] and newsletter.issue.read_bytes() == before


def test_one_missing_study_means_nothing_is_added(newsletter, registry):
    before = newsletter.issue.read_bytes()
    result = run("trial", "NCT03008590", "NCT09999999", "--issue", str(newsletter.issue))
    assert result.exit_code == 1
    assert result.stderr == "no study NCT09999999 on ClinicalTrials.gov\n"
    assert newsletter.issue.read_bytes() == before
    # What did arrive is kept: the next run fetches only what it still needs.
    registry.requests.clear()
    assert run("trial", "NCT03008590", "--issue", str(newsletter.issue)).exit_code == 0
    assert registry.requests == []


def test_outside_text_with_markup_and_any_alphabet_is_shown_as_text(newsletter, registry):
    study = copy.deepcopy(fixture("NCT03008590"))
    protocol = study["protocolSection"]
    protocol["identificationModule"]["nctId"] = "NCT09990003"
    protocol["identificationModule"]["briefTitle"] = "Étude <b>LDN</b> {{ unsubscribe_url }} — 低剂量纳曲酮"
    protocol["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = "Hôpitaux Universitaires de Genève *|UNSUB|*"
    protocol["descriptionModule"]["briefSummary"] = (
        "\\<script>alert(1)\\</script> R\\&D & more {{ unsubscribe_url }} \\*|UNSUB|\\* "
        "[x](javascript:alert(1)) \\[y\\](javascript:alert(2))"
    )
    protocol["conditionsModule"]["conditions"] = ["Fibromyalgie: douleur", "#1 <i>pain</i>"]
    registry.study(study)
    untouched = digest.build(newsletter.issue)
    result = run("trial", "NCT09990003", "--issue", str(newsletter.issue))
    assert result.exit_code == 0, result.output
    email = digest.build(newsletter.issue)
    html = email.html
    assert "<script" not in html and "<b>LDN" not in html and "<i>pain" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D &amp; more" in html
    assert "x (javascript:alert(1)) [y](javascript:alert(2))" in html
    assert "Étude &lt;b&gt;LDN&lt;/b&gt;" in html and "低剂量纳曲酮" in html and "Fibromyalgie: douleur" not in html
    assert "Hôpitaux Universitaires de Genève *\u200c|UNSUB|*" in html
    # The newsletter's own merge tags (the footer's unsubscribe link) are the only ones left for the platform.
    assert MERGE_TAG.findall(html) == MERGE_TAG.findall(untouched.html)
    assert MERGE_TAG.findall(email.text) == MERGE_TAG.findall(untouched.text)
    assert "{\u200c{ unsubscribe_url }}" in email.text


def test_the_editor_chooses_facility_and_the_api_address_in_digest_toml(newsletter, registry, monkeypatch):
    config = newsletter.config.read_text(encoding="utf-8")
    newsletter.config.write_text(f'clinicaltrials_api = "{registry.url}/"\ntrial_institution = "facility"\n' + config, encoding="utf-8")
    monkeypatch.delenv("DIGEST_CTGOV_URL")
    result = run("trial", "NCT03008590", "--issue", str(newsletter.issue))
    assert result.exit_code == 0, result.output
    issue = read_issue(newsletter.issue, load_config(newsletter.config))
    assert issue.entries[-1].institution == "VA Boston Healthcare System Jamaica Plain Campus, Jamaica Plain, MA"


def test_the_environment_wins_over_digest_toml(newsletter, registry):
    config = newsletter.config.read_text(encoding="utf-8")
    newsletter.config.write_text('clinicaltrials_api = "http://127.0.0.1:9"\n' + config, encoding="utf-8")
    assert run("trial", "NCT03008590", "--issue", str(newsletter.issue)).exit_code == 0
    assert registry.paths() == ["/api/v2/studies/NCT03008590"]


@pytest.mark.parametrize(
    "line, message",
    [
        ('trial_institution = "hospital"', "digest.toml:1: trial_institution: 'hospital' must be 'sponsor' (the lead sponsor) or 'facility' (the first location)"),
        ('clinicaltrials_api = "ftp://mirror.example/"', "digest.toml:1: clinicaltrials_api: the link 'ftp://mirror.example/' must start with https://, http:// or mailto:"),
        ('clinicaltrials_api = "mailto:a@testnews.example"', "digest.toml:1: clinicaltrials_api: must be a web address starting with https://"),
    ],
)
def test_bad_settings_are_named_with_their_line(newsletter, registry, line, message, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    newsletter.config.write_text(line + "\n" + newsletter.config.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("trial", "NCT03008590", "--issue", "issues/test-issue.yaml")
    assert result.exit_code == 1 and result.stderr == f"{message}\n"


def test_a_bad_environment_address_is_named(newsletter, registry, monkeypatch):
    monkeypatch.setenv("DIGEST_CTGOV_URL", "javascript:alert(1)")
    result = run("trial", "NCT03008590")
    assert result.exit_code == 1
    assert result.stderr == "DIGEST_CTGOV_URL: the link 'javascript:alert(1)' must start with https://, http:// or mailto:\n"


def test_search_lists_id_status_sponsor_and_title(registry):
    registry.queue("/api/v2/studies", 200, (FIXTURES / "search.json").read_bytes(), {"Content-Type": "application/json"})
    result = run("trial", "--search", "low dose naltrexone", "--status", "recruiting, not yet recruiting,completed", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:4] == [
        "NCT03008590  Completed · VA Office of Research and Development",
        "    Low Dose Naltrexone for Chronic Pain From Arthritis",
        "NCT02965768  Withdrawn · University of Alabama at Birmingham",
        "    Immune Effects of Low-dose Naltrexone in ME/CFS",
    ]
    assert result.stderr == "3 studies. Add one with: digest trial NCT03008590 --issue FILE\n"
    (_, query, _), = registry.requests
    assert query["filter.overallStatus"] == ["RECRUITING,NOT_YET_RECRUITING,COMPLETED"] and query["pageSize"] == ["3"]


def test_search_says_when_there_are_more_or_none(registry):
    page = {"totalCount": 438, "studies": [fixture("NCT02806440")], "nextPageToken": "abc"}
    registry.queue("/api/v2/studies", 200, page)
    result = run("trial", "--search", "naltrexone", "--limit", "1")
    assert result.stderr == "Showing 1 of 438 studies (--limit shows more). Add one with: digest trial NCT02806440 --issue FILE\n"
    registry.queued.clear()
    registry.queue("/api/v2/studies", 200, {"studies": []})
    result = run("trial", "--search", "nothing at all", "--status", "recruiting")
    assert result.exit_code == 1
    assert result.stderr == "no studies on ClinicalTrials.gov match 'nothing at all' with the status Recruiting\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--search", "x", "--status", "open"], "--status: 'open' is not a study status; one of: recruiting, not-yet-recruiting,"),
        (["NCT03008590", "--search", "x"], "give NCT ids to add, or --search to look for studies, not both"),
        (["NCT03008590", "--status", "recruiting"], "--status only filters a --search"),
        ([], "which trials? Give NCT ids (digest trial NCT03008590), --from-file, or --search WORDS"),
    ],
)
def test_usage_mistakes_are_one_line(registry, args, message):
    result = run("trial", *args)
    assert result.exit_code == 2 and result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert registry.requests == []


def test_network_down_through_the_command_is_one_line(newsletter, registry):
    registry.__exit__()
    result = run("trial", "NCT03008590", "NCT02965768", "--issue", str(newsletter.issue))
    assert result.exit_code == 1
    assert result.stderr == f"cannot reach ClinicalTrials.gov ({registry.url}): Connection refused; check the internet connection\n"


def _env(registry, tmp_path):
    return {**os.environ, "DIGEST_CTGOV_URL": registry.url, "DIGEST_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}


def test_a_real_process_adds_the_trials_then_runs_offline(newsletter, registry, tmp_path):
    command = [sys.executable, "-m", "digest", "trial", *SAMPLE_IDS, "--issue", str(newsletter.issue)]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(registry, tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Added") == 3 and "Fetching" not in done.stderr  # no progress bar when not on a terminal
    issue_text = newsletter.issue.read_text(encoding="utf-8")

    registry.__exit__()  # offline now: the cache answers
    out = subprocess.run([sys.executable, "-m", "digest", "trial", *SAMPLE_IDS], capture_output=True, text=True,
                         env=_env(registry, tmp_path), timeout=60)
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout) == yaml.safe_load(issue_text)["entries"][1:]


def test_a_terminal_gets_a_progress_bar(newsletter, registry, tmp_path):
    seen = on_a_terminal([sys.executable, "-m", "digest", "trial", *SAMPLE_IDS], env=_env(registry, tmp_path))
    assert re.search(rb"Fetching from ClinicalTrials.gov +\[#+\] +100%", seen)


def test_an_issue_outside_any_newsletter_folder_still_gets_its_trials(registry, tmp_path):
    issue = tmp_path / "loose" / "draft.yaml"
    issue.parent.mkdir()
    issue.write_text("subject: Draft\nentries:\n", encoding="utf-8")
    result = run("trial", "NCT02965768", "--issue", str(issue))
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(issue.read_text(encoding="utf-8"))["entries"][0]["nct_id"] == "NCT02965768"


def test_a_missing_issue_file_is_one_line(registry, tmp_path):
    result = run("trial", "NCT02965768", "--issue", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and result.stderr.endswith("nope.yaml: no such issue file\n")
    assert registry.requests == []


def test_quote_and_length_options(newsletter, registry):
    result = run("trial", "NCT02806440", "--quote", "detailed", "--max-chars", "200")
    assert result.exit_code == 0, result.output
    (entry,) = yaml.safe_load(result.stdout)
    assert entry["summary"] == (
        "The study record says: “Fibromyalgia syndrome is a prevalent musculoskeletal disorder characterized by pain, "
        "profound fatigue, sleep disorder, mood disturbance etc. The prevalence is estimated to be 2-8%. …”\n"
    )


def test_an_entry_the_editor_added_while_the_studies_were_fetched_is_kept_and_not_doubled(newsletter, registry):
    # The server answers slowly; meanwhile the editor saves the issue with one of the trials typed in by hand.
    path = "/api/v2/studies/NCT02965768"
    registry.queue(path, 429, "wait", {"Retry-After": "1"})
    registry.queue(path, 200, (FIXTURES / "NCT02965768.json").read_bytes())
    import threading

    def editor_saves():
        text = newsletter.issue.read_text(encoding="utf-8")
        newsletter.issue.write_text(text + "  - institution: UAB\n    title: Typed\n    summary: By hand.\n"
                                    "    link: https://clinicaltrials.gov/study/NCT03008590\n", encoding="utf-8")

    timer = threading.Timer(0.3, editor_saves)
    timer.start()
    result = run("trial", "NCT03008590", "NCT02965768", "--issue", str(newsletter.issue))
    timer.join()
    assert result.exit_code == 0, result.output
    assert f"warning: NCT03008590 is already in {newsletter.issue}: not added again" in result.stderr
    issue = read_issue(newsletter.issue, load_config(newsletter.config))
    assert [(e.title, e.nct_id) for e in issue.entries][1:] == [("Typed", None), ("Immune Effects of Low-dose Naltrexone in ME/CFS", "NCT02965768")]


def test_an_old_id_that_now_points_to_a_study_in_the_issue_is_not_added(newsletter, registry):
    assert run("trial", "NCT03008590", "--issue", str(newsletter.issue)).exit_code == 0
    registry.queue("/api/v2/studies/NCT00000099", 301, "", {"Location": "/api/v2/studies/NCT03008590"})
    before = newsletter.issue.read_bytes()
    result = run("trial", "NCT00000099", "--issue", str(newsletter.issue))
    assert result.exit_code == 0
    assert result.stderr == f"warning: NCT00000099 (now NCT03008590) is already in {newsletter.issue}: not added again\n"
    assert newsletter.issue.read_bytes() == before


def test_an_old_id_and_its_new_one_print_one_entry(registry):
    registry.queue("/api/v2/studies/NCT00000099", 301, "", {"Location": "/api/v2/studies/NCT03008590"})
    result = run("trial", "NCT03008590", "NCT00000099")
    assert result.exit_code == 0
    assert [e["nct_id"] for e in yaml.safe_load(result.stdout)] == ["NCT03008590"]
    assert result.stderr == "warning: NCT00000099 (now NCT03008590) is already in the list above: not added again\n"
