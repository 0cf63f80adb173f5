"""The preview server, on a real socket on 127.0.0.1: what it serves, what it refuses, how it holds up."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from digest.commands.preview import running
from digest.exceptions import DigestError, where
from digest.preview.server import DEFAULT_PORT, MAX_CONNECTIONS, PORTS_TO_TRY, bind
from digest.preview.state import Preview

SECRET = "TOP-SECRET-OUTSIDE-THE-NEWSLETTER"


@pytest.fixture
def served(newsletter):
    lines = []
    with running(newsletter.issue, port=0, report=lambda ok, line: lines.append((ok, line))) as server:
        server.lines = lines
        yield server


def get(server, path: str, headers: dict | None = None, method: str = "GET"):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def raw(server, request: bytes) -> bytes:
    """Send bytes exactly as given (no client library tidies the path) and return the whole answer."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def state(server) -> dict:
    return json.loads(get(server, "/state.json")[2])


def answers_200(server, path: str) -> bool:
    """Whether `path` is answered 200 now. Until a slot frees, a connection past the cap and past the
    refusals is closed unanswered, as the server is meant to: that is "not yet", not a failure."""
    try:
        return get(server, path)[0] == 200
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return False


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for the preview")


def _listening() -> list[tuple[str, int]]:
    """(address, port) of every TCP socket this process listens on, as the kernel sees them."""
    import ipaddress

    mine = {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and f"socket:[{fields[9]}]" in mine:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # The kernel writes each 32-bit word of the address in host order (little-endian here).
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.append((str(ipaddress.ip_address(raw)), int(port, 16)))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the sockets from Linux's /proc")
def test_it_listens_on_loopback_only(served):
    assert served.url == f"http://127.0.0.1:{served.server_port}/"
    assert [entry for entry in _listening() if entry[1] == served.server_port] == [("127.0.0.1", served.server_port)]
    try:
        here = socket.gethostbyname(socket.gethostname())  # this machine's own address, where it has a name for it
    except OSError:
        here = "127.0.0.1"
    for other in ("127.0.0.2", here):
        if other != "127.0.0.1":
            with pytest.raises(ConnectionRefusedError):  # the same port at any other address of this machine: nobody
                socket.create_connection((other, served.server_port), timeout=2).close()


def test_past_the_cap_connections_get_503_and_are_served_again_once_some_close(newsletter, monkeypatch):
    import threading

    import digest.preview.server as server_module

    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(server_module, "MAX_REFUSALS", 2)
    monkeypatch.setattr(server_module, "KEEPALIVE_SECONDS", 0.2)  # how soon a stream finds its tab closed
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        streams = []
        for _ in range(4):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("GET", "/events")
            response = conn.getresponse()  # kept: the stream lives as long as its response object
            assert response.status == 200
            streams.append((conn, response))
        status, headers, body = get(server, "/state.json")
        assert status == 503 and b"Too many connections" in body
        threads = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", server.server_port), timeout=5) for _ in range(20)]
        time.sleep(0.3)
        assert threading.active_count() <= threads + 2  # 20 silent clients: two threads that will answer 503, no more
        for sock in idle:
            sock.close()
        for stream in streams.pop():
            stream.close()
        assert wait_for(lambda: answers_200(server, "/state.json"))
        for conn, response in streams:
            response.close(), conn.close()


def test_the_page_and_its_files_make_no_request_beyond_the_preview(served):
    status, headers, body = get(served, "/")
    assert status == 200 and b'<script src="/preview.js"' in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    for path in ("/", "/preview.css", "/preview.js"):
        status, _, body = get(served, path)
        assert status == 200
        assert b"http://" not in body and b"https://" not in body, path


def test_the_email_frame_can_run_no_script(served):
    status, headers, body = get(served, "/email.html?scheme=dark")
    assert status == 200 and b"A trial of something" in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "sandbox" in csp and "allow-scripts" not in csp
    page = get(served, "/")[2].decode()
    assert page.count('sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"') == 2


def test_state_names_sender_subject_preheader_size_and_links(served):
    now = state(served)
    assert now["sender"] == "Test News"
    assert now["subject"] == "A subject line that is long enough"
    assert now["preheader"].startswith("A preheader")
    assert now["clip"] == 102 * 1024 and 1000 < now["size"] < now["clip"]
    assert {"text": "Find out more", "href": "https://clinicaltrials.gov/study/NCT00000001"} in now["links"]
    assert now["error"] is None and now["email_version"] == 1


def test_images_of_the_email_are_served_from_disk(served, newsletter):
    status, headers, body = get(served, "/assets/issues/images/logo.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body == (newsletter.root / "issues" / "images" / "logo.png").read_bytes()
    status, _, body = get(served, "/assets/icons/facebook.png")  # from the theme, outside the newsletter
    assert status == 200 and body.startswith(b"\x89PNG")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"\0" * 2 * 1024 * 1024, b"API_KEY=sk-123\n"])
def test_an_image_that_is_no_longer_one_since_the_build_is_not_served(served, newsletter, content):
    (newsletter.root / "issues" / "images" / "logo.png").write_bytes(content)  # 2 MB, or not an image at all
    assert wait_for(lambda: len(served.lines) > 1)  # the rebuild failed; the last good email stays
    assert get(served, "/assets/issues/images/logo.png")[0] == 404


TRAVERSALS = [
    "/assets/../digest.toml",
    "/assets/../../secret.txt",
    "/assets/issues/images/../../digest.toml",
    "/assets/%2e%2e/digest.toml",
    "/assets/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/assets/issues/images/%2e%2e%2f%2e%2e%2fdigest.toml",
    "/assets/..%5c..%5csecret.txt",
    "/assets//etc/passwd",
    "/assets/%2Fetc%2Fpasswd",
    "/assets/{outside}",
    "/assets/{outside_quoted}",
    "/assets/issues/images/logo.png%00.txt",
    "/assets/%ff%fe",
    "/../digest.toml",
    "/%2e%2e/%2e%2e/secret.txt",
    "/preview.js/../../digest.toml",
    "//etc/passwd",
    "/digest.toml",
    "/issues/test-issue.yaml",
    "/email.html/../../secret.txt",
]


def test_no_request_reads_a_file_outside_the_email(served, newsletter, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside-secret.txt"
    outside.write_text(SECRET)
    (newsletter.root / "secret.txt").write_text(SECRET)
    try:
        for template in TRAVERSALS:
            path = template.format(outside=outside, outside_quoted=str(outside).replace("/", "%2F"))
            answer = raw(served, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.server_port}\r\n\r\n".encode())
            status = answer.split(b" ", 2)[1]
            assert status in (b"400", b"404"), (path, answer[:200])
            assert SECRET.encode() not in answer and b"asset_base_url" not in answer, path
    finally:
        outside.unlink()


def test_a_symlink_swapped_in_after_the_build_is_not_followed_outside(served, newsletter, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_text(SECRET)
    try:
        logo = newsletter.root / "issues" / "images" / "logo.png"
        logo.unlink()
        logo.symlink_to(outside)
        status, _, body = get(served, "/assets/issues/images/logo.png")
        assert status == 404 and SECRET.encode() not in body
    finally:
        outside.unlink()


def test_an_issue_that_names_a_symlink_to_outside_does_not_build(served, newsletter, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes((newsletter.root / "issues" / "images" / "logo.png").read_bytes())
    try:
        (newsletter.root / "issues" / "images" / "link.png").symlink_to(outside)
        newsletter.write_issue(newsletter.issue.read_text().replace("images/logo.png", "images/link.png"))
        error = wait_for(lambda: state(served)["error"])
        assert "outside the newsletter folder" in error
        assert get(served, "/assets/issues/images/link.png")[0] == 404
    finally:
        outside.unlink()


def test_a_page_on_another_host_name_is_refused(served):
    status, _, body = get(served, "/state.json", headers={"Host": f"attacker.example:{served.server_port}"})
    assert status == 403 and b"Test News" not in body
    assert get(served, "/", headers={"Host": f"localhost:{served.server_port}"})[0] == 200


MALFORMED = [
    b"\x00\x01\x02garbage\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nthis header has no colon\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"b" * 70000 + b"\r\n\r\n",
    b"GET /\xff\xfe\xfd HTTP/1.1\r\n\r\n",
    b"GET http://[ HTTP/1.0\r\n\r\n",
    b"GET /assets/%zz%% HTTP/1.0\r\n\r\n",
    b"BREW /coffee HTTP/1.1\r\n\r\n",
    b"POST /state.json HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nabc",
    b"GET / HTTP/1.1\r\n",  # and then nothing
    b"",
]


def test_malformed_requests_get_an_answer_or_a_closed_socket_and_the_server_goes_on(served):
    for request in MALFORMED:
        answer = raw(served, request)
        # Requests the server reads as HTTP/0.9 get answers with no status line: the error page alone.
        assert answer == b"" or answer.startswith(b"HTTP/1.") or b"Error code: " in answer, (request[:40], answer[:100])
        assert b"Traceback" not in answer
        assert get(served, "/")[0] == 200, request[:40]
    assert get(served, "/", method="HEAD")[2] == b""


def test_many_clients_at_once_and_every_event_stream_hears_the_save(served, newsletter):
    streams = []
    try:
        for _ in range(40):
            conn = http.client.HTTPConnection("127.0.0.1", served.server_port, timeout=10)
            conn.request("GET", "/events")
            response = conn.getresponse()
            assert response.headers["Content-Type"] == "text/event-stream"
            streams.append((conn, response))
        for _, response in streams:
            assert json.loads(_next_event(response))["email_version"] == 1
        with ThreadPoolExecutor(max_workers=MAX_CONNECTIONS - len(streams) - 8) as pool:  # within the cap
            paths = ["/", "/preview.js", "/state.json", "/email.html", "/assets/issues/images/logo.png"] * 60
            statuses = list(pool.map(lambda p: get(served, p)[0], paths))
        assert statuses == [200] * len(paths)
        newsletter.write_issue(newsletter.issue.read_text().replace("A trial of something", "A trial of everything"))
        for _, response in streams:
            assert json.loads(_next_event(response))["email_version"] == 2
        assert b"A trial of everything" in get(served, "/email.html")[2]
    finally:
        for conn, _ in streams:
            conn.close()
    assert get(served, "/")[0] == 200


def _next_event(response) -> str:
    while True:
        line = response.fp.readline().decode()
        assert line, "the event stream ended"
        if line.startswith("data: "):
            return line[len("data: ") :]


def test_a_broken_save_shows_its_line_keeps_the_last_good_email_and_recovers(served, newsletter):
    good = newsletter.issue.read_text()
    newsletter.write_issue(good.replace("date: 2024-05-14", "date: 14 May"))
    broken = wait_for(lambda: state(served)["error"])
    assert broken.startswith(f"{where(newsletter.issue)}:3: date: '14 May' is not a date")
    assert state(served)["email_version"] == 1
    assert b"A trial of something" in get(served, "/email.html")[2]
    assert any(not ok and line == broken for ok, line in served.lines)
    newsletter.write_issue(good.replace("A trial of something", "A fixed trial"))
    wait_for(lambda: state(served)["email_version"] == 2)
    assert state(served)["error"] is None
    assert b"A fixed trial" in get(served, "/email.html")[2]


def test_saving_digest_toml_rebuilds(served, newsletter):
    newsletter.write_config(newsletter.config.read_text().replace('name = "Test News"', 'name = "Renamed News"'))
    wait_for(lambda: state(served)["sender"] == "Renamed News")


def test_saving_a_template_rebuilds(newsletter):
    from digest.theme import DEFAULT_THEME

    theme = newsletter.root / "templates"
    theme.mkdir()
    (theme / "email.txt.j2").write_text((DEFAULT_THEME / "email.txt.j2").read_text())
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        (theme / "email.txt.j2").write_text("Plain and simple: {{ issue.subject }}\n")
        text = wait_for(lambda: (body := get(server, "/email.txt")[2]).startswith(b"Plain and simple") and body)
        assert text == b"Plain and simple: A subject line that is long enough\n"


def test_an_editor_that_saves_by_renaming_a_new_file_over_the_old_is_heard_every_time(served, newsletter):
    original = newsletter.issue.read_text()
    for n in (1, 2, 3):
        temporary = newsletter.issue.with_name(".test-issue.yaml.tmp")
        temporary.write_text(original.replace("A trial of", f"Save {n} a trial of"))
        os.replace(temporary, newsletter.issue)
        wait_for(lambda: f"Save {n} a trial of".encode() in get(served, "/email.html")[2])


def test_port_taken_is_reported_or_the_next_free_one_is_used(newsletter):
    preview = Preview(newsletter.issue, newsletter.config)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DigestError, match=f"port {port} is in use"):
            bind(preview, port)
    first_free = _first_free_port(range(DEFAULT_PORT, DEFAULT_PORT + PORTS_TO_TRY))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first_free))
        taken.listen()
        server = bind(preview)
        try:
            assert server.server_port != first_free
            assert DEFAULT_PORT <= server.server_port < DEFAULT_PORT + PORTS_TO_TRY
        finally:
            server.server_close()


def _first_free_port(ports) -> int:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    pytest.skip("every port the preview would try is taken on this machine")


def test_saving_an_image_of_the_email_gives_the_frame_its_new_address(served, newsletter):
    logo = newsletter.root / "issues" / "images" / "logo.png"
    before = get(served, "/email.html")[2]
    assert f"/assets/issues/images/logo.png?v={logo.stat().st_mtime_ns}".encode() in before
    logo.write_bytes(logo.read_bytes())
    os.utime(logo, ns=(logo.stat().st_atime_ns, logo.stat().st_mtime_ns + 10**9))
    wait_for(lambda: f"logo.png?v={logo.stat().st_mtime_ns}".encode() in get(served, "/email.html")[2])


def test_an_image_replaced_by_a_link_to_another_is_seen(served, newsletter, tmp_path):
    # The watch compared a save's path with where each image's path leads now: a logo.png replaced by a link
    # to another file leads elsewhere, and the save was never seen.
    logo = newsletter.root / "issues" / "images" / "logo.png"
    other = tmp_path / "elsewhere" / "new-logo.png"
    other.parent.mkdir()
    other.write_bytes(logo.read_bytes() + b"\0")
    before = get(served, "/email.html")[2]
    assert f"logo.png?v={logo.stat().st_mtime_ns}".encode() in before
    os.utime(other, ns=(other.stat().st_atime_ns, logo.stat().st_mtime_ns + 10**9))
    staged = logo.with_name(".logo.png.link")
    staged.symlink_to(other)
    staged.rename(logo)  # as an editor's tool replaces a file: whole, in one step
    wait_for(lambda: f"logo.png?v={logo.stat().st_mtime_ns}".encode() in get(served, "/email.html")[2])


def test_the_page_files_ship_in_the_wheel(tmp_path):
    import zipfile

    from hatchling.builders.wheel import WheelBuilder

    from digest.preview.server import PAGE_FILES

    wheel = WheelBuilder(str(Path(__file__).resolve().parent.parent)).build(directory=str(tmp_path), versions=["standard"])
    names = zipfile.ZipFile(next(wheel)).namelist()
    for name, _ in PAGE_FILES.values():
        assert f"digest/preview/page/{name}" in names


def test_a_templates_folder_made_while_the_preview_runs_is_followed(newsletter):
    # The theme's folders were found once at the start: a templates/ made later (by hand, or by `digest theme
    # copy` in another terminal) was never watched, and the page no longer showed what `digest build` writes.
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        theme = newsletter.root / "templates"
        theme.mkdir()
        (theme / "email.txt.j2").write_text("First: {{ issue.subject }}\n")
        wait_for(lambda: get(server, "/email.txt")[2].startswith(b"First: "))
        for n in (2, 3):
            (theme / "email.txt.j2").write_text(f"Save {n}: {{{{ issue.subject }}}}\n")
            wait_for(lambda: get(server, "/email.txt")[2].startswith(f"Save {n}: ".encode()))
        shutil.rmtree(theme)
        wait_for(lambda: get(server, "/email.txt")[2].startswith(b"TEST NEWS"))


def test_a_switch_to_another_theme_folder_is_followed(newsletter):
    from digest.theme import BUILTIN

    mine = newsletter.root / "mine"
    shutil.copytree(BUILTIN / "plain", mine)
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        newsletter.write_config('theme = "mine"\n' + newsletter.config.read_text())
        wait_for(lambda: state(server)["email_version"] == 2)
        for n in (1, 2):
            (mine / "email.txt.j2").write_text(f"Mine {n}: {{{{ issue.subject }}}}\n")
            wait_for(lambda: get(server, "/email.txt")[2].startswith(f"Mine {n}: ".encode()))


def test_a_theme_that_is_a_loop_of_links_does_not_end_the_watch(newsletter, tmp_path):
    # Finding the theme's folders again raised on the watch's thread, which ended: no save was heard after.
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    good = newsletter.config.read_text()
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        newsletter.write_config(f'theme = "{tmp_path / "a"}"\n' + good)
        wait_for(lambda: state(server)["error"])
        newsletter.write_config(good.replace('name = "Test News"', 'name = "Fixed News"'))
        wait_for(lambda: state(server)["sender"] == "Fixed News" and not state(server)["error"])


def test_a_theme_folder_made_after_digest_toml_names_it_is_followed(newsletter):
    from digest.theme import BUILTIN

    newsletter.write_config('theme = "mine"\n' + newsletter.config.read_text())
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        assert "unknown theme 'mine'" in state(server)["error"]
        staging = newsletter.root / ".mine.copy"  # as digest theme copy makes it: whole, then renamed into place
        shutil.copytree(BUILTIN / "plain", staging)
        staging.rename(newsletter.root / "mine")
        wait_for(lambda: state(server)["error"] is None)
        (newsletter.root / "mine" / "email.txt.j2").write_text("Mine: {{ issue.subject }}\n")
        wait_for(lambda: get(server, "/email.txt")[2].startswith(b"Mine: "))
        # A theme kept elsewhere and linked in under the name digest.toml gives it.
        newsletter.write_config(newsletter.config.read_text().replace('theme = "mine"', 'theme = "linked"'))
        wait_for(lambda: "unknown theme 'linked'" in (state(server)["error"] or ""))
        time.sleep(0.5)  # the builds of that save are done: only the link can bring the next
        (newsletter.root / "linked").symlink_to(newsletter.root / "mine", target_is_directory=True)
        wait_for(lambda: state(server)["error"] is None)


def test_every_state_carries_the_run_so_a_page_tells_a_restarted_preview(newsletter):
    # Only the state before the first build had it: after a restart on the same port, a tab kept the old email.
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        first = state(server)
        newsletter.write_issue(newsletter.issue.read_text().replace("A trial of something", "A renamed trial"))
        after = wait_for(lambda: (now := state(server))["email_version"] == 2 and now)
        assert first["run"] == after["run"] and isinstance(after["run"], int)
