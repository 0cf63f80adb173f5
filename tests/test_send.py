"""digest send: a test copy through a real SMTP server (aiosmtpd) on 127.0.0.1, started inside each test."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import subprocess
import sys
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from digest.cli import cli

USER, PASSWORD = "editor", "s3cret-pass"
# The test servers take AUTH without TLS on purpose (a test on 127.0.0.1); aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Recorder:
    """Keeps what it receives; refuses any recipient at nobody@."""

    def __init__(self):
        self.received = []  # (mail from, recipients, message bytes)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    """Start servers on free ports; every one is stopped at the end of the test."""
    started = []

    def start(host="127.0.0.1", **options):
        recorder = Recorder()
        controller = Controller(recorder, hostname=host, port=free_port(host), **options)
        controller.start()
        started.append(controller)
        recorder.where = f"[{host}]:{controller.port}" if ":" in host else f"{host}:{controller.port}"
        return recorder

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def built(newsletter):
    """The test newsletter with a sender, sent with Brevo: never built before it is sent."""
    text = newsletter.config.read_text(encoding="utf-8")
    newsletter.config.write_text(text.replace("\n\n[[social]]", '\nsender = "Test News <news@testnews.example>"\nplatform = "brevo"\n\n[[social]]', 1), encoding="utf-8")
    return newsletter


def send(built, tmp_path, *args, env=None, input=None):
    return CliRunner().invoke(cli, ["send", str(built.issue), *args], env=env or {}, input=input)


def parts(data: bytes):
    message = BytesParser(policy=policy.default).parsebytes(data)
    return message, [part.get_content() for part in message.iter_parts()]


def test_delivery_to_an_ipv6_loopback_address(built, tmp_path, smtp_server):
    server = smtp_server(host="::1")
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 0, result.output
    assert [r[1] for r in server.received] == [["a@testnews.example"]]


def test_delivery(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--to", "b@testnews.example", "--smtp", server.where)
    assert result.exit_code == 0, result.output
    assert result.output == "Sent a test copy to a@testnews.example, b@testnews.example\n"
    [(sender, recipients, data)] = server.received
    assert sender == "news@testnews.example"
    assert recipients == ["a@testnews.example", "b@testnews.example"]
    got, (text, html) = parts(data)
    assert got["To"] == "a@testnews.example, b@testnews.example"
    assert got["Subject"] == "A subject line that is long enough" and got["From"] == "Test News <news@testnews.example>"
    assert got["Message-ID"] and got["Date"] and len(got.get_all("Date")) == 1
    # What the subscriber reads: Brevo's tags filled with sample values, and a banner that says so.
    assert "{{" not in html and "{{" not in text
    assert 'href="#"' in html and "Unsubscribe: #" in text
    assert "Test copy: Brevo fills in its tags" in html and text.startswith("[Test copy: Brevo fills in its tags")
    # The hidden preheader still comes first, so the inbox line is the subscriber's.
    assert html.index("A preheader that is long enough") < html.index("Test copy")


def test_raw_keeps_the_platform_tags_as_built(built, tmp_path, smtp_server):
    import digest

    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--raw")
    assert result.exit_code == 0, result.output
    _, (text, html) = parts(server.received[0][2])
    expected = digest.build(built.issue)
    assert (text, html) == (expected.text.replace("\n", "\r\n"), expected.html.replace("\n", "\r\n"))  # as mail travels
    assert 'href="{{ unsubscribe }}"' in html


def test_an_edit_after_a_build_is_what_is_sent(built, tmp_path, smtp_server):
    # The old way lost this: build --eml, edit, send mailed the stale build.
    assert CliRunner().invoke(cli, ["build", str(built.issue), "-o", str(tmp_path / "build"), "--eml"]).exit_code == 0
    built.issue.write_text(built.issue.read_text(encoding="utf-8").replace("Hello **readers**.", "Hello **friends**, edited."), encoding="utf-8")
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 0, result.output
    _, (text, html) = parts(server.received[0][2])
    assert "<strong>friends</strong>, edited." in html and "friends, edited." in text
    assert "readers" not in text


def test_errors_stop_the_send_unless_forced(built, tmp_path, smtp_server):
    built.issue.write_text(built.issue.read_text(encoding="utf-8").replace("Hello **readers**.", "Hello TODO."), encoding="utf-8")
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1
    assert "intro: error: 'TODO' left in the text" in result.output
    assert result.output.endswith("1 error found, so nothing was sent: fix it, or use --force to send the test copy anyway\n")
    assert server.received == []
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--force")
    assert result.exit_code == 0, result.output
    assert len(server.received) == 1


def test_login_with_password_from_the_environment(built, tmp_path, smtp_server):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    env = {"DIGEST_SMTP_PASSWORD": PASSWORD}
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--user", USER, env=env)
    assert result.exit_code == 0, result.output
    assert len(server.received) == 1


def test_login_with_a_hidden_prompt(built, tmp_path, smtp_server):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--user", USER, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden: not echoed
    assert f"Password for {USER} at 127.0.0.1" in result.output
    assert len(server.received) == 1


def test_wrong_password(built, tmp_path, smtp_server):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--user", USER, env={"DIGEST_SMTP_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert result.output == f"the mail server {server.where} refused the login for {USER} (535 5.7.8 Authentication credentials invalid)\n"
    assert server.received == []


def test_server_that_wants_a_login(built, tmp_path, smtp_server):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1
    assert result.output == f"the mail server {server.where} refused the sender news@testnews.example (530 5.7.0 Authentication required)\n"


def test_refused_recipient(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "nobody@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1
    assert result.output == f"the mail server {server.where} refused nobody@testnews.example (550 5.1.1 No such user here); nothing was sent\n"
    assert server.received == []


def test_one_recipient_refused_of_two(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--to", "nobody@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1
    assert result.output == (
        f"sent to a@testnews.example, but the mail server {server.where} refused nobody@testnews.example (550 5.1.1 No such user here)\n"
    )
    assert [r for _, r, _ in server.received] == [["a@testnews.example"]]


def test_server_that_is_down(built, tmp_path):
    port = free_port()  # nothing listens there
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.output == f"cannot connect to the mail server 127.0.0.1:{port} (Connection refused)\n"


def test_ssl_to_a_plain_server(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--ssl")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"cannot connect to the mail server {server.where} (TLS failed: ")


def test_starttls_where_the_server_has_none(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--starttls")
    assert result.exit_code == 1
    assert result.output == f"the mail server {server.where} does not offer STARTTLS: try --ssl, or neither\n"


def test_starttls_with_a_certificate_the_system_trusts(built, tmp_path, smtp_server, monkeypatch):
    """STARTTLS for real: a certificate made for 127.0.0.1, trusted through SSL_CERT_FILE as a CA would be."""
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = smtp_server(tls_context=context, require_starttls=True, authenticator=authenticator, auth_required=True)
    args = ["--to", "a@testnews.example", "--smtp", server.where, "--starttls", "--user", USER]
    env = {"DIGEST_SMTP_PASSWORD": PASSWORD}

    result = send(built, tmp_path, *args, env=env)  # the system does not trust this certificate yet
    assert result.exit_code == 1
    assert result.output.startswith(f"sending through {server.where} failed (TLS failed: CERTIFICATE_VERIFY_FAILED")

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    result = send(built, tmp_path, *args, env=env)
    assert result.exit_code == 0, result.output
    assert len(server.received) == 1


def test_sending_an_issue_never_built_needs_no_build(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "build").exists() and not (built.root / "build").exists()


@pytest.mark.parametrize("args, message", [
    (["--to", "not an address"], "--to: 'not an address' is not an email address\n"),
    (["--to", "a@testnews.example", "--smtp", "host:port"], "--smtp: 'host:port' is not HOST or HOST:PORT, e.g. smtp.example.org:587\n"),
])
def test_bad_options(built, tmp_path, args, message):
    result = send(built, tmp_path, *args)
    assert result.exit_code == 2
    assert result.output == message


def test_password_is_not_an_option(built, tmp_path):
    result = send(built, tmp_path, "--to", "a@testnews.example", "--password", "x")
    assert result.exit_code == 2 and "No such option '--password'" in result.output


def test_send_through_a_real_process(built, tmp_path, smtp_server):
    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    process = subprocess.run(
        [sys.executable, "-m", "digest", "send", str(built.issue),
         "--to", "a@testnews.example", "--smtp", server.where, "--user", USER],
        capture_output=True, text=True, timeout=60, env={**os.environ, "DIGEST_SMTP_PASSWORD": PASSWORD},
    )
    assert process.returncode == 0, process.stderr
    assert process.stderr == "Sent a test copy to a@testnews.example\n"
    assert len(server.received) == 1


def test_a_mailchimp_test_copy_reads_as_a_subscriber_would(built, tmp_path, smtp_server):
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--platform", "mailchimp")
    assert result.exit_code == 0, result.output
    _, (text, html) = parts(server.received[0][2])
    assert "*|" not in html and "*|" not in text
    # The inbox line is the preheader, not *|MC_PREVIEW_TEXT|*; the address is digest.toml's, not a tag.
    hidden = html[html.index('<div style="display:none'):]
    assert hidden.split(">", 1)[1].startswith("A preheader that is long enough to pass the checks we run.")
    assert "1 Test Street, Testville" in html
    assert 'href="#"' in html and "Unsubscribe: #" in text


def test_the_test_copy_s_subject_is_filled_like_its_body(built, tmp_path, smtp_server):
    # Only with --force (a typed tag is a template-code error), but then the Subject must read as the body does.
    built.issue.write_text(re.sub(r"(?m)^subject: (.*)$", r"subject: '*|FNAME|*, \1'", built.issue.read_text(encoding="utf-8")),
                           encoding="utf-8")
    server = smtp_server()
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--platform", "mailchimp", "--force")
    assert result.exit_code == 0, result.output
    message, (text, html) = parts(server.received[0][2])
    assert message["Subject"].startswith("Alex, ") and "<title>Alex, " in html
    send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--platform", "mailchimp", "--force", "--raw")
    assert parts(server.received[1][2])[0]["Subject"].startswith("*|FNAME|*, ")


class RawServer:
    """A mail server that says what `script(connection)` says, on a real socket, for what aiosmtpd will not do."""

    def __init__(self, script):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.where = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        connection, _ = self.sock.accept()
        with connection:
            try:
                self.script(connection, self.stop)
            except OSError:
                pass  # digest hung up: as it should

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


def endless_ehlo(connection, stop):
    connection.sendall(b"220 ready\r\n")
    connection.recv(1000)
    while not stop.is_set():
        connection.sendall(b"250-and more\r\n" * 1000)


def dripping(connection, stop):
    for byte in b"220 ready, very slowly\r\n":
        if stop.wait(0.5):
            return
        connection.sendall(bytes([byte]))


def escapes(connection, stop):
    connection.sendall(b"554 \x1b[31mgo away\x1b[0m\r\n")
    stop.wait(5)


def test_a_reply_that_never_ends_is_one_line_not_all_the_memory(built, tmp_path):
    # smtplib gathers a reply's lines without end: 5.8 GB after 20 s.
    with RawServer(endless_ehlo) as server:
        result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1
    assert result.output == f"the mail server {server.where} sent a reply of more than 200 lines; nothing was sent\n"


def test_a_server_answering_a_byte_at_a_time_is_cut_at_the_session_s_end(built, tmp_path, monkeypatch):
    # Each read has its 30 s, and each gets a byte: the session went on for minutes, or hours.
    from digest.commands import send as sending

    monkeypatch.setattr(sending, "SESSION", 2)
    started = time.monotonic()
    with RawServer(dripping) as server:
        result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1 and time.monotonic() - started < 10
    assert result.output == f"the mail server {server.where} did not finish within 2 s; nothing was sent\n"


def test_the_server_s_words_reach_the_terminal_without_its_escape_sequences(built, tmp_path):
    with RawServer(escapes) as server:
        result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where)
    assert result.exit_code == 1 and "\x1b" not in result.output and "go away" in result.output


@pytest.mark.parametrize("args, env, message", [
    (["--user", "jürgen"], {"DIGEST_SMTP_PASSWORD": "x"}, "must be plain ASCII"),
    (["--user", "me"], {"DIGEST_SMTP_PASSWORD": "pässwörd"}, "must be plain ASCII"),
])
def test_a_login_smtplib_cannot_send_is_one_line(built, tmp_path, args, env, message):
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", "127.0.0.1:9", *args, env=env)
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1 and message in result.output


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example.org"])
def test_a_server_name_that_is_no_name_is_one_line(built, tmp_path, host):
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", f"{host}:25")
    assert result.exit_code == 2 and result.output == f"--smtp: {host!r} is not a server name\n"


def test_a_password_sent_without_encryption_is_warned_of_but_to_this_computer(built, tmp_path, smtp_server):
    from digest.commands.send import _this_computer

    server = smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    result = send(built, tmp_path, "--to", "a@testnews.example", "--smtp", server.where, "--user", USER,
                  env={"DIGEST_SMTP_PASSWORD": PASSWORD})
    assert result.exit_code == 0 and "unencrypted" not in result.output
    assert [_this_computer(h) for h in ("localhost", "127.0.0.2", "::1", "smtp.example.org", "192.0.2.1")] == [
        True, True, True, False, False]
