"""A real HTTP server on 127.0.0.1 that answers like the ClinicalTrials.gov API v2, for the tests of `digest trial`.

It serves the study records in tests/fixtures/ctgov/ byte for byte, answers an unknown id as the API does
(404, plain text), and plays queued answers (429 with Retry-After, 500, broken JSON …) for chosen paths.
Studies given to `Registry.add` are searched as `GET /api/v2/studies` does: `query.term`, `filter.overallStatus`,
`filter.advanced` (the `AREA[LastUpdatePostDate]RANGE[…]` digest sends), `fields`, `countTotal`, and pages
chained by `nextPageToken`.
`RawServer` misbehaves below HTTP: it sends whatever bytes it is given, as slowly as it is told.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "ctgov"


def fixture(nct_id: str) -> dict:
    return json.loads((FIXTURES / f"{nct_id}.json").read_text(encoding="utf-8"))


def make_study(nct_id: str, first_posted: str, last_updated: str, *, status: str = "RECRUITING", title: str | None = None,
               results: str | None = None, phases: tuple[str, ...] = ("PHASE2",), enrolment: tuple[int, str] = (60, "ESTIMATED"),
               like: str = "NCT03008590") -> dict:
    """A real record (a fixture's) made into another study: its id, title, status, phase, enrolment and the
    dates of its statusModule, which the API writes as {"date": …, "type": …} structs."""
    study = copy.deepcopy(fixture(like))
    protocol = study["protocolSection"]
    protocol["identificationModule"]["nctId"] = nct_id
    if title is not None:
        protocol["identificationModule"]["briefTitle"] = title
    status_module = protocol["statusModule"]
    status_module["overallStatus"] = status
    status_module["studyFirstPostDateStruct"] = {"date": first_posted, "type": "ACTUAL"}
    status_module["lastUpdatePostDateStruct"] = {"date": last_updated, "type": "ACTUAL"}
    for key in ("resultsFirstSubmitDate", "resultsFirstSubmitQcDate", "resultsFirstPostDateStruct"):
        status_module.pop(key, None)
    if results:
        status_module["resultsFirstSubmitDate"] = results
        status_module["resultsFirstPostDateStruct"] = {"date": results, "type": "ACTUAL"}
    study["hasResults"] = bool(results)
    protocol["designModule"]["phases"] = list(phases)
    protocol["designModule"]["enrollmentInfo"] = {"count": enrolment[0], "type": enrolment[1]}
    return study


# What `fields` names, and where each is in a record: the API answers with only these, nested as in a record.
FIELDS = {
    "NCTId": ("protocolSection", "identificationModule", "nctId"),
    "BriefTitle": ("protocolSection", "identificationModule", "briefTitle"),
    "OfficialTitle": ("protocolSection", "identificationModule", "officialTitle"),
    "OverallStatus": ("protocolSection", "statusModule", "overallStatus"),
    "LeadSponsorName": ("protocolSection", "sponsorCollaboratorsModule", "leadSponsor", "name"),
    "StudyFirstPostDate": ("protocolSection", "statusModule", "studyFirstPostDateStruct"),
    "LastUpdatePostDate": ("protocolSection", "statusModule", "lastUpdatePostDateStruct"),
    "HasResults": ("hasResults",),
}
_RANGE = re.compile(r"AREA\[LastUpdatePostDate\]RANGE\[(\d{4}-\d{2}-\d{2}),MAX\]")


def _project(study: dict, fields: list[str]) -> dict:
    out: dict = {}
    for name in fields:
        path = FIELDS[name]
        value = study
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            continue
        place = out
        for key in path[:-1]:
            place = place.setdefault(key, {})
        place[path[-1]] = value
    return out


class Registry:
    def __init__(self, delay: float = 0.0, page_max: int = 1000, ignore_dates: bool = False):
        self.queued: dict[str, list[tuple[int, bytes, dict]]] = {}
        self.searchable: dict[str, dict] = {}  # nct id -> record, found by searches and served at its id
        self.page_max = page_max  # the most studies a page holds, whatever pageSize asks (the API's is 1000)
        self.ignore_dates = ignore_dates  # a mirror that does not know filter.advanced: every date comes back
        self.requests: list[tuple[str, dict, float]] = []  # (path, query, monotonic time)
        self.delay = delay
        self.hold = threading.Event()  # cleared: every answer waits until it is set again
        self.hold.set()
        self.answered = threading.Event()  # set once an answer has been sent whole
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                registry._answer(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def queue(self, path: str, status: int, body: bytes | str | dict = b"", headers: dict | None = None):
        """Answer the next request for `path` with this; queued answers are used in order, then the default."""
        if isinstance(body, dict):
            body, content_type = json.dumps(body).encode(), "application/json"
        else:
            body = body.encode() if isinstance(body, str) else body
            content_type = "text/plain"
        self.queued.setdefault(path, []).append((status, body, {"Content-Type": content_type, **(headers or {})}))

    def study(self, study: dict) -> None:
        """Serve `study` (as JSON) at its own id from now on."""
        nct_id = study["protocolSection"]["identificationModule"]["nctId"]
        self.queue(f"/api/v2/studies/{nct_id}", 200, study)

    def add(self, *studies: dict) -> None:
        """Serve these studies at their ids and in searches, in this order (the API's relevance order)."""
        for study in studies:
            self.searchable[study["protocolSection"]["identificationModule"]["nctId"]] = study

    def searches(self) -> list[dict]:
        return [query for path, query, _ in self.requests if path == "/api/v2/studies"]

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.requests.append((parts.path, parse_qs(parts.query), time.monotonic()))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            queue = self.queued.get(parts.path)
            answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
        try:
            if self.delay:
                time.sleep(self.delay)
            self.hold.wait(30)
            status, body, headers = answer or self._default(parts.path, parse_qs(parts.query))
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
            self.answered.set()
        finally:
            with self._lock:
                self.in_flight -= 1

    def _default(self, path: str, query: dict) -> tuple[int, bytes, dict]:
        prefix = "/api/v2/studies/"
        if path == "/api/v2/studies":
            return self._search(query)
        if path.startswith(prefix) and path[len(prefix):] in self.searchable:
            return 200, json.dumps(self.searchable[path[len(prefix):]]).encode(), {"Content-Type": "application/json"}
        if path.startswith(prefix):
            nct_id = path[len(prefix):]
            file = FIXTURES / f"{nct_id}.json"
            if file.is_file():
                return 200, file.read_bytes(), {"Content-Type": "application/json"}
            # The API's own answer for an unknown id: plain text, not JSON.
            return 404, f"NCT number {nct_id} not found".encode(), {"Content-Type": "text/plain"}
        return 400, f"`{path}` is unknown".encode(), {"Content-Type": "text/plain"}


    def _search(self, query: dict) -> tuple[int, bytes, dict]:
        one = {name: values[-1] for name, values in query.items()}
        words = one.get("query.term", "").lower().split()
        statuses = set(one["filter.overallStatus"].split(",")) if "filter.overallStatus" in one else None
        since = None
        if "filter.advanced" in one:
            match = _RANGE.fullmatch(one["filter.advanced"])
            if not match:
                return 400, f"unknown filter.advanced {one['filter.advanced']!r}".encode(), {"Content-Type": "text/plain"}
            since = None if self.ignore_dates else datetime.date.fromisoformat(match.group(1))
        fields = one["fields"].split(",") if "fields" in one else None
        if fields and any(name not in FIELDS for name in fields):
            return 400, b"unknown field", {"Content-Type": "text/plain"}
        found = []
        for study in self.searchable.values():
            protocol = study["protocolSection"]
            text = json.dumps([protocol["identificationModule"], protocol.get("conditionsModule"),
                               protocol.get("descriptionModule")]).lower()
            last = protocol["statusModule"]["lastUpdatePostDateStruct"]["date"]
            if (all(word in text for word in words) and (statuses is None or protocol["statusModule"]["overallStatus"] in statuses)
                    and (since is None or datetime.date.fromisoformat(last) >= since)):
                found.append(study)
        size = min(int(one.get("pageSize", 10)), self.page_max)
        # The token names where the next page starts, and which search it belongs to: opaque to the client.
        digest = hashlib.sha256(json.dumps(sorted((k, v) for k, v in one.items() if k != "pageToken")).encode()).hexdigest()[:8]
        start = 0
        if "pageToken" in one:
            match = re.fullmatch(rf"{digest}-(\d+)", one["pageToken"])
            if not match:
                return 400, b"invalid pageToken", {"Content-Type": "text/plain"}
            start = int(match.group(1))
        page = {"studies": [_project(s, fields) if fields else s for s in found[start:start + size]]}
        if one.get("countTotal") == "true" and "pageToken" not in one:
            page = {"totalCount": len(found), **page}
        if start + size < len(found):
            page["nextPageToken"] = f"{digest}-{start + size}"
        return 200, json.dumps(page).encode(), {"Content-Type": "application/json"}


class RawServer:
    """127.0.0.1: reads a request, then sends the chunks of `answer()` one after the other, `gap` seconds apart."""

    def __init__(self, answer, gap: float, tls=None):
        self.answer, self.gap, self.tls = answer, gap, tls  # tls: an ssl.SSLContext to serve https with
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed.set()
        self.listener.close()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                return conn.close()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                if not (data := conn.recv(65536)):
                    return
                request += data
            try:
                for chunk in self.answer():
                    if self.closed.is_set():
                        return
                    conn.sendall(chunk)
                    if self.gap:
                        time.sleep(self.gap)
            except OSError:
                pass  # the client gave up: what the tests want
