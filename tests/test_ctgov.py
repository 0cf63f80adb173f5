"""The ClinicalTrials.gov client and the mapping of a study record to an entry, against a real local server."""

from __future__ import annotations

import copy
import datetime
import json
import re
import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctgov_server import FIXTURES, Registry, fixture
from digest import ctgov
from digest.exceptions import TrialError
from digest.inline import MERGE_TAG
from digest.markup import escape, render


@pytest.fixture
def registry():
    with Registry() as server:
        yield server


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


# --- ids ---


@pytest.mark.parametrize("text", ["NCT03008590", "nct03008590", "  NcT03008590\n", "\tNCT03008590 "])
def test_ids_are_trimmed_and_upper_cased(text):
    assert ctgov.parse_id(text) == "NCT03008590"


@pytest.mark.parametrize("text", ["NCT0300859", "NCT030085901", "03008590", "NCT0300859O", "NCT 03008590", "", "NCT03008590x"])
def test_bad_ids_are_refused(text):
    with pytest.raises(TrialError, match="is not a ClinicalTrials.gov id like NCT03008590"):
        ctgov.parse_id(text)


def test_ids_from_file_skip_blank_lines_and_notes_and_name_the_line_of_a_bad_one(tmp_path):
    good = tmp_path / "ids.txt"
    good.write_text("# trials for June\n\nNCT03008590\n  nct02965768  # Alabama\n\n", encoding="utf-8")
    assert ctgov.ids_from_file(good) == ["NCT03008590", "NCT02965768"]
    bad = tmp_path / "bad.txt"
    bad.write_text("NCT03008590\nNCT123\n", encoding="utf-8")
    with pytest.raises(TrialError) as info:
        ctgov.ids_from_file(bad)
    assert info.value.line == 2 and "'NCT123' is not a ClinicalTrials.gov id" in info.value.__str__()


def test_study_id_in_links():
    assert ctgov.study_id_in("https://clinicaltrials.gov/study/nct03008590?tab=results") == "NCT03008590"
    assert ctgov.study_id_in("https://classic.clinicaltrials.gov/ct2/show/NCT02806440") == "NCT02806440"
    assert ctgov.study_id_in("https://testnews.example/NCT02806440") is None


# --- Retry-After ---


def test_retry_after_in_seconds_as_an_http_date_or_missing():
    now = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    assert ctgov.retry_delay("7", 0) == 7
    assert ctgov.retry_delay("Thu, 01 Jan 2026 12:00:05 GMT", 0, now) == 5
    assert ctgov.retry_delay("Thu, 01 Jan 2026 11:00:00 GMT", 0, now) == 0  # already past
    assert [ctgov.retry_delay(None, attempt) for attempt in range(4)] == [1, 2, 4, 8]
    assert ctgov.retry_delay("soon", 2) == 4


# --- the mapping ---


def test_the_three_sample_trials_map_to_entries():
    entries = {n: ctgov.entry_for(fixture(n))[0] for n in ("NCT03008590", "NCT02965768", "NCT02806440")}
    va = entries["NCT03008590"]
    assert list(va) == ["institution", "title", "summary", "link", "nct_id", "status", "phase", "conditions"]
    assert va["institution"] == "VA Office of Research and Development"
    assert va["title"] == "Low Dose Naltrexone for Chronic Pain From Arthritis"
    assert va["link"] == "https://clinicaltrials.gov/study/NCT03008590"
    assert (va["nct_id"], va["status"], va["phase"]) == ("NCT03008590", "Completed", "Phase 2")
    assert va["conditions"] == ["Osteoarthritis", "Arthritis, Rheumatoid", "Arthritis, Psoriatic"]
    assert va["summary"].startswith("The study record says: “Over 100 million Americans report chronic pain.")
    uab = entries["NCT02965768"]
    assert uab["institution"] == "University of Alabama at Birmingham"
    assert uab["status"] == "Withdrawn" and "phase" not in uab  # phase NA is left out
    copenhagen = entries["NCT02806440"]
    assert (copenhagen["institution"], copenhagen["phase"]) == ("Rigshospitalet, Denmark", "Phase 4")
    # Paragraphs of the record stay paragraphs; the quote opens once and closes once.
    assert copenhagen["summary"].endswith("at The Multidisciplinary Pain Center in Grindsted.”")
    assert copenhagen["summary"].count("\n\n") == 1


def test_facility_instead_of_sponsor_and_the_fallback_when_there_is_no_location():
    entry, notes = ctgov.entry_for(fixture("NCT03008590"), "facility")
    assert entry["institution"] == "VA Boston Healthcare System Jamaica Plain Campus, Jamaica Plain, MA" and notes == []
    study = fixture("NCT03008590")
    del study["protocolSection"]["contactsLocationsModule"]
    entry, notes = ctgov.entry_for(study, "facility")
    assert entry["institution"] == "VA Office of Research and Development"
    assert notes == ["NCT03008590: the study record lists no location; the institution is its lead sponsor"]


def test_a_study_with_missing_modules_uses_what_is_there():
    study = {
        "protocolSection": {
            "identificationModule": {
                "nctId": "NCT09990002",
                "officialTitle": "An official title only",
                "organization": {"fullName": "Only The Organisation", "class": "OTHER"},
            },
            "descriptionModule": {"detailedDescription": "Only a detailed description."},
        },
        "hasResults": False,
    }
    entry, _ = ctgov.entry_for(study)
    assert entry == {
        "institution": "Only The Organisation",
        "title": "An official title only",
        "summary": "The study record says: “Only a detailed description.”",
        "link": "https://clinicaltrials.gov/study/NCT09990002",
        "nct_id": "NCT09990002",
    }


@pytest.mark.parametrize(
    "remove, problem",
    [
        (("sponsorCollaboratorsModule", "contactsLocationsModule", "identificationModule.organization"), "names no sponsor or location"),
        (("identificationModule.briefTitle", "identificationModule.officialTitle"), "has no title"),
        (("descriptionModule",), "has no summary to quote"),
    ],
)
def test_a_study_without_what_an_entry_needs_is_refused_by_name(remove, problem):
    study = fixture("NCT03008590")
    for path in remove:
        parent = study["protocolSection"]
        *parents, key = path.split(".")
        for name in parents:
            parent = parent[name]
        del parent[key]
    with pytest.raises(TrialError, match=f"^NCT03008590: the study record {problem}; add this trial by hand$"):
        ctgov.entry_for(study)


def test_unknown_enum_values_still_read_as_words():
    study = fixture("NCT03008590")
    study["protocolSection"]["statusModule"]["overallStatus"] = "ON_HOLD"
    study["protocolSection"]["designModule"]["phases"] = ["PHASE1", "PHASE2", "NA"]
    entry, _ = ctgov.entry_for(study)
    assert (entry["status"], entry["phase"]) == ("On hold", "Phase 1/Phase 2")


def test_the_summary_is_cut_after_a_whole_sentence():
    full = fixture("NCT03008590")["protocolSection"]["descriptionModule"]["briefSummary"]
    for limit in (120, 300, 600):
        summary = ctgov.quote_summary(full, limit)
        quoted = summary[len(ctgov.LEAD_IN) + 1 : -1]
        assert quoted.endswith(". …") and len(quoted) - 2 <= limit
        assert full.startswith(quoted[:-2])
    assert ctgov.quote_summary(full, 10_000) == f"{ctgov.LEAD_IN}“{full}”"
    # One sentence longer than the limit is cut at a word, and says so.
    assert ctgov.quote_summary("Word " * 60 + "end.", 100).endswith("Word Word …”")


def test_the_apis_markdown_escapes_become_the_characters_they_stand_for():
    summary = "Escaped chars as the API emits them: \\[bracket\\] and 5 \\< 6. A *word*."
    text = render(ctgov.quote_summary(summary, 600))
    assert text.plain == "The study record says: “Escaped chars as the API emits them: [bracket] and 5 < 6. A word.”"
    assert "<em>" not in text.html and "5 &lt; 6" in text.html


# Markup as the API sends it: sponsors' characters backslash-escaped, plus an unescaped link and raw HTML.
HOSTILE = (
    "\\<script>alert(1)\\</script> <b>raw</b> \\& &amp; {{ unsubscribe_url }} \\*|UNSUB|\\* *|FNAME|* "
    "\\[x\\](javascript:alert(1)) [y](javascript:alert(2)) <https://evil.example/> **bold** `code`\n\n"
    "# Heading\n\n- item\n\n1. first\n\n> quoted\n\n    indented code"
)


def test_markup_in_a_summary_reaches_the_email_as_text_never_as_markup_a_link_or_a_merge_tag():
    text = render(ctgov.quote_summary(HOSTILE, 10_000))
    assert re.sub(r"</?p>", "", text.html).count("<") == 0  # only paragraphs: no tag the record wrote
    assert text.links == ()
    assert MERGE_TAG.search(text.html) is None and MERGE_TAG.search(text.plain) is None
    visible = text.plain.replace("\u200c", "")
    assert visible.startswith(
        "The study record says: “<script>alert(1)</script> <b>raw</b> & & {{ unsubscribe_url }} *|UNSUB|* "
        "|FNAME| [x](javascript:alert(1)) y (javascript:alert(2)) https://evil.example/ bold code\n\nHeading"
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text.html


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 .)(*_[]<>`~\\&#;+-=!|{}:%\"'\n\t\x00\x85\u2028é€😀")), max_size=80))
def test_any_summary_reads_back_as_the_words_of_the_record(source):
    summary = ctgov.quote_summary(source + " x", 10_000)
    text = render(summary)
    assert re.sub(r"</?(p|br /)>", "", text.html).count("<") == 0
    assert text.links == ()
    assert summary == escape(render(summary).plain)  # escaping is exact: nothing added, nothing lost


# --- the client, against a real server ---


def test_a_study_is_fetched_then_served_from_the_cache_offline(registry, cache):
    with ctgov.Client(registry.url, cache) as client:
        study = client.study("NCT03008590")
    assert study == fixture("NCT03008590")
    assert registry.paths() == ["/api/v2/studies/NCT03008590"]
    assert (cache / "NCT03008590.json").read_bytes() == (FIXTURES / "NCT03008590.json").read_bytes()
    registry.__exit__()  # the network is gone
    with ctgov.Client(registry.url, cache) as client:
        assert client.study("NCT03008590") == study
    with ctgov.Client(registry.url, cache, refresh=True) as client, pytest.raises(TrialError, match="cannot reach"):
        client.study("NCT03008590")


def test_a_damaged_cache_file_is_fetched_again(registry, cache):
    cache.mkdir()
    (cache / "NCT03008590.json").write_text('{"protocolSection": ', encoding="utf-8")
    with ctgov.Client(registry.url, cache) as client:
        assert client.study("NCT03008590") == fixture("NCT03008590")
    assert len(registry.requests) == 1


def test_404_names_the_study(registry, cache):
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT09999999")
    assert info.value.__str__() == "no study NCT09999999 on ClinicalTrials.gov"


def test_429_is_retried_after_the_wait_the_server_asks_for(registry, cache):
    path = "/api/v2/studies/NCT03008590"
    registry.queue(path, 429, "Too Many Requests", {"Retry-After": "1"})
    registry.queue(path, 200, (FIXTURES / "NCT03008590.json").read_bytes())
    with ctgov.Client(registry.url, cache) as client:
        assert client.study("NCT03008590")["protocolSection"]["identificationModule"]["nctId"] == "NCT03008590"
    (_, _, first), (_, _, second) = registry.requests
    assert second - first >= 0.95


def test_503_with_an_http_date_is_retried(registry, cache):
    path = "/api/v2/studies/NCT03008590"
    registry.queue(path, 503, "down for a moment", {"Retry-After": "Thu, 01 Jan 2015 00:00:00 GMT"})  # already past: at once
    registry.queue(path, 200, (FIXTURES / "NCT03008590.json").read_bytes())
    with ctgov.Client(registry.url, cache) as client:
        client.study("NCT03008590")
    assert len(registry.requests) == 2


@pytest.mark.parametrize("seconds, later", [("3600", "in 60 minutes"), ("61", "in 2 minutes"), ("7200", "in 2 hours"),
                                             ("9" * 400, "another day")])
def test_a_wait_longer_than_the_cap_is_not_waited_out(registry, cache, seconds, later):
    registry.queue("/api/v2/studies/NCT03008590", 429, "slow down", {"Retry-After": seconds})
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == f"ClinicalTrials.gov is busy (429 Too Many Requests); try again {later}"
    assert len(registry.requests) == 1


def test_429_gives_up_after_the_retries(registry, cache):
    registry.queue("/api/v2/studies/NCT03008590", 429, "slow down", {"Retry-After": "0"})
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError, match=r"is busy \(429 .*try again in a few minutes"):
        client.study("NCT03008590")
    assert len(registry.requests) == ctgov.RETRIES + 1


def test_once_one_id_is_told_to_come_back_later_the_others_stop_asking(registry, cache):
    # Each id waited out its own five tries: 12 ids, 60 requests and a minute against a service saying "busy".
    ids = [f"NCT0300{n:04d}" for n in range(12)]
    for nct_id in ids:
        registry.queue(f"/api/v2/studies/{nct_id}", 429, "slow down", {"Retry-After": "0"})
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError, match=r"is busy \(429 "):
        client.studies(ids)
    assert len(registry.requests) <= ctgov.WORKERS * (ctgov.RETRIES + 1) < len(ids) * (ctgov.RETRIES + 1)


@pytest.mark.parametrize("nct_id", ["../../../outside/pwned", "NCT０３００８５９０", "?"])
def test_an_id_that_is_no_id_is_never_asked_for_nor_saved(registry, cache, nct_id):
    # From a search answer or an issue, the id becomes a file name in the cache and a path on the server.
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError, match="is not a ClinicalTrials.gov id"):
        client.study(nct_id)
    assert registry.requests == [] and not cache.parent.joinpath("outside").exists()


@pytest.mark.parametrize("status", [300, 301, 304])
def test_a_3xx_without_a_location_is_an_answer_not_a_traceback(registry, cache, status):
    registry.queue("/api/v2/studies/NCT03008590", status, "")
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__().startswith(f"ClinicalTrials.gov answered {status} for NCT03008590")


def test_a_redirect_to_no_address_is_the_service_s_fault_not_the_connection_s(registry, cache):
    registry.queue("/api/v2/studies/NCT00000099", 301, "", {"Location": "http://[::1"})
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT00000099")
    assert "redirects to an address that is not one" in info.value.__str__()
    assert "internet connection" not in info.value.__str__()


def test_500_is_reported_not_retried(registry, cache):
    registry.queue("/api/v2/studies/NCT03008590", 500, "Internal Server Error")
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == "ClinicalTrials.gov answered 500 for NCT03008590 (Internal Server Error); try again later"
    assert len(registry.requests) == 1 and not cache.exists()


@pytest.mark.parametrize("body", [b'{"protocolSection": {"identificationModule"', b"<html>maintenance</html>", b"[]", b'{"studies": []}'])
def test_malformed_json_is_reported_and_not_cached(registry, cache, body):
    registry.queue("/api/v2/studies/NCT03008590", 200, body, {"Content-Type": "application/json"})
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == "ClinicalTrials.gov sent something that is not a study record for NCT03008590; try again later"
    assert not (cache / "NCT03008590.json").exists()


def test_an_old_id_follows_the_redirect_to_the_study(registry, cache):
    registry.queue("/api/v2/studies/NCT00000099", 301, "", {"Location": "/api/v2/studies/NCT03008590"})
    with ctgov.Client(registry.url, cache) as client:
        study = client.study("NCT00000099")
    assert study["protocolSection"]["identificationModule"]["nctId"] == "NCT03008590"


def test_network_down_is_one_clear_line(cache):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    with ctgov.Client(f"http://127.0.0.1:{port}", cache) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == f"cannot reach ClinicalTrials.gov (http://127.0.0.1:{port}): Connection refused; check the internet connection"


def test_a_server_that_does_not_answer_times_out(cache):
    with Registry(delay=1) as slow, ctgov.Client(slow.url, cache, timeout=0.3) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == f"ClinicalTrials.gov ({slow.url}) did not answer within 0.3 seconds; try again later"


def test_once_the_service_does_not_answer_the_other_studies_do_not_wait_their_turn_too(cache):
    # Each study waited out its own deadline, four at a time: 100 ids against a silent service, 8 minutes.
    ids = [f"NCT0999{i:04d}" for i in range(12)]
    with Registry(delay=2) as slow, ctgov.Client(slow.url, cache, timeout=0.3) as client:
        with pytest.raises(ctgov.Unreachable, match="did not answer within 0.3 seconds"):
            client.studies(ids, keep_going=True)
        asked = len(slow.requests)
    assert asked <= ctgov.WORKERS  # the first batch asked; the others were not sent


def test_a_connection_dropped_once_fails_only_its_own_study(cache):
    # Only a service that stays silent stops the run's other requests: a dropped connection costs no wait.
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    dropped = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            nct_id = self.path.rsplit("/", 1)[1].split("?")[0]
            if nct_id == "NCT09990000" and not dropped:
                dropped.append(nct_id)
                return  # no answer: the connection closes
            study = copy.deepcopy(fixture("NCT03008590"))
            study["protocolSection"]["identificationModule"]["nctId"] = nct_id
            body = json.dumps(study).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ids = [f"NCT0999{i:04d}" for i in range(8)]
        with ctgov.Client(f"http://127.0.0.1:{server.server_address[1]}", cache) as client:
            found = client.studies(ids, keep_going=True)
    finally:
        server.shutdown()
        server.server_close()
    assert isinstance(found[0], ctgov.Unreachable) and dropped == ["NCT09990000"]
    assert [f["protocolSection"]["identificationModule"]["nctId"] for f in found[1:]] == ids[1:]


def test_short_waits_that_add_up_are_announced(cache, monkeypatch):
    monkeypatch.setattr(ctgov, "SAY_WAIT", 1.5)  # 5 s in use: the test waits 2 s rather than 6
    said = []
    with Registry() as busy, ctgov.Client(busy.url, cache, notify=said.append) as client:
        for _ in range(2):
            busy.queue("/api/v2/studies/NCT03008590", 503, "busy", {"Retry-After": "1"})
        busy.queue("/api/v2/studies/NCT03008590", 200, fixture("NCT03008590"))
        client.study("NCT03008590")
    assert said == ["ClinicalTrials.gov is busy (503 Service Unavailable): waiting 1 second before trying again, as it asks"]


def test_several_studies_are_fetched_at_once_but_not_all_at_once(cache):
    ids = [f"NCT0999{i:04d}" for i in range(10)]
    with Registry(delay=0.1) as slow:
        for nct_id in ids:
            study = copy.deepcopy(fixture("NCT03008590"))
            study["protocolSection"]["identificationModule"]["nctId"] = nct_id
            slow.study(study)
        arrived = []
        with ctgov.Client(slow.url, cache) as client:
            studies = client.studies(ids, lambda done, total: arrived.append((done, total)))
    assert [s["protocolSection"]["identificationModule"]["nctId"] for s in studies] == ids  # the order asked
    assert arrived == [(i, 10) for i in range(1, 11)]
    assert 1 < slow.most_in_flight <= ctgov.WORKERS


def test_when_several_fail_the_first_ids_error_is_reported(registry, cache):
    with ctgov.Client(registry.url, cache) as client, pytest.raises(TrialError, match="no study NCT09999991"):
        client.studies(["NCT03008590", "NCT09999991", "NCT09999992"])


def test_search_sends_the_apis_parameters_and_reads_a_page(registry):
    registry.queue("/api/v2/studies", 200, (FIXTURES / "search.json").read_bytes(), {"Content-Type": "application/json"})
    with ctgov.Client(registry.url, None) as client:
        studies, total = client.search("low dose naltrexone", ["RECRUITING", "COMPLETED"], 5)
    (_, query, _), = registry.requests
    assert query == {
        "query.term": ["low dose naltrexone"],
        "filter.overallStatus": ["RECRUITING,COMPLETED"],
        "pageSize": ["5"],
        "countTotal": ["true"],
        "fields": ["NCTId,BriefTitle,OverallStatus,LeadSponsorName"],
    }
    assert total == 3
    assert ctgov.summary_row(studies[0]) == {
        "nct_id": "NCT03008590",
        "status": "Completed",
        "sponsor": "VA Office of Research and Development",
        "title": "Low Dose Naltrexone for Chronic Pain From Arthritis",
    }


def test_a_search_the_api_refuses_is_reported_with_its_words(registry):
    registry.queue("/api/v2/studies", 400, "`filter.overallStatus` has incorrect value")
    with ctgov.Client(registry.url, None) as client, pytest.raises(TrialError) as info:
        client.search("x", [], 5)
    assert info.value.__str__() == "ClinicalTrials.gov answered 400 to the search (`filter.overallStatus` has incorrect value)"


def test_the_fixtures_are_shaped_like_the_api():
    for file in FIXTURES.glob("NCT*.json"):
        study = json.loads(file.read_text(encoding="utf-8"))
        protocol = study["protocolSection"]
        assert protocol["identificationModule"]["nctId"] == file.stem
        assert {"statusModule", "sponsorCollaboratorsModule", "descriptionModule", "conditionsModule", "designModule"} <= set(protocol)
        assert isinstance(study["hasResults"], bool)


def test_a_record_without_its_own_id_takes_the_id_it_was_fetched_by():
    study = fixture("NCT02806440")
    del study["protocolSection"]["identificationModule"]["nctId"]
    entry, _ = ctgov.entry_for(study, asked="NCT02806440")
    assert entry["link"] == "https://clinicaltrials.gov/study/NCT02806440"
    with pytest.raises(TrialError, match=r"without a valid NCT id \(none\)"):
        ctgov.entry_for(study)


def test_the_editor_can_quote_the_detailed_description_instead():
    entry, _ = ctgov.entry_for(fixture("NCT02806440"), quote="detailed", max_chars=10_000)
    assert entry["summary"].startswith("The study record says: “Fibromyalgia syndrome is a prevalent musculoskeletal disorder")
    entry, _ = ctgov.entry_for(fixture("NCT02965768"), quote="detailed")  # it has none: the brief summary it is
    assert entry["summary"].startswith("The study record says: “The main objective of this study")


# Any JSON value where the API promises a module or a field: the mapping gives an entry the issue reader
# accepts, or one line saying what the record lacks; never a traceback.
_any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
_optional_modules = {
    "statusModule": st.fixed_dictionaries({}, optional={
        "overallStatus": st.sampled_from(list(ctgov.STATUS_LABELS)) | _any_json}) | _any_json,
    "designModule": st.fixed_dictionaries({}, optional={
        "phases": st.lists(st.sampled_from(["NA", "PHASE1", "PHASE2", "EARLY_PHASE1"]) | _any_json, max_size=3)}) | _any_json,
    "conditionsModule": st.fixed_dictionaries({}, optional={"conditions": st.lists(_words | _any_json, max_size=3)}) | _any_json,
    "contactsLocationsModule": st.fixed_dictionaries({}, optional={
        "locations": st.lists(st.fixed_dictionaries({}, optional={"facility": _words | _any_json}) | _any_json, max_size=2)}) | _any_json,
}
# Mostly whole records with odd text in them, and records where anything may be missing or of the wrong type.
_study = st.fixed_dictionaries(
    {
        "identificationModule": st.fixed_dictionaries({"nctId": st.just("NCT09990004"), "briefTitle": _words}),
        "sponsorCollaboratorsModule": st.fixed_dictionaries({"leadSponsor": st.fixed_dictionaries({"name": _words})}),
        "descriptionModule": st.fixed_dictionaries({"briefSummary": _words}),
    },
    optional=_optional_modules,
) | st.fixed_dictionaries(
    {},
    optional={
        "identificationModule": st.fixed_dictionaries({}, optional={
            "nctId": st.just("NCT09990004") | _any_json, "briefTitle": _words | _any_json,
            "officialTitle": _words, "organization": st.fixed_dictionaries({}, optional={"fullName": _words | _any_json})}) | _any_json,
        "sponsorCollaboratorsModule": st.fixed_dictionaries({}, optional={
            "leadSponsor": st.fixed_dictionaries({}, optional={"name": _words | _any_json}) | _any_json}) | _any_json,
        "descriptionModule": st.fixed_dictionaries({}, optional={
            "briefSummary": _words | _any_json, "detailedDescription": _words}) | _any_json,
        **_optional_modules,
    },
)


@settings(max_examples=300, deadline=None)
@given(_study, st.sampled_from(["sponsor", "facility"]))
def test_any_study_record_gives_an_entry_the_reader_accepts_or_one_line(protocol, institution):
    import tempfile
    from pathlib import Path

    from conftest import CONFIG
    from digest.config import load_config
    from digest.issue_edit import render_entries
    from digest.reader import read_issue

    try:
        entry, _ = ctgov.entry_for({"protocolSection": protocol}, institution, 300, asked="NCT09990004")
    except TrialError as exc:
        assert re.fullmatch(r"NCT\S+: the study record (names no sponsor or location|has no title|has no summary to quote); "
                            r"add this trial by hand|ClinicalTrials.gov sent a study record without a valid NCT id \(.*\)",
                            exc.__str__(), re.DOTALL)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "digest.toml").write_text(CONFIG, encoding="utf-8")
        issue = root / "issue.yaml"
        issue.write_text("subject: S\npreheader: P\ndate: 2024-06-04\nintro: I\nentries:\n" + render_entries([entry]), encoding="utf-8")
        (read,) = read_issue(issue, load_config(root / "digest.toml")).entries
    assert (read.institution, read.title, read.nct_id) == (entry["institution"], entry["title"], entry["nct_id"])
    assert read.summary.links == () and re.sub(r"</?p>", "", read.summary.html).count("<") == 0
