"""The `digest check` command (and the checks `digest build` runs), through CliRunner and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import REPO, SAMPLE_ISSUE
from digest.cli import cli
from test_links import server  # noqa: F401  (the real HTTP server fixture)

TODO_ISSUE = """\
subject: A subject line that is long enough
preheader: A preheader that is long enough to pass the checks we run.
date: 2024-05-14
intro: Hello readers, TODO
entries:
  - institution: Test University
    title: A trial of something
    summary: Our words.
    link: https://clinicaltrials.gov/study/NCT00000001
"""


@pytest.fixture(autouse=True)
def link_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGEST_LINK_CACHE", str(tmp_path / "links.json"))


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_the_sample_checks_clean():
    # The sample's digest.toml says platform = "mailchimp": real merge tags, nothing to report.
    result = invoke("check", "--strict", SAMPLE_ISSUE)
    assert (result.exit_code, result.stdout) == (0, "Checked 1 issue: no problems found.\n")


def test_an_unknown_platform_is_bad_usage():
    result = invoke("check", "--platform", "mailchimps", SAMPLE_ISSUE)
    assert result.exit_code == 2
    assert result.stderr.startswith("--platform: unknown mail platform 'mailchimps'; did you mean 'mailchimp'?")
    assert result.stdout == ""


def test_the_generic_placeholder_is_a_warning_and_strict_fails_on_warnings():
    result = invoke("check", "--platform", "generic", SAMPLE_ISSUE)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("digest.toml: platform: warning: the unsubscribe link is the placeholder")
    assert lines[0].endswith("[unsubscribe-placeholder]")
    assert lines[1] == "Checked 1 issue: 1 warning."
    assert invoke("check", "--strict", "--platform", "generic", SAMPLE_ISSUE).exit_code == 1


def test_an_error_exits_1_with_the_file_line_and_field(newsletter, monkeypatch):
    newsletter.write_issue(TODO_ISSUE)
    monkeypatch.chdir(newsletter.root)  # paths are shown relative to where the editor stands
    result = invoke("check", "issues/test-issue.yaml")
    assert result.exit_code == 1
    assert "digest.toml: platform: warning:" in result.stdout
    assert "issues/test-issue.yaml:4: intro: error: 'TODO' left in the text: finish or remove it before sending [placeholder]" in result.stdout
    assert result.stdout.splitlines()[-1] == "Checked 1 issue: 1 error, 1 warning."


def test_a_clean_issue_says_so(newsletter, monkeypatch):
    from digest import platforms
    from digest.platforms import PlatformTags

    monkeypatch.setitem(platforms.PLATFORMS, "testmail", PlatformTags(unsubscribe="*|UNSUB|*"))
    result = invoke("check", "--strict", "--platform", "testmail", newsletter.issue)
    assert result.exit_code == 0 and result.stdout == "Checked 1 issue: no problems found.\n"


def test_an_issue_that_cannot_be_read_is_a_finding_and_the_others_are_still_checked(newsletter, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    bad = newsletter.root / "issues" / "bad.yaml"
    bad.write_text("subject: one\nsubject: two\n", encoding="utf-8")
    result = invoke("check", bad, newsletter.issue)
    assert result.exit_code == 1
    assert "issues/bad.yaml:2: subject: error: appears twice (first on line 1): delete one of them [build-error]" in result.stdout
    assert "Checked 2 issues: 1 error, 1 warning." in result.stdout


def test_an_issue_that_cannot_be_read_is_reported_under_the_settings_platform(newsletter):
    newsletter.config.write_text('platform = "mailchimp"\n' + newsletter.config.read_text(encoding="utf-8"), encoding="utf-8")
    newsletter.write_issue("subject: one\nsubject: two\n")
    [report] = json.loads(invoke("check", "--format", "json", newsletter.issue).stdout)["issues"]
    assert report["platform"] == "mailchimp" and report["findings"][0]["id"] == "build-error"
    [report] = json.loads(invoke("check", "--format", "json", "--platform", "brevo", newsletter.issue).stdout)["issues"]
    assert report["platform"] == "brevo"


@pytest.mark.parametrize("args", [["check"], ["check", "--format", "xml", str(SAMPLE_ISSUE)]])
def test_bad_usage_exits_2(args):
    result = invoke(*args)
    assert result.exit_code == 2 and "Usage:" in result.stderr


def test_a_missing_issue_is_a_file_s_problem_exit_1_as_in_every_command():
    result = invoke("check", "no-such-issue.yaml")
    assert result.exit_code == 1
    assert result.stdout == "no-such-issue.yaml: error: no such issue file [build-error]\nChecked 1 issue: 1 error.\n"


def test_json_output_has_the_documented_keys_in_order(newsletter):
    newsletter.write_issue(TODO_ISSUE)
    result = invoke("check", "--format", "json", SAMPLE_ISSUE, newsletter.issue)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert list(data) == ["version", "errors", "warnings", "infos", "issues"]
    assert (data["version"], data["errors"], data["warnings"], data["infos"]) == (1, 1, 1, 0)
    sample, todo = data["issues"]
    assert list(sample) == ["issue", "platform", "errors", "warnings", "infos", "findings"]
    assert sample["platform"] == "mailchimp" and sample["issue"].endswith("2024-06-ldn-trials.yaml")
    assert todo["platform"] == "generic"
    assert list(todo["findings"][0]) == ["id", "severity", "file", "line", "field", "message"]
    assert {(f["id"], f["severity"], f["line"], f["field"]) for f in todo["findings"]} == {
        ("placeholder", "error", 4, "intro"),
        ("unsubscribe-placeholder", "warning", None, "platform"),
    }


def test_links_reports_broken_and_moved_links_with_plain_progress_lines(newsletter, server):  # noqa: F811
    # Every address on the local server: the test never depends on the outside world.
    newsletter.write_config(f"""\
        name = "Test News"
        organisation = "Test Org"
        website = "{server.url}/ok"
        address = "1 Test Street, Testville"
    """)
    newsletter.write_issue(TODO_ISSUE.replace("Hello readers, TODO", f"Read [the study]({server.url}/moved)")
                           .replace("https://clinicaltrials.gov/study/NCT00000001", f"{server.url}/missing"))
    result = invoke("check", "--links", "--format", "json", newsletter.issue)
    assert result.exit_code == 1
    found = {f["id"]: f for f in json.loads(result.stdout)["issues"][0]["findings"]}
    assert found["link-broken"]["line"] == 9 and "404" in found["link-broken"]["message"]
    assert found["link-moved"]["line"] == 4 and f"{server.url}/ok" in found["link-moved"]["message"]
    # Not a terminal: one plain line per link on stderr, stdout left to the JSON.
    assert "Checking 3 links" in result.stderr
    assert f"ok: {server.url}/ok" in result.stderr
    assert f"broken: {server.url}/missing" in result.stderr
    assert f"ok: {server.url}/moved" in result.stderr


def test_check_runs_as_a_real_subprocess():
    result = subprocess.run([sys.executable, "-m", "digest", "check", "--format", "json", str(SAMPLE_ISSUE)],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["errors"] == 0


# --- digest build runs the offline checks --------------------------------------------------------------

def test_build_refuses_to_write_on_errors_and_prints_them(newsletter, tmp_path):
    newsletter.write_issue(TODO_ISSUE)
    out = tmp_path / "out"
    result = invoke("build", "-o", out, newsletter.issue)
    assert result.exit_code == 1
    assert "error: 'TODO' left in the text" in result.stderr
    assert "1 error found, so nothing was written: fix it, or use --force to write the email anyway" in result.stderr
    assert not out.exists()


def test_build_with_force_writes_despite_errors(newsletter, tmp_path):
    newsletter.write_issue(TODO_ISSUE)
    result = invoke("build", "--force", "-o", tmp_path / "out", newsletter.issue)
    assert result.exit_code == 0 and "[placeholder]" in result.stderr
    assert (tmp_path / "out" / "test-issue" / "email.html").is_file()


def test_build_prints_warnings_and_goes_on(tmp_path):
    result = invoke("build", "-o", tmp_path, "--platform", "generic", SAMPLE_ISSUE)
    assert result.exit_code == 0 and "[unsubscribe-placeholder]" in result.stderr
    assert (tmp_path / "2024-06-ldn-trials" / "email.txt").is_file()


def test_links_shows_a_progress_bar_on_a_terminal(newsletter, server, tmp_path):  # noqa: F811
    import os
    import pty

    newsletter.write_config(f"""\
        name = "Test News"
        organisation = "Test Org"
        website = "{server.url}/ok"
        address = "1 Test Street, Testville"
    """)
    newsletter.write_issue(TODO_ISSUE.replace("https://clinicaltrials.gov/study/NCT00000001", f"{server.url}/temporary"))
    master, slave = pty.openpty()  # stderr is a real terminal; stdout is a pipe
    env = {**os.environ, "DIGEST_LINK_CACHE": str(tmp_path / "tty-links.json")}
    process = subprocess.Popen([sys.executable, "-m", "digest", "check", "--links", str(newsletter.issue)],
                               stdout=subprocess.PIPE, stderr=slave, cwd=REPO, env=env, text=True)
    os.close(slave)
    stdout, _ = process.communicate(timeout=60)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    screen = screen.decode()
    assert "Checking 2 links" in screen and "100%" in screen and "ok:" not in screen
    assert "[link-redirect]" in stdout and process.returncode == 1  # the TODO


def test_findings_come_in_reading_order_whatever_check_found_them(newsletter, monkeypatch):
    # Found by four checks that run in another order: the status (entries), the TODO (typed text), the
    # subject's length (text) and the entry given twice (entries). An editor fixes them top to bottom.
    newsletter.issue.write_text(TODO_ISSUE.replace("A subject line that is long enough", "Short").replace(
        "link: https://clinicaltrials.gov/study/NCT00000001",
        "link: https://clinicaltrials.gov/study/NCT00000001\n    status: Withdrawn\n"
        "  - institution: Test University\n    title: A trial of something\n    summary: Other words.\n"
        "    link: https://clinicaltrials.gov/study/NCT00000002"), encoding="utf-8")
    monkeypatch.chdir(newsletter.root)
    result = invoke("check", "--format", "json", "issues/test-issue.yaml")
    findings = [f for f in json.loads(result.output)["issues"][0]["findings"] if f["file"] == "issues/test-issue.yaml"]
    assert [(f["line"], f["id"]) for f in findings] == [
        (1, "subject-length"), (4, "placeholder"), (10, "trial-status"), (12, "entry-duplicate-title")]
