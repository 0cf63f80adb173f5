"""`digest preview` as an editor runs it: in-process with CliRunner, and as a real process stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from digest.cli import cli
from digest.exceptions import where

REPO = Path(__file__).resolve().parent.parent


def test_a_missing_issue_is_one_line_and_exit_1(tmp_path):
    result = CliRunner().invoke(cli, ["preview", str(tmp_path / "nope.yaml"), "--no-open"])
    assert result.exit_code == 1
    assert result.output.strip() == f"{where(tmp_path / 'nope.yaml')}: no such issue file"


def test_no_digest_toml_is_one_line_and_exit_1(tmp_path):
    issue = tmp_path / "issue.yaml"
    issue.write_text("subject: x\n")
    result = CliRunner().invoke(cli, ["preview", str(issue), "--no-open"])
    assert result.exit_code == 1
    assert "no digest.toml found" in result.output and "Traceback" not in result.output


def test_a_port_in_use_is_one_line_and_exit_1(newsletter):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["preview", str(newsletter.issue), "--no-open", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip().endswith(f"port {port} is in use: choose another with --port, or leave it out to pick a free one")


def test_help_names_the_options():
    result = CliRunner().invoke(cli, ["preview", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--no-open", "--config"):
        assert option in result.output


def _start(args, env=None):
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "preview", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    line = process.stdout.readline()
    assert " at http://127.0.0.1:" in line, (line, process.stderr.read() if process.poll() is not None else "")
    return process, line.rsplit(" at ", 1)[1].strip()


def test_a_real_process_serves_the_issue_opens_the_browser_and_stops_on_ctrl_c(newsletter, tmp_path):
    # $BROWSER is the standard way to name the browser; this one writes down the address it was given.
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf %s "$1" > {record}\n')
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser)}
    process, url = _start([str(newsletter.issue), "--port", "0"], env)
    try:
        with urllib.request.urlopen(url + "state.json", timeout=10) as answer:
            assert json.load(answer)["subject"] == "A subject line that is long enough"
        deadline = time.monotonic() + 10
        while not (record.exists() and record.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert record.read_text() == url
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Stopped the preview." in err and "Traceback" not in err
    assert "Built " in err


def test_sigterm_stops_it_as_cleanly_as_ctrl_c(newsletter):
    process, url = _start([str(newsletter.issue), "--port", "0", "--no-open"])
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Stopped the preview." in err and "Traceback" not in err


def test_no_open_prints_the_address_and_opens_nothing(newsletter, tmp_path):
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\ntouch {record}\n")
    browser.chmod(0o755)
    process, url = _start([str(newsletter.issue), "--port", "0", "--no-open"], {**os.environ, "BROWSER": str(browser)})
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
        time.sleep(0.3)
        assert not record.exists()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0
