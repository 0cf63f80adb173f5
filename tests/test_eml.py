"""digest build --eml: the whole message, parsed back with the standard library and compared to the parts."""

from __future__ import annotations

import subprocess
import sys
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import pytest
from click.testing import CliRunner

from digest.cli import cli

SENDER = 'sender = "Test News <news@testnews.example>"\n'


def configure(newsletter, extra: str = SENDER) -> None:
    text = newsletter.config.read_text(encoding="utf-8")
    newsletter.config.write_text(text.replace("\n\n[[social]]", "\n" + extra + "\n[[social]]", 1), encoding="utf-8")


def build(newsletter, out, *args):
    return CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(out), "--eml", *args])


def parse(path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_round_trip_parts_are_the_built_files(newsletter, tmp_path):
    configure(newsletter, SENDER + 'unsubscribe = ["https://testnews.example/u?list=1", "mailto:leave@testnews.example"]\n')
    result = build(newsletter, tmp_path / "out", "--platform", "mailchimp")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "test-issue"
    raw = (folder / "email.eml").read_bytes()
    message = parse(folder / "email.eml")

    assert message.get_content_type() == "multipart/alternative"
    assert message["MIME-Version"] == "1.0"
    assert message["From"] == "Test News <news@testnews.example>"
    assert message["Subject"] == "A subject line that is long enough"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@testnews.example>")
    assert message["List-Unsubscribe"].strip() == "<https://testnews.example/u?list=1>, <mailto:leave@testnews.example>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not message.defects

    text, html = message.iter_parts()  # text first, HTML last: the preferred part comes last (RFC 2046)
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    for part, name in ((text, "email.txt"), (html, "email.html")):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        # Decoded, each part is the file's bytes in MIME's canonical form (CRLF line ends, RFC 2046 4.1.1).
        assert part.get_payload(decode=True) == (folder / name).read_bytes().replace(b"\n", b"\r\n")
    assert "*|UNSUB|*" in html.get_content()

    # As sent: CRLF line ends, 7-bit, no line over SMTP's limit.
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 78
    assert raw.isascii()


def test_non_ascii_subject_is_rfc2047_encoded(newsletter, tmp_path):
    configure(newsletter)
    text = newsletter.issue.read_text(encoding="utf-8")
    newsletter.issue.write_text(text.replace("A subject line that is long enough", "Naltrexon – Neuigkeiten für Sie"), encoding="utf-8")
    result = build(newsletter, tmp_path / "out")
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "out" / "test-issue" / "email.eml").read_bytes()
    header = raw.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0]
    assert header.isascii() and b"=?utf-8?" in header  # RFC 2047 encoded words for the non-ASCII part
    assert parse(tmp_path / "out" / "test-issue" / "email.eml")["Subject"] == "Naltrexon – Neuigkeiten für Sie"


def test_non_ascii_sender_name(newsletter, tmp_path):
    configure(newsletter, 'sender = "Zoë, the editor <news@testnews.example>"\n')
    result = build(newsletter, tmp_path / "out")
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "out" / "test-issue" / "email.eml").read_bytes()
    assert raw.isascii()
    message = parse(tmp_path / "out" / "test-issue" / "email.eml")
    assert message["From"].addresses[0].display_name == "Zoë, the editor"
    assert message["From"].addresses[0].addr_spec == "news@testnews.example"


def test_mailto_only_has_no_one_click_header(newsletter, tmp_path):
    configure(newsletter, SENDER + 'unsubscribe = "mailto:leave@testnews.example?subject=unsubscribe"\n')
    assert build(newsletter, tmp_path / "out").exit_code == 0
    message = parse(tmp_path / "out" / "test-issue" / "email.eml")
    assert message["List-Unsubscribe"].strip() == "<mailto:leave@testnews.example?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] is None  # RFC 8058: one-click needs an https address


def test_no_unsubscribe_configured_means_no_list_headers(newsletter, tmp_path):
    configure(newsletter)
    assert build(newsletter, tmp_path / "out").exit_code == 0
    message = parse(tmp_path / "out" / "test-issue" / "email.eml")
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_without_sender_nothing_is_written(newsletter, tmp_path):
    result = build(newsletter, tmp_path / "out")
    assert result.exit_code == 1
    assert result.output.endswith('digest.toml: a test copy or an .eml needs a sender for its From line: add  sender = "Name <address@example.org>"  to digest.toml\n')
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "line, problem",
    [
        ('sender = "news@"', "is not an email address"),
        ('sender = "Test News"', "is not an email address"),
        ('sender = "Test <a b@testnews.example>"', "is not an email address"),
        ('sender = "a < b"', "is not an email address"),
        ('sender = "Test <news@testnews.example> <x@testnews.example>"', "is not an email address"),
        ('unsubscribe = "http://testnews.example/u"', "must start with https:// or mailto:"),
        ('unsubscribe = "javascript:alert(1)"', "must start with https://, http:// or mailto:"),
        ("unsubscribe = 3", "must be an address in quotes"),
        # Python's email package decodes =?…?= and writes its line breaks out raw: a Bcc:, or a body of its own.
        ('sender = "=?utf-8?q?News=0D=0ABcc:_x@evil.example?= <news@testnews.example>"', "holds '=?…?='"),
        ('sender = "=?utf-8?q?Test News=0D=0ABcc:_x@evil.example?= <news@testnews.example>"', "holds '=?…?='"),
        ('sender = "=?utf-8?q?=0D=0ATest News <news@testnews.example>"', "holds '=?…?='"),  # no end: decoded all the same
        ('unsubscribe = "mailto:u@testnews.example?subject==?utf-8?q?a=0D=0AX:_y?="', "holds '=?…?='"),
    ],
)
def test_bad_sender_or_unsubscribe(newsletter, tmp_path, line, problem):
    configure(newsletter, line + "\n")
    result = build(newsletter, tmp_path / "out")
    assert result.exit_code == 1
    key = line.split(" ")[0]
    assert f"digest.toml:6: {key}: " in result.output and problem in result.output, result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("subject", ["=?utf-8?q?Hello there=0D=0AX-Injected:_yes=0D=0A=0D=0AFake_body?=",
                                     "Monthly news =?utf-8?q?=0D=0ABcc: victim@evil.example"])
def test_a_subject_encoded_as_a_mail_header_is_refused_not_decoded_into_more_headers(newsletter, tmp_path, subject):
    configure(newsletter)
    newsletter.issue.write_text(newsletter.issue.read_text(encoding="utf-8").replace(
        "subject: A subject line that is long enough",
        f'subject: "{subject}"'), encoding="utf-8")
    result = build(newsletter, tmp_path / "out")
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert "test-issue.yaml:1: subject: holds '=?…?=', the form mail headers are encoded in: type the words themselves" in result.output


def test_eml_with_stdout_is_refused(newsletter, tmp_path):
    configure(newsletter)
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "--eml", "--stdout", "html"])
    assert result.exit_code == 2  # usage: the two do not go together
    assert result.output.endswith("Error: --eml needs the files written: leave out --stdout\n")
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "--eml", "-o", "-"])
    assert result.exit_code == 2
    assert result.output.endswith("Error: --eml needs the files written: leave out -o -\n")


def test_eml_through_a_real_process(newsletter, tmp_path):
    configure(newsletter)
    process = subprocess.run(
        [sys.executable, "-m", "digest", "build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--eml"],
        capture_output=True, text=True, timeout=60,
    )
    assert process.returncode == 0, process.stderr
    assert "test-issue/email.html and email.txt and email.eml\n" in process.stderr
    message = parse(tmp_path / "out" / "test-issue" / "email.eml")
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
