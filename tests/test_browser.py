"""`digest build --open`: the built email opens in the browser named by $BROWSER (here, one that writes it down)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import webbrowser

from click.testing import CliRunner

from digest.cli import cli


def _recording_browser(tmp_path):
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {record}\n')
    browser.chmod(0o755)
    return browser, record


def _wait_for_text(path, timeout=10):
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.read_text()


def test_build_open_opens_the_built_email(newsletter, tmp_path, monkeypatch):
    browser, record = _recording_browser(tmp_path)
    monkeypatch.chdir(newsletter.root)
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads $BROWSER once; make it read ours
    result = CliRunner().invoke(cli, ["build", "--open", str(newsletter.issue)], env={"BROWSER": str(browser)})
    assert result.exit_code == 0, result.output
    built = newsletter.root / "build" / "test-issue" / "email.html"
    assert _wait_for_text(record) == built.resolve().as_uri() + "\n"


def test_build_open_in_a_real_process(newsletter, tmp_path):
    browser, record = _recording_browser(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "digest", "build", "--open", "-o", str(out), str(newsletter.issue)],
        capture_output=True, text=True, env={**os.environ, "BROWSER": str(browser)}, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert _wait_for_text(record) == (out / "test-issue" / "email.html").resolve().as_uri() + "\n"


def test_open_with_stdout_is_refused(newsletter):
    result = CliRunner().invoke(cli, ["build", "--open", "--stdout", "html", str(newsletter.issue)])
    assert result.exit_code == 2
    assert "Error: --open needs the files written: leave out --stdout" in result.output
