"""A real HTTP server on 127.0.0.1 that answers like the ClinicalTrials.gov API v2, for the tests of `digest trial`.

It serves the study records in tests/fixtures/ctgov/ byte for byte, answers an unknown id as the API does
(404, plain text), and plays queued answers (429 with Retry-After, 500, broken JSON …) for chosen paths.
`RawServer` misbehaves below HTTP: it sends whatever bytes it is given, as slowly as it is told.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "ctgov"


def fixture(nct_id: str) -> dict:
    return json.loads((FIXTURES / f"{nct_id}.json").read_text(encoding="utf-8"))


class Registry:
    def __init__(self, delay: float = 0.0):
        self.queued: dict[str, list[tuple[int, bytes, dict]]] = {}
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
            status, body, headers = answer or self._default(parts.path)
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

    def _default(self, path: str) -> tuple[int, bytes, dict]:
        prefix = "/api/v2/studies/"
        if path.startswith(prefix):
            nct_id = path[len(prefix):]
            file = FIXTURES / f"{nct_id}.json"
            if file.is_file():
                return 200, file.read_bytes(), {"Content-Type": "application/json"}
            # The API's own answer for an unknown id: plain text, not JSON.
            return 404, f"NCT number {nct_id} not found".encode(), {"Content-Type": "text/plain"}
        return 400, f"`{path}` is unknown".encode(), {"Content-Type": "text/plain"}


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
