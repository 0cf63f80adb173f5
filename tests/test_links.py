"""digest/links.py against a real HTTP server on 127.0.0.1, started and stopped by each test."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.links import check_urls, default_cache_path, link_findings, urls_to_check

SLOW_SECONDS = 1.5
TIMEOUT = 0.4


class _Handler(BaseHTTPRequestHandler):
    # path -> (status, Location), for HEAD and GET alike
    ROUTES = {
        "/ok": (200, None),
        "/moved": (301, "/ok"),
        "/temporary": (302, "/ok"),
        "/missing": (404, None),
        "/error": (500, None),
        "/loop": (302, "/loop"),
        "/moved-to-missing": (301, "/missing"),
        "/nowhere": (302, None),  # a redirect that names no page
        "/to-ftp": (302, "ftp://127.0.0.1/file"),
        "/to-mailto": (302, "mailto:a@b.example"),
    }

    def do_HEAD(self):
        self.server.started.append(time.monotonic())
        self.server.requests.append(("HEAD", self.path))
        if self.path == "/no-head":
            return self._answer(405)
        self._route()

    def do_GET(self):
        self.server.requests.append(("GET", self.path))
        self._route(body=True)

    def _route(self, body=False):
        if self.path.split("?")[0] == "/slow":
            time.sleep(SLOW_SECONDS)
            return self._answer(200, body=body)
        if self.path == "/no-head":
            return self._answer(200, body=body)
        if self.path.startswith("/chain/"):  # /chain/N: N + 1 redirects, then the page
            n = int(self.path.rpartition("/")[2])
            return self._answer(302, f"/chain/{n - 1}" if n else "/ok", body)
        if self.path in self.server.images:  # an uploaded image, with the type the server gives it
            return self._answer(200, body=body, content_type=self.server.images[self.path])
        status, location = self.ROUTES.get(self.path.split("?")[0], (404, None))
        self._answer(status, location, body)

    def _answer(self, status, location=None, body=False, content_type="text/html; charset=utf-8"):
        payload = b"<html><body>page</body></html>" if body else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow page): nothing to answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.requests, httpd.started = [], []
    httpd.images = {}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache" / "links.json"
    monkeypatch.setenv("DIGEST_LINK_CACHE", str(path))
    return path


def check(urls, **options):
    return check_urls(urls, timeout=TIMEOUT, delay=0, **options)


def test_a_page_that_answers_200_is_fine(server):
    result = check([server.url + "/ok"])[server.url + "/ok"]
    assert result.ok and result.status == 200 and result.redirect is None
    assert server.requests == [("HEAD", "/ok")]  # HEAD is enough: no page is downloaded


def test_a_permanent_redirect_is_followed_and_reported_with_the_new_address(server, newsletter):
    result = check([server.url + "/moved"])[server.url + "/moved"]
    assert result.ok and result.redirect == 301 and result.final_url == server.url + "/ok"


def test_a_temporary_redirect_is_followed(server):
    result = check([server.url + "/temporary"])[server.url + "/temporary"]
    assert result.ok and result.redirect == 302


@pytest.mark.parametrize("path, status", [("/missing", 404), ("/error", 500), ("/moved-to-missing", 404)])
def test_4xx_and_5xx_are_broken(server, path, status):
    result = check([server.url + path])[server.url + path]
    assert not result.ok and result.status == status and str(status) in result.problem
    # HEAD said no; GET is asked too, since some sites refuse HEAD only.
    assert ("GET", path) in server.requests


def test_head_refused_falls_back_to_get(server):
    result = check([server.url + "/no-head"])[server.url + "/no-head"]
    assert result.ok and server.requests == [("HEAD", "/no-head"), ("GET", "/no-head")]


def test_a_slow_page_times_out(server):
    started = time.monotonic()
    result = check([server.url + "/slow"])[server.url + "/slow"]
    assert not result.ok and "did not answer within 0.4 seconds" in result.problem
    assert time.monotonic() - started < SLOW_SECONDS


def test_a_redirect_that_names_no_page_is_broken(server):
    result = check([server.url + "/nowhere"])[server.url + "/nowhere"]
    assert not result.ok and result.problem == "the site answers 302 but names no page to go to"


def test_once_a_site_takes_no_connection_its_other_links_do_not_wait_their_turn_too():
    # 16 links to a silent site: 16 / 2 at a time × the timeout, 83 s at 10 s. A listening socket whose
    # queue is full takes no more connections: each connect waits, as for a site that is down.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        address = silent.getsockname()
        fillers = []
        for _ in range(3):  # fill its queue, without waiting for the connections it never takes
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(address)
            fillers.append(filler)
        time.sleep(0.2)
        try:
            urls = [f"http://127.0.0.1:{address[1]}/page-{i}" for i in range(8)]
            started = time.monotonic()
            results = check(urls)
            took = time.monotonic() - started
        finally:
            for filler in fillers:
                filler.close()
    assert all(not r.ok for r in results.values())
    assert took < 4 * TIMEOUT + 1, took
    assert sum("took no connection" in r.problem for r in results.values()) >= 5


def test_one_slow_page_says_nothing_about_the_other_pages_of_its_site(server):
    urls = [server.url + "/slow"] + [f"{server.url}/ok?{i}" for i in range(6)]
    results = check(urls)
    assert not results[server.url + "/slow"].ok
    assert all(results[url].ok for url in urls[1:])


def test_a_redirect_loop_is_broken(server):
    result = check([server.url + "/loop"])[server.url + "/loop"]
    assert not result.ok and "loop" in result.problem


def test_a_refused_connection_is_broken():
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = check([f"http://127.0.0.1:{port}/"])[f"http://127.0.0.1:{port}/"]
    assert not result.ok and "could not be reached" in result.problem


def test_a_name_that_does_not_exist_is_broken():
    result = check(["https://no-such-site.invalid/"])["https://no-such-site.invalid/"]
    assert not result.ok and "could not be found" in result.problem


def test_links_are_checked_side_by_side_within_the_per_host_limit(server):
    urls = [f"{server.url}/slow?{i}" for i in range(4)]
    started = time.monotonic()
    results = check(urls, per_host=4, max_connections=4)
    # Four timeouts of 0.4 s in parallel take about 0.4 s, not 1.6 s.
    assert all(not r.ok for r in results.values()) and time.monotonic() - started < 1.2


def test_per_host_politeness_spaces_requests(server):
    urls = [f"{server.url}/ok?{i}" for i in range(5)]
    check_urls(urls, timeout=TIMEOUT, delay=0.1, per_host=4)
    starts = sorted(server.started)
    # As the server saw them: 0.4 s from first to last, and no two together (a thread may start a little late).
    assert len(starts) == 5 and starts[-1] - starts[0] >= 0.39 and min(b - a for a, b in zip(starts, starts[1:])) >= 0.05


class _Busy(BaseHTTPRequestHandler):
    """Answers HEAD after 0.2 s, counting the requests in flight on its own host and on all hosts."""

    def do_HEAD(self):
        counts = self.server.counts
        with counts["lock"]:
            counts[self.server.host] += 1
            counts["all"] += 1
            for key in (self.server.host, "all"):
                counts["most " + key] = max(counts["most " + key], counts[key])
        time.sleep(0.2)
        with counts["lock"]:
            counts[self.server.host] -= 1
            counts["all"] -= 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_per_host_and_total_limits_hold_as_three_real_servers_see_them():
    counts = Counter()
    counts["lock"] = threading.Lock()
    servers = []
    try:
        for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            try:
                httpd = ThreadingHTTPServer((host, 0), _Busy)
            except OSError:
                pytest.skip(f"cannot listen on {host} (only Linux routes all of 127/8 to loopback)")
            httpd.daemon_threads, httpd.host, httpd.counts = True, host, counts
            threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            servers.append(httpd)
        urls = [f"http://{s.host}:{s.server_address[1]}/{i}" for s in servers for i in range(4)]
        started = time.monotonic()
        results = check_urls(urls, timeout=5, delay=0, per_host=2, max_connections=4)
        elapsed = time.monotonic() - started
    finally:
        for httpd in servers:
            httpd.shutdown()
            httpd.server_close()
    assert all(r.ok for r in results.values())
    assert [counts["most " + s.host] for s in servers] == [2, 2, 2]  # never more than 2 at once on one host ...
    assert counts["most all"] == 4  # ... nor more than 4 in all, and both limits reached
    assert elapsed >= 12 / 4 * 0.2 - 0.05


def test_a_second_run_within_the_hour_makes_no_requests(server, cache):
    urls = [server.url + p for p in ("/ok", "/moved", "/temporary", "/no-head")]
    first = check(urls)
    asked = len(server.requests)
    assert asked >= len(urls) and cache.is_file()
    second = check(urls)
    assert len(server.requests) == asked  # not one more request
    assert all(r.cached for r in second.values())
    assert [(r.ok, r.status, r.redirect, r.final_url) for r in second.values()] == \
           [(r.ok, r.status, r.redirect, r.final_url) for r in first.values()]


def test_broken_links_are_asked_again(server):
    check([server.url + "/missing"])
    asked = len(server.requests)
    check([server.url + "/missing"])
    assert len(server.requests) > asked  # the editor is fixing these: always the latest answer


def test_a_cache_older_than_an_hour_is_not_used(server, cache):
    check([server.url + "/ok"])
    data = json.loads(cache.read_text())
    data["links"][server.url + "/ok"]["checked"] -= 3601
    cache.write_text(json.dumps(data))
    check([server.url + "/ok"])
    assert Counter(server.requests)[("HEAD", "/ok")] == 2


def test_a_damaged_cache_is_started_afresh(server, cache):
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert check([server.url + "/ok"])[server.url + "/ok"].ok
    assert server.url + "/ok" in json.loads(cache.read_text())["links"]


@pytest.mark.parametrize("damage", [{"checked": "yesterday"}, {"content_type": 5}, {"checked": 9e15}, {"status": [200]},
                                    {"checked": True}])
def test_a_damaged_entry_is_asked_again_never_crashed_on_nor_trusted_for_ever(server, cache, damage):
    check([server.url + "/ok"])
    data = json.loads(cache.read_text())
    data["links"][server.url + "/ok"].update(damage)
    cache.write_text(json.dumps(data))
    assert check([server.url + "/ok"])[server.url + "/ok"].ok
    assert Counter(server.requests)[("HEAD", "/ok")] == 2  # asked again
    assert json.loads(cache.read_text())["links"][server.url + "/ok"]["status"] == 200


def test_the_cache_lives_in_the_user_cache_folder_unless_told(monkeypatch, tmp_path):
    monkeypatch.delenv("DIGEST_LINK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "digest" / "links.json"


def test_urls_to_check_skips_merge_tags_and_mailto_and_takes_every_image(newsletter):
    import digest

    newsletter.write_issue("""\
        subject: A subject line that is long enough
        preheader: A preheader that is long enough to pass the checks we run.
        date: 2024-05-14
        intro: Write to [us](mailto:a@testnews.example) or read [this study](https://testnews.example/study).
        entries:
          - institution: Test University
            title: A trial
            logo: https://cdn.testnews.example/remote-logo.png
            summary: Words.
            link: https://clinicaltrials.gov/study/NCT00000001
    """)
    urls = urls_to_check(digest.build(newsletter.issue))
    assert urls == [
        "https://www.facebook.com/testnews",
        "https://testnews.example/study",
        "https://clinicaltrials.gov/study/NCT00000001",
        "https://www.testnews.example/",
        "https://cdn.testnews.example/news/icons/facebook.png",  # a file digest uploads: is it there yet?
        "https://cdn.testnews.example/remote-logo.png",  # named by URL: already on the web
    ]


def test_findings_name_the_issue_line_of_each_link(server, newsletter):
    import digest

    newsletter.write_issue(f"""\
        subject: A subject line that is long enough
        preheader: A preheader that is long enough to pass the checks we run.
        date: 2024-05-14
        intro: |
          Hello.

          Read [the study]({server.url}/moved).
        entries:
          - institution: Test University
            title: A trial
            summary: Words.
            link: {server.url}/missing
          - institution: Other University
            title: Another trial
            summary: Words.
            link: {server.url}/temporary
    """)
    email = digest.build(newsletter.issue)
    urls = [u for u in urls_to_check(email) if u.startswith(server.url)]
    found = link_findings(check(urls), email)
    assert [(f.id, f.severity, f.line, f.field) for f in found] == [
        ("link-moved", "warning", 7, "intro"),
        ("link-broken", "error", 12, "entries[1].link"),
        ("link-redirect", "info", 16, "entries[2].link"),
    ]
    assert f"moved for good to {server.url}/ok" in found[0].message
    assert "404 Not Found" in found[1].message


def test_a_broken_link_only_the_theme_writes_is_named_on_its_line_of_the_html(server, newsletter):
    import digest

    templates = newsletter.root / "templates"
    templates.mkdir()
    (templates / "email.mjml.j2").write_text('{% extends "default/email.mjml.j2" %}\n{% block outro %}<mj-section>'
                                             f'<mj-column><mj-text><a href="{server.url}/missing">Our partners</a>'
                                             "</mj-text>"
                                             f'<mj-image src="{server.url}/missing.png" alt="A partner"></mj-image>'
                                             "</mj-column></mj-section>{% endblock %}\n", encoding="utf-8")
    email = digest.build(newsletter.issue)
    urls = [server.url + "/missing", server.url + "/missing.png"]
    found = link_findings(check(urls), email)
    assert [(f.path, f.field) for f in found] == [("email.html", None)] * 2
    for finding, attribute in zip(found, (f'href="{urls[0]}"', f'src="{urls[1]}"')):
        assert attribute in email.html.splitlines()[finding.line - 1]


def test_images_not_uploaded_yet_are_named_with_the_folder_to_upload(server, newsletter):
    from click.testing import CliRunner

    from digest.cli import cli

    newsletter.write_config(newsletter.config.read_text().replace("https://cdn.testnews.example/news/", f"{server.url}/news/"))
    newsletter.write_issue(newsletter.issue.read_text().replace("https://clinicaltrials.gov/study/NCT00000001", f"{server.url}/ok"))
    server.images["/news/issues/images/logo.png"] = "image/png"  # uploaded
    server.images["/news/icons/facebook.png"] = "text/html"  # a web page where the icon should be
    result = CliRunner().invoke(cli, ["check", "--links", "--format", "json", str(newsletter.issue)])
    findings = json.loads(result.stdout)["issues"][0]["findings"]
    images = [f for f in findings if f["id"] == "image-not-uploaded"]
    assert [(f["severity"], f["field"]) for f in images] == [("error", "social[1].platform")]
    assert images[0]["message"] == (f"the image {server.url}/news/icons/facebook.png is not on the web yet (it answers "
                                    f"with text/html, not an image): upload the folder build/test-issue/icons/ to {server.url}/news/")
    del server.images["/news/issues/images/logo.png"]  # now missing: a 404
    default_cache_path().unlink()  # links found fine are remembered for an hour
    result = CliRunner().invoke(cli, ["check", "--links", "--format", "json", str(newsletter.issue)])
    findings = json.loads(result.stdout)["issues"][0]["findings"]
    logo = [f for f in findings if f["id"] == "image-not-uploaded" and f["field"] == "entries[1].logo"]
    assert len(logo) == 1 and "404 Not Found" in logo[0]["message"] and "build/test-issue/issues/" in logo[0]["message"]
    assert logo[0]["line"] == 9


def test_a_bare_address_typed_in_the_intro_is_checked_like_any_link_from_the_command_line(server, newsletter):
    # Issue 10: `https://…` typed in Markdown becomes a link (linkify) and is checked like one, in text and JSON.
    from click.testing import CliRunner

    from digest.cli import cli

    newsletter.write_issue(newsletter.issue.read_text().replace("Hello **readers**.", f"Hello **readers**, see {server.url}/missing."))
    result = CliRunner().invoke(cli, ["check", "--links", str(newsletter.issue)])
    assert result.exit_code == 1
    assert (f"{newsletter.issue}:5: intro: error: the link {server.url}/missing is broken: the site answers "
            "404 Not Found [link-broken]") in result.stdout.splitlines()
    assert f"{newsletter.issue}:5: intro: warning: the link {server.url}/missing uses http://" in result.stdout
    default_cache_path().unlink(missing_ok=True)
    result = CliRunner().invoke(cli, ["check", "--links", "--format", "json", str(newsletter.issue)])
    findings = json.loads(result.stdout)["issues"][0]["findings"]
    assert {(f["id"], f["severity"], f["line"], f["field"]) for f in findings if server.url in f["message"]} == {
        ("link-broken", "error", 5, "intro"), ("link-http", "warning", 5, "intro")}


def test_a_chain_of_redirects_a_browser_follows_is_a_redirect_not_a_loop(server):
    # Past 10 redirects the link was "broken: redirects in a loop"; browsers follow about 20.
    url = server.url + "/chain/14"
    result = check([url])[url]
    assert result.ok and result.redirect == 302 and result.final_url == server.url + "/ok"
    url = server.url + "/chain/25"
    assert "redirects more than 20 times" in check([url])[url].problem


def test_a_redirect_to_another_scheme_names_the_redirect_not_the_address_typed(server):
    url = server.url + "/to-ftp"
    result = check([url])[url]
    assert not result.ok and result.problem.startswith("redirects to ftp://127.0.0.1/file, an address no browser opens")
    url = server.url + "/to-mailto"
    result = check([url])[url]
    assert not result.ok and result.problem.startswith("redirects to mailto:a@b.example, an address no browser opens")


def test_an_image_answering_with_a_page_is_asked_again_next_time(server):
    # Kept for an hour as "fine", it was still "not uploaded" after the upload, and never asked again.
    url = server.url + "/logo.png"
    server.images["/logo.png"] = "text/html"
    assert check([url], images=frozenset({url}))[url].content_type == "text/html"
    server.images["/logo.png"] = "image/png"
    asked = len(server.requests)
    assert check([url], images=frozenset({url}))[url].content_type == "image/png"
    assert len(server.requests) > asked


def test_a_redirect_whose_body_never_ends_is_followed_without_reading_it():
    # httpx read a redirect's whole body before following it: one link took 3.7 GB until the deadline.
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = listener.getsockname()[1]

    def answer(conn):
        with conn:
            request = conn.recv(65536).decode("latin-1")
            if request.startswith("HEAD"):
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif " /ok " in request:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /ok\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
                try:
                    while not stop.is_set():
                        conn.sendall(chunk)
                except OSError:
                    pass  # the client closed the connection, as it should

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}/endless"
        result = check_urls([url], timeout=5, delay=0)[url]
        assert result.ok and result.redirect == 302, result.problem
    finally:
        stop.set()
        thread.join(5)
        listener.close()
