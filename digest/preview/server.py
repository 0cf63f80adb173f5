"""The preview's web server: 127.0.0.1 only, a fixed set of addresses, and no path that reaches other files.

What it answers:
  /                       the preview page (page/index.html, with /preview.css and /preview.js)
  /email.html?scheme=...  the email for the frame, light or dark; no script can run in it (CSP sandbox)
  /email.txt              the plain-text part
  /state.json, /events    what the page shows beside the email; /events pushes it on every build (SSE)
  /assets/<path>          an image of the current email, from disk
"""

from __future__ import annotations

import errno
import mimetypes
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from digest.exceptions import DigestError
from digest.preview.frame import ASSETS

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PORTS_TO_TRY = 20  # 8000, then 8001 … while they are taken
KEEPALIVE_SECONDS = 15
# Each connection holds a thread (an event stream for as long as its tab is open). Past MAX_CONNECTIONS,
# a few more are answered 503 by threads of their own; past those, the connection is closed unanswered.
MAX_CONNECTIONS = 64
MAX_REFUSALS = 16
PAGE_DIR = Path(__file__).parent / "page"
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/preview.css": ("preview.css", "text/css; charset=utf-8"),
    "/preview.js": ("preview.js", "text/javascript; charset=utf-8"),
}
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The email gets no script-src at all, and the same sandbox as its iframe even when opened on its own.
# Images from the web stay allowed: an editor who links a logo by its https address expects to see it.
FRAME_CSP = (
    "default-src 'none'; img-src 'self' data: https: http:; style-src 'unsafe-inline'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
)
NO_EMAIL_YET = "<!doctype html><title>No email yet</title><p>No email yet: the issue has an error (see above)."


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many tabs, and event streams reconnecting all at once

    def __init__(self, preview, port: int):
        self.preview = preview
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.refusals = threading.BoundedSemaphore(MAX_REFUSALS)
        self.refused: set = set()  # connections that get a 503 whatever they ask
        super().__init__((HOST, port), Handler)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            if not self.refusals.acquire(blocking=False):
                return self.shutdown_request(request)
            self.refused.add(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(request)
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def _release(self, request) -> None:
        if request in self.refused:
            self.refused.discard(request)
            self.refusals.release()
        else:
            self.slots.release()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}/"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.preview.close()  # ends the event streams
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        # A browser that hangs up mid-answer is normal; anything else is a bug worth one line, not a traceback.
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            print(f"digest preview: error answering a request: {type(exc).__name__}: {exc}", file=sys.stderr)


def bind(preview, port: int | None = None) -> PreviewServer:
    """A server on `port`, or on the first free one from 8000 up when no port is asked for."""
    ports = [port] if port is not None else range(DEFAULT_PORT, DEFAULT_PORT + PORTS_TO_TRY)
    for candidate in ports:
        try:
            return PreviewServer(preview, candidate)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise DigestError(f"cannot start the preview on {HOST}:{candidate} ({exc.strerror})") from None
    if port is not None:
        raise DigestError(f"port {port} is in use: choose another with --port, or leave it out to pick a free one")
    raise DigestError(f"ports {DEFAULT_PORT}-{DEFAULT_PORT + PORTS_TO_TRY - 1} are all in use: choose one with --port")


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "digest-preview"
    timeout = 30  # a client that connects and says nothing does not keep a thread for ever
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would hold the body ~40 ms

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self):
        self.answer(head=False)

    def do_HEAD(self):
        self.answer(head=True)

    def log_message(self, format, *args):
        pass  # the terminal is for build results, not for every request

    def answer(self, head: bool) -> None:
        if self.request in self.server.refused:
            self.close_connection = True
            return self.send(503, b"Too many connections: close some preview tabs, then reload this one.", head=head)
        # A page on another site that points its own name at 127.0.0.1 (DNS rebinding) sends its name here.
        port = self.server.server_port
        if self.headers.get("Host", f"{HOST}:{port}") not in (f"{HOST}:{port}", f"localhost:{port}"):
            return self.send(403, b"Forbidden: open the preview at its 127.0.0.1 address.", head=head)
        try:
            url = urlsplit(self.path)
        except ValueError:  # such as an unclosed [ in an absolute address
            return self.send(400, b"Bad request.", head=head)
        preview = self.server.preview
        if url.path in PAGE_FILES:
            name, content_type = PAGE_FILES[url.path]
            return self.send(200, (PAGE_DIR / name).read_bytes(), content_type, head)
        if url.path == "/email.html":
            scheme = "dark" if parse_qs(url.query).get("scheme") == ["dark"] else "light"
            body = preview.frames.get(scheme, NO_EMAIL_YET)
            return self.send(200, body.encode("utf-8"), "text/html; charset=utf-8", head, FRAME_CSP)
        if url.path == "/email.txt":
            text = preview.email.text if preview.email else ""
            return self.send(200, text.encode("utf-8"), "text/plain; charset=utf-8", head)
        if url.path == "/state.json":
            return self.send(200, preview.state_json().encode("utf-8"), "application/json", head)
        if url.path == "/events":
            return self.events(head)
        if url.path.startswith(ASSETS):
            return self.asset(url.path[len(ASSETS) :], head)
        self.send(404, b"Not found.", head=head)

    def asset(self, quoted: str, head: bool) -> None:
        try:
            path = unquote(quoted, errors="strict")
        except UnicodeDecodeError:
            path = None
        source = self.server.preview.asset(path) if path else None
        content_type = mimetypes.guess_type(source.name)[0] if source else None
        if source is None or not content_type or not content_type.startswith("image/"):
            return self.send(404, b"Not found.", head=head)
        from digest.assets import read_image

        try:
            body = read_image(source)  # an image still, and 1 MB at most: it may have changed since the build
        except ValueError:
            return self.send(404, b"Not found.", head=head)
        # The frame asks for images by path and mtime (frame.py): an address that never changes content.
        self.send(200, body, content_type, head, cache="private, max-age=86400, immutable")

    def send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8", head: bool = False,
             csp: str = PAGE_CSP, cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)  # no-store unless told: every build is new, never show a stale one
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", csp)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def events(self, head: bool) -> None:
        """Server-sent events: the state now, then again after every build, until the tab closes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if head:
            return
        preview, seen = self.server.preview, None
        try:
            self.wfile.write(b"retry: 500\n\n")  # when the preview restarts, the page reconnects within a second
            while not preview.closed:
                news = preview.wait(seen, KEEPALIVE_SECONDS)
                if news is None:
                    self.wfile.write(b": still here\n\n")  # finds tabs that went away without a word
                else:
                    seen, data = news
                    self.wfile.write(f"data: {data}\n\n".encode("utf-8"))
        except OSError:
            pass  # the tab was closed
