"""ClinicalTrials.gov API v2: fetch study records (cached on disk, retried politely, several at once) and turn
one into an issue entry.

Everything in a study record is outside text: it is cleaned of characters YAML cannot hold, merge tags in it
are defused (a registry text must never unsubscribe a reader), and the summary's Markdown is flattened to
plain text and escaped, so it reaches the email as words, never as markup or a link.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from digest import __version__
from digest.exceptions import DigestError, TrialError, cut
from digest.files import read_bytes, read_text, write_atomically
from digest.inline import MERGE_TAG
from digest.markup import escape, link_problem, plain_text
from digest.model import PHASE_LABELS, STATUS_LABELS, Newsletter

DEFAULT_API = "https://clinicaltrials.gov"
STUDY_PAGE = "https://clinicaltrials.gov/study/{}"
LEAD_IN = "The study record says: "
TIMEOUT = 20.0  # seconds of silence in one answer; the API is usually well under a second
DEADLINE = 30.0  # seconds for one request, however the answer trickles in
RETRIES = 4  # for 429 and 503, after the first try
MAX_WAIT = 60.0  # the longest Retry-After we wait out; longer means "come back later"
SAY_WAIT = 5.0  # a wait longer than this is announced: a silent minute looks like a hang
MAX_REDIRECTS = 5
MAX_ANSWER = 10 * 1024 * 1024  # a study record is ~50 KB; a search page of 1,000 studies ~3 MB
WORKERS = 4  # studies fetched at once: fast for a handful, gentle on a service with an unpublished rate limit
PAGE_SIZE = 1000  # studies a page of a whole search asks for: the API's most (with a few fields, ~300 KB)
MAX_FOUND = 10_000  # a whole search that finds more is too broad to read through, and would take minutes
MAX_PAGES = 200  # … and so is one of more pages (the API's are up to 1,000 studies; a mirror's may be smaller)
FRESH = 12 * 3600  # seconds a copy stays good enough for --new and --updates: the registry changes daily
# The fields a page of a whole search carries: enough for the table, its dates checked here too.
SEARCH_FIELDS = "NCTId,BriefTitle,OfficialTitle,OverallStatus,LeadSponsorName,StudyFirstPostDate,LastUpdatePostDate"

NCT_ID = re.compile(r"NCT[0-9]{8}")  # ASCII digits: \d would take '０' and '٣', which no record's id has
_ID = re.compile(NCT_ID.pattern, re.IGNORECASE)


# --- ids ---------------------------------------------------------------------------------------------------

def parse_id(text: str, file=None, line: int | None = None, field: str | None = None) -> str:
    """`text` as a canonical NCT id, or a TrialError naming where it came from."""
    value = text.strip()
    if not _ID.fullmatch(value):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise TrialError(f"{shown!r} is not a ClinicalTrials.gov id like NCT03008590 (NCT and 8 digits)", file, line, field)
    return value.upper()


def ids_from_file(path: Path) -> list[str]:
    """NCT ids from a file, one a line; blank lines and lines starting with # are ignored."""
    text = read_text(path, TrialError)
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(parse_id(line, path, number))
    return ids


def study_id_in(link: str) -> str | None:
    """The NCT id a ClinicalTrials.gov link points to (new and classic pages), or None."""
    match = STUDY_LINK.search(link)
    return match.group(1).upper() if match else None


STUDY_LINK = re.compile(r"clinicaltrials\.gov/(?:study|ct2/show(?:/record|/results)?)/(NCT[0-9]{8})", re.IGNORECASE)


# --- where to fetch from, where to keep copies ---------------------------------------------------------------

def api_base(newsletter: Newsletter | None) -> str:
    """DIGEST_CTGOV_URL, else digest.toml's clinicaltrials_api, else the public API."""
    env = os.environ.get("DIGEST_CTGOV_URL", "").strip()
    if env:
        problem = link_problem(env)
        if problem or not env.lower().startswith(("http://", "https://")):
            raise TrialError(problem or "must be a web address starting with https://", field="DIGEST_CTGOV_URL")
        return env.rstrip("/")
    if newsletter is not None and newsletter.clinicaltrials_api:
        return newsletter.clinicaltrials_api
    return DEFAULT_API


def cache_dir() -> Path | None:
    """Where fetched study records are kept (None: nowhere, as there is no home folder)."""
    from digest.caches import cache_folder

    return cache_folder("ctgov")


# --- fetching ------------------------------------------------------------------------------------------------

class Unreachable(TrialError):
    """No answer at all (no connection, or none in time): where a saved copy exists, it can stand in."""

    waited = False  # the deadline ran out: the service is silent, and asking again would wait as long


def retry_delay(header: str | None, attempt: int, now: datetime.datetime | None = None) -> float:
    """Seconds to wait before retrying: the server's Retry-After (seconds or an HTTP date), else 1, 2, 4 … s.

    A number too long to mean anything but "much later" counts as a year; anything unreadable as no header."""
    fallback = float(2**attempt)
    if not header:
        return fallback
    header = header.strip()
    if re.fullmatch(r"[0-9]+", header):  # ASCII only: '²'.isdigit() is True too
        return float(header) if len(header) <= 8 else 365 * 86400.0
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())


class Client:
    """The API at `base`, with a disk cache of study records and search pages (None: no cache).

    `usable(study, nct_id)` raises TrialError for a record that is no use (one that cannot make an entry):
    such a record is not cached. `notify(line)` hears of long waits.

    `fresh`: the age in seconds past which a saved copy is fetched again (None: a saved copy is always used,
    as `digest trial NCT…` does). With it, a copy of any age stands in when ClinicalTrials.gov cannot be
    reached, and `stale` lists what was served so: (what, the day it was saved)."""

    def __init__(self, base: str, cache: Path | None, *, refresh: bool = False, timeout: float | None = None,
                 deadline: float | None = None, usable: Callable[[dict, str], object] | None = None,
                 notify: Callable[[str], None] | None = None, fresh: float | None = None):
        self.base, self.cache, self.refresh, self.fresh = base, cache, refresh, fresh
        self.timeout = TIMEOUT if timeout is None else timeout
        self.deadline = DEADLINE if deadline is None else deadline
        self.usable, self.notify = usable, notify
        self.stale: list[tuple[str, datetime.date]] = []
        self._http = None
        self._down: Unreachable | None = None  # the first "no answer" of this run, which the others then share
        self._busy: str | None = None  # the first "busy, try later" of this run: the others stop asking too
        self._stop = threading.Event()  # Ctrl-C: the waits between tries end at once
        self._lock = threading.Lock()

    @property
    def http(self):
        # httpx costs ~0.2 s to import: a re-run served from the cache never pays it.
        with self._lock:
            if self._http is None:
                import httpx

                from digest import fetch

                self._http = fetch.client(
                    base_url=self.base,
                    timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                    follow_redirects=False,  # followed by _request, on this site only
                    headers={"User-Agent": f"digest/{__version__} (newsletter tool)", "Accept": "application/json"},
                )
            return self._http

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._http is not None:
            self._http.close()

    def _get(self, path: str, params: dict | None = None) -> _Answer:
        waited = 0.0
        for attempt in range(RETRIES + 1):
            if self._down is not None:
                # The service did not answer one request of this run: each of the others would wait out its
                # own deadline too (100 ids, minutes of silence). They fail at once, or use a saved copy.
                raise Unreachable(self._down.problem)
            if self._busy is not None:  # 100 ids would each wait out their own tries against a busy service
                raise TrialError(self._busy)
            try:
                answer = self._request(path, params)
            except Unreachable as exc:
                if exc.waited:  # not a connection refused or dropped once, which costs no wait and may pass
                    self._down = exc
                raise
            if answer.status not in (429, 503):
                return answer
            wait = retry_delay(answer.headers.get("Retry-After"), attempt)
            busy = f"ClinicalTrials.gov is busy ({answer.status} {answer.reason})"
            if attempt == RETRIES or wait > MAX_WAIT:
                self._busy = f"{busy}; try again {_later(wait) if wait > MAX_WAIT else 'in a few minutes'}"
                raise TrialError(self._busy)
            waited += wait
            if waited > SAY_WAIT and self.notify:  # short waits too, once they add up to a silence that looks like a hang
                self.notify(f"{busy}: waiting {_seconds(wait)} before trying again, as it asks")
            if self._stop.wait(wait):
                raise TrialError("stopped")
        raise AssertionError("unreachable")

    def _request(self, path: str, params: dict | None) -> _Answer:
        """One GET, its redirects followed while they stay on the same site, within the deadline."""
        import httpx

        from digest import fetch

        url = self.http.build_request("GET", path, params=params).url
        started = time.monotonic()
        try:
            with fetch.deadline(self.deadline):
                for _ in range(MAX_REDIRECTS + 1):
                    with self.http.stream("GET", url) as response:
                        # An alias id answers 301 to the study's own id; a 3xx without Location is an answer.
                        if not response.has_redirect_location:
                            return _Answer(response.status_code, response.reason_phrase, response.headers,
                                           fetch.read_body(response, MAX_ANSWER))
                        target = response.url.join(response.headers["Location"])
                    if target.scheme != url.scheme or (target.host, target.port) != (url.host, url.port):
                        why = f"{target.scheme}, not {url.scheme}" if target.scheme != url.scheme else "another site"
                        raise TrialError(f"ClinicalTrials.gov ({self.base}) redirects to {str(target)[:200]}, "
                                         f"which is {why}: not followed")
                    url = target
            raise TrialError(f"ClinicalTrials.gov ({self.base}) redirects in a loop; try again later")
        except httpx.TimeoutException:
            late = time.monotonic() - started >= self.deadline
            seconds = self.deadline if late else self.timeout
            silent = Unreachable(f"ClinicalTrials.gov ({self.base}) did not answer within {_seconds(seconds)}; try again later")
            silent.waited = True
            raise silent from None
        except httpx.TransportError as exc:
            if str(exc).startswith("Invalid URL in location header"):  # httpx reads a redirect's Location itself
                raise TrialError(f"ClinicalTrials.gov ({self.base}) redirects to an address that is not one "
                                 f"({str(exc).rstrip('.')}); try again later") from None
            raise Unreachable(f"cannot reach ClinicalTrials.gov ({self.base}): {_reason(exc)}; check the internet connection") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # a broken answer or Location
            raise TrialError(f"ClinicalTrials.gov ({self.base}) did not answer properly ({exc}); try again later") from None
        except fetch.TooLarge:
            raise TrialError(f"ClinicalTrials.gov ({self.base}) sent more than {MAX_ANSWER // 2**20} MB, which no "
                             "study record is; try again later") from None

    def study(self, nct_id: str) -> dict:
        """The study record of `nct_id`, from the cache when an earlier run saved it (recently enough)."""
        if not NCT_ID.fullmatch(nct_id):  # from a search answer, or an issue: it becomes a file name and an address
            raise TrialError(f"{cut(nct_id, 40)!r} is not a ClinicalTrials.gov id like NCT03008590")
        cached = self.cache / f"{nct_id}.json" if self.cache else None
        saved = self._saved(cached)
        if saved is not None and not self.refresh and self._fresh(saved[1]):
            study, mtime = saved
            try:
                if self.usable:
                    self.usable(study, nct_id)
            except TrialError as exc:
                raise TrialError(f"{exc.problem} (this is the copy saved on {_day(mtime)}: --refresh fetches it again)") from None
            return study
        try:
            answer = self._get(f"/api/v2/studies/{nct_id}")
        except Unreachable:
            if saved is None or self.fresh is None:
                raise
            self._served_stale(nct_id, saved[1])
            return saved[0]
        if answer.status == 404:
            raise TrialError(f"no study {nct_id} on ClinicalTrials.gov")
        if answer.status != 200:
            raise TrialError(f"ClinicalTrials.gov answered {answer.status} for {nct_id} ({answer.detail()}); try again later")
        try:
            study = _study_record(json.loads(answer.body))
        except (ValueError, RecursionError):
            raise TrialError(f"ClinicalTrials.gov sent something that is not a study record for {nct_id}; try again later") from None
        if self.usable:
            self.usable(study, nct_id)
        if cached:
            if saved is not None and last_updated(saved[0]) != last_updated(study):
                self._keep_version(nct_id, saved[0])
            _save(cached, answer.body)
        return study

    def saved_version(self, nct_id: str, on_or_before: datetime.date) -> dict | None:
        """The newest copy of the record this cache has seen that was current on `on_or_before` (by its last
        update date), or None: what the record said on a past issue's day, when digest fetched it then."""
        if not self.cache or not NCT_ID.fullmatch(nct_id):
            return None
        best = None
        folder = self.cache / "versions" / nct_id
        candidates = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
        for path in [self.cache / f"{nct_id}.json", *candidates]:
            saved = self._saved(path)
            day = last_updated(saved[0]) if saved else None
            if day is not None and day <= on_or_before and (best is None or day > last_updated(best)):
                best = saved[0]
        return best

    def _keep_version(self, nct_id: str, study: dict) -> None:
        # A record is replaced by a newer one: the older one is what an issue of its time saw.
        day = last_updated(study)
        if day is not None:
            _save(self.cache / "versions" / nct_id / f"{day.isoformat()}.json", json.dumps(study).encode("utf-8"))

    def _saved(self, path: Path | None, parse: Callable[[object], dict] | None = None) -> tuple[dict, float] | None:
        """The copy saved at `path` (a study record, or what `parse` makes of it) and when it was saved."""
        if path is None:
            return None
        try:
            data = read_bytes(path, limit=MAX_ANSWER)
            return (parse or _study_record)(json.loads(data)), path.stat().st_mtime
        except (DigestError, ValueError, RecursionError, OSError):
            return None  # not cached yet, or a damaged copy: fetch it

    def _fresh(self, mtime: float) -> bool:
        return self.fresh is None or time.time() - mtime <= self.fresh

    def _served_stale(self, what: str, mtime: float) -> None:
        with self._lock:
            self.stale.append((what, _day(mtime)))

    def studies(self, ids: list[str], progress: Callable[[int, int], None] | None = None,
                keep_going: bool = False) -> list[dict]:
        """Several studies at once, in the order asked; `progress(done, total)` is called as each arrives.

        When several fail, the error raised is the first id's, so the message does not depend on timing.
        `keep_going`: a study that cannot be had (no such study, a broken record, no answer and no saved copy)
        is its TrialError in the list, unless none at all could be had: then the first id's error is raised."""
        def one(nct_id: str):
            try:
                return self.study(nct_id)
            except TrialError as exc:
                if not keep_going:
                    raise
                return exc

        pool = ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(ids))))
        try:
            futures = [pool.submit(one, i) for i in ids]
            for done, _ in enumerate(as_completed(futures), 1):
                if progress:
                    progress(done, len(ids))
            found = [future.result() for future in futures]
        except BaseException:  # Ctrl-C: the ids not begun are dropped and the waits end, not served out
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        if found and all(isinstance(f, Unreachable) for f in found):
            raise found[0]
        return found

    def count(self, term: str, statuses: list[str]) -> int:
        """How many studies match `term` at all, whatever their dates (a page of one study, to ask)."""
        params = {"query.term": term, "pageSize": 1, "countTotal": "true", "fields": "NCTId"}
        if statuses:
            params["filter.overallStatus"] = ",".join(statuses)
        page = self._page(params, 1)
        total = page.get("totalCount")
        return total if type(total) is int else len(page["studies"])

    def search(self, term: str, statuses: list[str], limit: int) -> tuple[list[dict], int | None]:
        """Studies matching `term` (the API's own relevance order) and how many match in all, when it says."""
        params = {
            "query.term": term,
            "pageSize": limit,
            "countTotal": "true",
            "fields": "NCTId,BriefTitle,OverallStatus,LeadSponsorName",
        }
        if statuses:
            params["filter.overallStatus"] = ",".join(statuses)
        answer = self._get("/api/v2/studies", params)
        if answer.status != 200:
            raise TrialError(f"ClinicalTrials.gov answered {answer.status} to the search ({answer.detail()})")
        try:
            page = _search_page(json.loads(answer.body))
            found = page["studies"]
        except (ValueError, RecursionError):
            raise TrialError("ClinicalTrials.gov sent a search result that is not a list of studies; try again later") from None
        total = page.get("totalCount")
        return found, total if type(total) is int else None

    def search_all(self, term: str, statuses: list[str], since: datetime.date | None = None,
                   progress: Callable[[int, int | None], None] | None = None) -> tuple[list[dict], int | None]:
        """Every study matching `term` (and first posted or updated on or after `since`): each page, followed
        through `nextPageToken`, and how many the API says match. `progress(pages, pages_in_all)` is called as
        each page arrives (the total is a guess from the first page's count, or None)."""
        params = {"query.term": term, "pageSize": PAGE_SIZE, "countTotal": "true", "fields": SEARCH_FIELDS}
        if statuses:
            params["filter.overallStatus"] = ",".join(statuses)
        if since is not None:
            # Last updated on or after `since` includes first posted on or after it: a record's first posting
            # is its first update. The dates are checked again on what comes back (see `why_listed`).
            params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{since.isoformat()},MAX]"
        found: list[dict] = []
        total = None
        tokens: set[str] = set()
        pages = 0
        # Pages are kept only once the whole search was read: a search that fails half-way (a token sent twice)
        # would otherwise be replayed from the cache, failing the same way, for as long as the copies are fresh.
        read: list[tuple[Path, bytes]] = []
        while True:
            page = self._page(params, pages + 1, read)
            pages += 1
            if pages == 1 and type(page.get("totalCount")) is int:
                total = page["totalCount"]
            found += page["studies"]
            if len(found) > MAX_FOUND or pages > MAX_PAGES:
                many = f"{MAX_FOUND:,} studies" if len(found) > MAX_FOUND else f"{MAX_PAGES} pages of studies"
                raise TrialError(f"more than {many} match {term!r}: narrow the search (more words, or --status)")
            token = page.get("nextPageToken")
            if progress:
                guess = max(pages + 1, -(-total // max(1, len(page["studies"])))) if total is not None else None
                progress(pages, guess if token else pages)
            if not token:
                for path, body in read:
                    _save(path, body)
                return found, total
            if not isinstance(token, str):
                raise TrialError(f"ClinicalTrials.gov sent a page token that is not text ({str(token)[:40]!r}, after "
                                 f"page {pages}): try again later")
            if token in tokens:
                raise TrialError(f"ClinicalTrials.gov sent the same page token twice ({token[:40]!r}, after page "
                                 f"{pages}): the search would go round for ever; try again later")
            tokens.add(token)
            params = {**params, "pageToken": token}

    def _page(self, params: dict, number: int, read: list[tuple[Path, bytes]] | None = None) -> dict:
        """One page of a search: from the cache when fresh, else fetched (a saved copy standing in offline).
        A fetched page is saved, or put in `read` for the caller to save."""
        import hashlib

        key = hashlib.sha256(json.dumps(params, sort_keys=True).encode("utf-8")).hexdigest()[:32]
        cached = self.cache / "search" / f"{key}.json" if self.cache else None
        saved = self._saved(cached, _search_page)
        if saved is not None and not self.refresh and self._fresh(saved[1]) and self.fresh is not None:
            return saved[0]
        try:
            answer = self._get("/api/v2/studies", params)
        except Unreachable:
            if saved is None or self.fresh is None:
                raise
            self._served_stale(f"page {number} of the search", saved[1])
            return saved[0]
        if answer.status != 200:
            raise TrialError(f"ClinicalTrials.gov answered {answer.status} to the search ({answer.detail()})")
        try:
            page = _search_page(json.loads(answer.body))
        except (ValueError, RecursionError):
            raise TrialError(f"ClinicalTrials.gov sent page {number} of the search broken (not a list of studies); "
                             "try again later") from None
        if cached is not None:
            if read is None:
                _save(cached, answer.body)
            else:
                read.append((cached, answer.body))
        return page


@dataclass
class _Answer:
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes

    def detail(self) -> str:
        """What an error answer says: its first line when it is plain text, else its status's name (a 500
        page of HTML would show as `<!DOCTYPE html>`)."""
        if self.headers.get("Content-Type", "").startswith("text/plain"):
            lines = clean(self.body[:1000].decode("utf-8", "replace")).strip().splitlines()
            if lines and lines[0].strip():
                return lines[0].strip()[:200]
        return self.reason or "no reason given"


def _seconds(seconds: float) -> str:
    return f"{seconds:.3g} second{'' if seconds == 1 else 's'}"


def _later(seconds: float) -> str:
    if seconds <= 90 * 60:
        minutes = math.ceil(seconds / 60)
        return f"in {minutes} minute{'s' if minutes > 1 else ''}"
    hours = math.ceil(seconds / 3600)
    return f"in {hours} hours" if hours <= 48 else "another day"


def _phase(protocol: dict) -> str:
    """"Phase 2/Phase 3", as the registry's pages write it; "" when the record gives none."""
    phases = _module(protocol, "designModule").get("phases")
    return "/".join(label for p in phases if isinstance(p, str) and (label := phase_label(p))) if isinstance(phases, list) else ""


def _search_page(data) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("studies"), list):
        raise ValueError("not a page of studies")
    data["studies"] = [_study_record(s) for s in data["studies"]]
    return data


def _day(mtime: float) -> datetime.date:
    return datetime.date.fromtimestamp(mtime)


def _study_record(data) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("protocolSection"), dict):
        raise ValueError("not a study record")
    return data


def _reason(exc) -> str:
    # httpx wraps the socket error; its innermost message ("Connection refused", "Name or service not known")
    # is the one an editor can act on.
    cause = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__
    text = getattr(cause, "strerror", None) or str(cause) or type(exc).__name__
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text)


def _save(path: Path, content: bytes) -> None:
    # The cache only saves a re-fetch: a folder we cannot write is no reason to stop.
    try:
        write_atomically(path, content)
    except DigestError:
        pass


# --- a study record's dates and facts ----------------------------------------------------------------------

def record_date(study: dict, struct: str) -> datetime.date | None:
    """A date of the record's statusModule (`lastUpdatePostDateStruct` …): "2024-06-04", or "2024-06" read as
    its first day; None when it is missing or not a date."""
    value = _module(_module(study.get("protocolSection"), "statusModule"), struct).get("date")
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value if len(value) != 7 else value + "-01")
    except ValueError:
        return None


def last_updated(study: dict) -> datetime.date | None:
    return record_date(study, "lastUpdatePostDateStruct")


def first_posted(study: dict) -> datetime.date | None:
    return record_date(study, "studyFirstPostDateStruct")


def why_listed(study: dict, since: datetime.date) -> str | None:
    """"new" when first posted on or after `since`, "updated" when only last updated then, else None: the
    API was asked for these, and its answer is checked (a mirror may ignore the filter)."""
    first, last = first_posted(study), last_updated(study)
    if first is not None and first >= since:
        return "new"
    if last is not None and last >= since:
        return "updated"
    return None


@dataclass(frozen=True)
class Facts:
    """What --updates compares in a study record: all as an editor reads them."""

    status: str  # "Completed"
    phase: str  # "Phase 2", "" for none
    enrolment: str  # "29 (actual)", "" when the record gives none
    results: datetime.date | None  # when results were first posted
    has_results: bool
    last_updated: datetime.date | None


def facts(study: dict) -> Facts:
    protocol = study["protocolSection"]
    design = _module(protocol, "designModule")
    info = _module(design, "enrollmentInfo")
    count = info.get("count")
    kind = clean_line(info.get("type")).lower()
    if type(count) is not int:  # JSON's true is a Python int: "enrolment changed … to True" reached an issue
        count = None
    enrolment = f"{count} ({kind})" if count is not None and kind else str(count) if count is not None else ""
    return Facts(status_label(_module(protocol, "statusModule").get("overallStatus")), _phase(protocol), enrolment,
                 record_date(study, "resultsFirstPostDateStruct"), study.get("hasResults") is True, last_updated(study))


# --- a study record as an issue entry --------------------------------------------------------------------

def summary_row(study: dict) -> dict:
    """id, status, sponsor and title of a study: one line of a search listing."""
    protocol = study["protocolSection"]
    ident = _module(protocol, "identificationModule")
    return {
        "nct_id": clean_line(ident.get("nctId")) or "?",
        "status": status_label(_module(protocol, "statusModule").get("overallStatus")) or "",
        "sponsor": clean_line(_module(_module(protocol, "sponsorCollaboratorsModule"), "leadSponsor").get("name")),
        "title": clean_line(ident.get("briefTitle")) or clean_line(ident.get("officialTitle")),
    }


def entry_for(study: dict, institution: str = "sponsor", max_chars: int = 600, asked: str = "",
              quote: str = "brief", summary: str | None = None) -> tuple[dict, list[str]]:
    """The issue entry for a study record, as field -> value in the issue's order, and notes for the editor.

    `asked` is the id the record was fetched by, for a record that does not repeat its own. `quote` says
    which text to quote: the brief summary or the detailed description (the other when it is missing).
    `summary`: the entry's words instead of a quote (Markdown, escaped), as an update says what changed."""
    protocol = study["protocolSection"]
    ident = _module(protocol, "identificationModule")
    nct_id = (clean_line(ident.get("nctId")) or asked).upper()
    if not _ID.fullmatch(nct_id):
        raise TrialError(f"ClinicalTrials.gov sent a study record without a valid NCT id ({nct_id or 'none'})")
    notes = []

    sponsor = clean_line(_module(_module(protocol, "sponsorCollaboratorsModule"), "leadSponsor").get("name")) or clean_line(
        _module(ident, "organization").get("fullName")
    )
    locations = _module(protocol, "contactsLocationsModule").get("locations")
    facility = clean_line(locations[0].get("facility")) if isinstance(locations, list) and locations and isinstance(locations[0], dict) else ""
    chosen = facility if institution == "facility" else sponsor
    if not chosen:
        chosen = sponsor or facility
        if institution == "facility" and chosen:
            notes.append(f"{nct_id}: the study record lists no location; the institution is its lead sponsor")
    if not chosen:
        raise TrialError(f"{nct_id}: the study record names no sponsor or location; add this trial by hand")

    title = clean_line(ident.get("briefTitle")) or clean_line(ident.get("officialTitle"))
    if not title:
        raise TrialError(f"{nct_id}: the study record has no title; add this trial by hand")

    if summary is None:
        description = _module(protocol, "descriptionModule")
        order = ("detailedDescription", "briefSummary") if quote == "detailed" else ("briefSummary", "detailedDescription")
        texts = [description.get(name) for name in order if isinstance(description.get(name), str) and description.get(name).strip()]
        summary = quote_summary(texts[0], max_chars) if texts else ""
        if not summary:
            raise TrialError(f"{nct_id}: the study record has no summary to quote; add this trial by hand")

    entry = {"institution": chosen, "title": title, "summary": summary, "link": STUDY_PAGE.format(nct_id), "nct_id": nct_id}
    status = status_label(_module(protocol, "statusModule").get("overallStatus"))
    if status:
        entry["status"] = status
    phase = _phase(protocol)
    if phase:
        entry["phase"] = phase
    conditions = _module(protocol, "conditionsModule").get("conditions")
    conditions = [c for c in (clean_line(x) for x in conditions) if c] if isinstance(conditions, list) else []
    if conditions:
        entry["conditions"] = conditions
    return entry, notes


def quote_summary(markdown: str, max_chars: int) -> str:
    """The record's summary as a Markdown quote: “…”, cut after a sentence, every character shown as typed."""
    paragraphs = [" ".join(p.split()) for p in clean(plain_text(markdown)).split("\n\n")]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return ""
    kept, cut = _trim(paragraphs, max_chars)
    text = "\n\n".join(kept)
    return escape(f"{LEAD_IN}“{text}{' …' if cut else ''}”")


_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“‘(]?[A-Z0-9])")


def _trim(paragraphs: list[str], max_chars: int) -> tuple[list[str], bool]:
    """Whole sentences up to `max_chars`; at least the first one, cut at a word when even that is too long."""
    kept: list[str] = []
    used = 0
    for paragraph in paragraphs:
        sentences = []
        for sentence in _SENTENCE_END.split(paragraph):
            cost = len(sentence) + (1 if sentences else 2 if kept else 0)
            if used + cost > max_chars:
                if not kept and not sentences:
                    sentences.append(sentence[: max_chars].rsplit(" ", 1)[0].rstrip(",;:"))
                if sentences:
                    kept.append(" ".join(sentences))
                return kept, True
            sentences.append(sentence)
            used += cost
        kept.append(" ".join(sentences))
    return kept, False


def status_label(value) -> str:
    if not isinstance(value, str) or not value.strip():
        return ""
    return STATUS_LABELS.get(value, clean_line(value.replace("_", " ").capitalize()))


def phase_label(value: str) -> str:
    if value == "NA":
        return ""
    return PHASE_LABELS.get(value, clean_line(value.replace("_", " ").capitalize()))


# Characters a YAML file cannot hold, or that YAML reads as line breaks.
_NOT_PRINTABLE = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\ufeff")
_LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")


def clean(text: str) -> str:
    """Outside text made safe to store and send: no control characters, no live merge tags."""
    text = _NOT_PRINTABLE.sub("", _LINE_BREAKS.sub("\n", text).replace("\t", " "))
    # A zero-width non-joiner after a merge tag's first character: it reads the same, and no mail
    # platform will fill it in.
    for _ in range(50):
        text, count = MERGE_TAG.subn(lambda m: m.group(0)[0] + "\u200c" + m.group(0)[1:], text)
        if not count:
            break
    return text


def clean_line(value) -> str:
    return " ".join(clean(value).split()) if isinstance(value, str) else ""


def _module(parent, name: str) -> dict:
    value = parent.get(name) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}
