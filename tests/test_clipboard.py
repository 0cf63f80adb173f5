"""digest build --copy: the real clipboard under a virtual X display (Xvfb + xclip), and the message where
there is no clipboard at all (a server, CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from digest.cli import cli

NO_DESKTOP = {"DISPLAY": None, "WAYLAND_DISPLAY": None}
NO_CLIPBOARD = ("no clipboard here (no desktop session, or none of xclip, xsel, wl-copy installed); copy it by hand "
                "from the file (open it in a text editor, not a browser), or print it with --stdout {part}\n")


def test_no_clipboard_the_files_are_written_and_said_so_then_the_line_says_why_not_copied(newsletter, tmp_path):
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--copy", "html"], env=NO_DESKTOP)
    assert result.exit_code == 1  # what was asked, the copy, did not happen
    html = tmp_path / "out" / "test-issue" / "email.html"
    assert html.is_file()
    lines = result.stderr.splitlines()
    built = next(i for i, line in enumerate(lines) if line.startswith("Built "))
    assert lines[built] == f"Built {tmp_path / 'out' / 'test-issue'}/email.html and email.txt"
    assert any(line.startswith("To paste into ") for line in lines[built:])
    assert result.stderr.endswith(f"{html}: written, but not copied: " + NO_CLIPBOARD.format(part="html"))


def test_no_clipboard_through_a_real_process(newsletter, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in NO_DESKTOP}
    process = subprocess.run(
        [sys.executable, "-m", "digest", "build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--copy", "text"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert process.returncode == 1
    assert process.stderr.endswith(f"{tmp_path / 'out' / 'test-issue' / 'email.txt'}: written, but not copied: "
                                   + NO_CLIPBOARD.format(part="text"))


def test_copy_takes_one_issue(newsletter, tmp_path):
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), str(newsletter.issue.with_name("other.yaml")), "-o", str(tmp_path / "out"), "--copy", "html"])
    assert result.exit_code == 2  # usage
    assert result.output == "--copy: takes one issue, since the clipboard holds one email; 2 were given\n"


needs_x = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xclip")), reason="Xvfb and xclip are not installed (.ci/run installs them)")


@pytest.fixture
def x_display():
    """A virtual X display of our own, for as long as the test runs."""
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "640x480x24"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        number = server.stdout.readline().decode().strip()  # written once the display is ready
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@needs_x
@pytest.mark.parametrize("part, name", [("html", "email.html"), ("text", "email.txt")])
def test_real_copy_under_x(newsletter, tmp_path, x_display, part, name):
    env = {k: v for k, v in os.environ.items() if k not in NO_DESKTOP} | {"DISPLAY": x_display}
    process = subprocess.run(
        [sys.executable, "-m", "digest", "build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--copy", part],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert process.returncode == 0, process.stderr
    assert process.stderr.endswith(f"Copied the {'HTML' if part == 'html' else 'text part'} ({name}) to the clipboard\n")
    pasted = subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True, timeout=10, env=env).stdout
    assert pasted == (tmp_path / "out" / "test-issue" / name).read_bytes()


@needs_x
def test_display_that_is_gone(newsletter, tmp_path):
    # xclip exits with an error pyperclip does not look at; reading the clipboard back catches it.
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--copy", "text"],
                                env={"DISPLAY": ":987", "WAYLAND_DISPLAY": None})
    assert result.exit_code == 1
    assert result.output.endswith("email.txt: written, but not copied: the clipboard did not take the text (is the "
                                  "desktop session still running?); copy it by hand from the file (open it in a text "
                                  "editor, not a browser), or print it with --stdout text\n")
