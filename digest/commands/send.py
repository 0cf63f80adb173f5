"""`digest send`: build an issue fresh and mail a test copy through an SMTP server.

The password is never a command-line flag or a file: it comes from DIGEST_SMTP_PASSWORD or a hidden prompt.
Every failure is one line naming the server and what it said.
"""

from __future__ import annotations

import os
import re
import ssl
from email.utils import parseaddr
from pathlib import Path

import click

from digest.exceptions import DigestError, OptionError

PASSWORD_VARIABLE = "DIGEST_SMTP_PASSWORD"
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, None: 25}
TIMEOUT = 30  # seconds: a server that does not answer is reported, not waited on for ever
SESSION = 120  # seconds for the whole exchange: a server that answers a byte at a time must end too
MAX_REPLY_LINES = 200  # an EHLO answer has a dozen: a reply that never ends must not fill the memory


class SendError(DigestError):
    """The test copy could not be sent."""


class _ReplyTooLong(Exception):
    """Not an OSError, which smtplib would report as the server closing the connection."""


class _Lines:
    """The server's replies as smtplib reads them, a bounded number of lines to each."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readline(self, size=-1):
        self.count += 1
        if self.count > MAX_REPLY_LINES:
            raise _ReplyTooLong
        return self.raw.readline(size)

    def close(self):
        self.raw.close()


def _bounded(smtp_class):
    """smtplib's client, reading at most MAX_REPLY_LINES lines to a reply (it gathers them without end)."""
    class Bounded(smtp_class):
        def getreply(self):
            if self.file is None and self.sock is not None:
                self.file = _Lines(self.sock.makefile("rb"))
            if isinstance(self.file, _Lines):
                self.file.count = 0
            return super().getreply()

    return Bounded


class _Deadline:
    """Cuts the connection when the session has run SESSION seconds: each read waits TIMEOUT at most, but
    a server sending a byte now and then would keep a read going for ever."""

    def __init__(self, connection):
        import threading

        self.connection, self.passed = connection, False
        self.timer = threading.Timer(SESSION, self._cut)
        self.timer.daemon = True

    def _cut(self):
        import socket

        self.passed = True
        sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()


def send(issue_path: Path, recipients: list[str], server: str, security: str | None, user: str | None,
         config_path: Path | None = None, platform: str | None = None, force: bool = False, raw: bool = False) -> None:
    """Build ISSUE fresh, exactly as `digest build` would, and mail it as a test copy."""
    import smtplib

    import digest
    from digest.commands.report import format_finding
    from digest.eml import build_message
    from digest.model import ERROR
    from digest.platforms import with_sample_values

    for address in recipients:
        if not _is_address(address):
            raise OptionError(f"{address!r} is not an email address", None, None, "--to")
    host, port = _host_port(server, security)
    result = digest.build(issue_path, config=config_path, platform=platform)
    for finding in result.findings:
        click.echo(format_finding(finding, issue_path, colour=True), err=True)
    errors = sum(f.severity == ERROR for f in result.findings)
    if errors and not force:
        raise SendError(f"{errors} error{'s' if errors != 1 else ''} found, so nothing was sent: "
                        f"fix {'it' if errors == 1 else 'them'}, or use --force to send the test copy anyway")
    if not raw:
        result = with_sample_values(result)
        from digest.markup import encoded_word_problem

        # Checked as typed; the sample values filled in could complete an encoded word (only with --force).
        if problem := encoded_word_problem(result.issue.subject):
            raise SendError(f"the subject, with the sample values filled in, {problem}")
    message = build_message(result)
    sender = parseaddr(message["From"])[1]
    message["To"] = ", ".join(recipients)

    password = None
    if user:
        password = os.environ.get(PASSWORD_VARIABLE) or click.prompt(f"Password for {user} at {host}", hide_input=True, err=True)
        if not (user + password).isascii():
            raise SendError(f"the user name and password for {host} must be plain ASCII letters, digits and signs: "
                            "smtplib's login sends no other (use the account's app password, if it has one)")
        if security is None and not _this_computer(host):
            click.echo(f"warning: the password for {user} goes to {host} unencrypted: add --starttls or --ssl if the "
                       "server offers them", err=True)

    where = f"{host}:{port}"
    if security == "ssl":
        connection = _bounded(smtplib.SMTP_SSL)(timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        connection = _bounded(smtplib.SMTP)(timeout=TIMEOUT)
    deadline = _Deadline(connection)
    try:
        with deadline:
            _session(connection, host, port, security, user, password, message, sender, recipients, where)
    except _ReplyTooLong:
        raise SendError(f"the mail server {where} sent a reply of more than {MAX_REPLY_LINES} lines; nothing was sent") from None
    except (SendError, OSError, smtplib.SMTPException):
        if deadline.passed:  # what the cut connection made of it says less than this
            raise SendError(f"the mail server {where} did not finish within {SESSION} s; nothing was sent") from None
        raise


def _session(connection, host, port, security, user, password, message, sender, recipients, where) -> None:
    import smtplib

    connection._host = host  # what the constructor sets when given the host (TLS checks the name against it)
    try:
        code, greeting = connection.connect(host, port)
    except UnicodeError:  # a name the IDNA codec refuses: 'a..b', a label over 63 letters
        raise OptionError(f"{host!r} is not a server name", None, None, "--smtp") from None
    except (OSError, smtplib.SMTPException) as exc:
        connection.close()
        raise SendError(f"cannot connect to the mail server {where} ({_reason(exc)})") from None
    if code != 220:  # as the constructor would refuse it
        connection.close()
        raise SendError(f"the mail server {where} would not take mail ({_reply(code, greeting)})")
    try:
        with connection:
            if security == "starttls":
                try:
                    connection.starttls(context=ssl.create_default_context())
                except smtplib.SMTPNotSupportedError:
                    raise SendError(f"the mail server {where} does not offer STARTTLS: try --ssl, or neither") from None
            if user:
                try:
                    connection.login(user, password)
                except smtplib.SMTPNotSupportedError:
                    raise SendError(f"the mail server {where} does not offer logging in here: try --starttls or --ssl") from None
            refused = connection.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"the mail server {where} refused the login for {user} ({_reply(exc.smtp_code, exc.smtp_error)})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"the mail server {where} refused {_refusals(exc.recipients)}; nothing was sent") from None
    except smtplib.SMTPSenderRefused as exc:
        raise SendError(f"the mail server {where} refused the sender {sender} ({_reply(exc.smtp_code, exc.smtp_error)})") from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"the mail server {where} said: {_reply(exc.smtp_code, exc.smtp_error)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"sending through {where} failed ({_reason(exc)})") from None
    if refused:
        sent = [r for r in recipients if r not in refused]
        raise SendError(f"sent to {', '.join(sent)}, but the mail server {where} refused {_refusals(refused)}")


def _this_computer(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_address(value: str) -> bool:
    name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    return bool(local) and bool(domain) and address == value.strip() and not any(c in address for c in " <>,;")


def _host_port(server: str, security: str | None) -> tuple[str, int]:
    """HOST, HOST:PORT, a bare IPv6 address, or [IPv6]:PORT as in a URL."""
    bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", server)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
    elif server.count(":") == 1:
        host, _, port = server.partition(":")
    else:
        host, port = server, None  # a name, or an IPv6 address without a port
    if port is None:
        return host, DEFAULT_PORTS[security]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise OptionError(f"{server!r} is not HOST or HOST:PORT, e.g. smtp.example.org:587", None, None, "--smtp")
    return host, int(port)


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if (code, text) == (500, "Line too long."):  # smtplib's own words for a line past 8 KB, not the server's
        return "a reply line longer than 8 KB"
    return f"{code} {_printable(text)}"


def _printable(text: str) -> str:
    # The server's words reach a terminal: an escape sequence in them must not recolour or move it.
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _refusals(refused: dict) -> str:
    return ", ".join(f"{address} ({_reply(code, text)})" for address, (code, text) in refused.items())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):  # smtplib words a timeout as the server closing
        return f"no answer in {TIMEOUT} s"
    return _printable(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
