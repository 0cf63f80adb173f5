"""The commands, through Click's CliRunner and through a real `python -m digest` process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import REPO, SAMPLE_ISSUE
from digest import __version__
from digest.cli import cli

COMMANDS = ["build", "init", "new"]


def run(*args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args), catch_exceptions=False)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def digest_process(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "digest", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_version_and_help():
    result = run("--version")
    assert result.exit_code == 0 and f"digest {__version__} from " in result.output and "Python 3." in result.output
    assert run("--help").exit_code == 0
    for command in COMMANDS:
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage: digest " + command in result.output


def test_build_writes_the_three_files_and_images(newsletter):
    result = run("build", "issues/test-issue.yaml", cwd=newsletter.root)
    assert result.exit_code == 0, result.output
    out = newsletter.root / "build" / "test-issue"
    assert sorted(p.name for p in out.iterdir()) == ["email.html", "email.mjml", "email.txt", "icons", "issues"]
    assert (out / "issues" / "images" / "logo.png").read_bytes() == (newsletter.root / "issues" / "images" / "logo.png").read_bytes()
    assert (out / "icons" / "facebook.png").is_file()
    assert (out / "email.mjml").read_text().startswith("<mjml lang=\"en\">")
    assert "Built build/test-issue/email.html" in result.output


def test_build_to_stdout_writes_nothing(newsletter):
    html = run("build", "issues/test-issue.yaml", "--stdout", "html", cwd=newsletter.root)
    text = run("build", "issues/test-issue.yaml", "--stdout", "text", cwd=newsletter.root)
    assert html.exit_code == text.exit_code == 0
    assert html.stdout.startswith("<!doctype html>") and "A trial of something" in html.stdout
    assert text.stdout.startswith("TEST NEWS\n")
    assert not (newsletter.root / "build").exists()


def test_build_several_issues_and_out_dir(newsletter):
    second = newsletter.root / "issues" / "second.yaml"
    second.write_text(newsletter.issue.read_text())
    result = run("build", "issues/test-issue.yaml", "issues/second.yaml", "--out", "public", cwd=newsletter.root)
    assert result.exit_code == 0, result.output
    assert (newsletter.root / "public" / "test-issue" / "email.html").is_file()
    assert (newsletter.root / "public" / "second" / "email.html").is_file()


def test_rebuild_replaces_the_folder_whole(newsletter):
    run("build", "issues/test-issue.yaml", cwd=newsletter.root)
    stale = newsletter.root / "build" / "test-issue" / "issues" / "images" / "a-logo-no-longer-used.png"
    stale.write_bytes((newsletter.root / "issues" / "images" / "logo.png").read_bytes())  # an older build's image
    assert run("build", "issues/test-issue.yaml", cwd=newsletter.root).exit_code == 0
    assert not stale.exists()
    assert [p.name for p in (newsletter.root / "build").iterdir()] == ["test-issue"]  # no temporary folders left


def test_bad_issue_is_one_line_exit_1_and_writes_nothing(newsletter):
    good = newsletter.root / "issues" / "good.yaml"
    good.write_text(newsletter.issue.read_text())
    newsletter.write_issue(newsletter.issue.read_text().replace("https://clinicaltrials.gov/study/NCT00000001", "javascript:alert(1)"))
    result = run("build", "issues/good.yaml", "issues/test-issue.yaml", cwd=newsletter.root)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "issues/test-issue.yaml:14: entries[1].link: the link 'javascript:alert(1)' must start with https://, http:// or mailto:"
    assert "Traceback" not in result.output
    assert not (newsletter.root / "build").exists()  # not even the good issue: all are checked before any is written


def test_output_dir_that_cannot_be_written(newsletter):
    (newsletter.root / "taken").write_text("a file, not a folder")
    result = run("build", "issues/test-issue.yaml", "--out", "taken", cwd=newsletter.root)
    assert result.exit_code in (1, 2)
    assert "taken" in result.output and "Traceback" not in result.output
    assert (newsletter.root / "taken").read_text() == "a file, not a folder"
    result = run("build", "issues/test-issue.yaml", "--out", "taken/inside", cwd=newsletter.root)
    assert result.exit_code == 1 and result.stderr.splitlines()[-1].startswith("taken/inside: cannot write the output folder")


def test_a_write_that_fails_midway_leaves_the_last_build_whole(newsletter):
    import dataclasses

    import digest
    from digest.exceptions import BuildError
    from digest.writer import write_email

    email = digest.build(newsletter.issue)
    out = newsletter.root / "out"
    target = write_email(email, out)
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    vanished = dataclasses.replace(email.images[0], source=newsletter.root / "deleted.png", path="images/deleted.png")
    broken = dataclasses.replace(email, html="<!doctype html>new", images=email.images + (vanished,))
    with pytest.raises(BuildError, match=r"deleted.png: the image cannot be read \(No such file"):
        write_email(broken, out)
    after = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in out.iterdir()] == ["test-issue"]


def test_missing_issue_and_config(tmp_path_factory, newsletter):
    result = run("build", "nope.yaml", cwd=newsletter.root)
    assert (result.exit_code, result.output) == (1, "nope.yaml: no such issue file\n")
    lonely = tmp_path_factory.mktemp("elsewhere")
    (lonely / "issue.yaml").write_text(newsletter.issue.read_text())
    result = run("build", "issue.yaml", cwd=lonely)
    assert result.exit_code == 1 and result.output.startswith("issue.yaml: no digest.toml found")
    result = run("build", "issue.yaml", "--config", str(newsletter.config), cwd=lonely)
    assert result.exit_code == 1 and "no image file at 'images/logo.png'" in result.output  # the config was used
    result = run("build", "issue.yaml", "--config", "missing.toml", cwd=lonely)
    assert (result.exit_code, result.output) == (1, "missing.toml: no such file\n")


def test_init_then_new_then_build(tmp_path):
    result = run("init", "letter", "--name", 'Trial & "Error" News', cwd=tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "letter"
    assert 'name = "Trial & \\"Error\\" News"' in (root / "digest.toml").read_text()
    assert run("init", "letter", cwd=tmp_path).exit_code == 1  # never over an existing newsletter
    result = run("new", "Spring: news & trials", "--date", "2025-03-01", cwd=root)
    assert result.exit_code == 0, result.output
    issue = root / "issues" / "2025-03-01-spring-news-trials.yaml"
    assert issue.is_file()
    assert 'subject: "Spring: news & trials"' in issue.read_text()
    again = run("new", "Spring: news & trials", "--date", "2025-03-01", cwd=root)
    assert again.exit_code == 1 and "already exists" in again.output
    assert run("new", "x", "--date", "someday", cwd=root).output == "--date: 'someday' is not a date: write it as YYYY-MM-DD\n"
    issues = sorted(str(p.relative_to(root)) for p in (root / "issues").glob("*.yaml"))
    # Untouched, the starter's sample text would reach readers: the build refuses it, naming each line.
    built = run("build", *issues, cwd=root)
    assert built.exit_code == 1
    assert "issues/2025-03-01-spring-news-trials.yaml:10: entries[1].institution: error: 'Example University Hospital' " \
           "is the starter file's sample text: replace it with your own [starter-text]" in built.output
    assert "digest.toml:8: address: error: '1 Example Street" in built.output
    assert not (root / "build").exists()
    built = run("build", *issues, "--force", cwd=root)
    assert built.exit_code == 0, built.output
    assert len(list((root / "build").iterdir())) == 2


def test_real_process_builds_the_sample(tmp_path):
    result = digest_process("build", SAMPLE_ISSUE, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "2024-06-ldn-trials" / "email.html").read_text()
    assert html.startswith("<!doctype html>") and "Low-Dose Naltrexone for Chronic Pain" in html
    assert (tmp_path / "out" / "2024-06-ldn-trials" / "issues" / "images" / "va-boston.png").is_file()


def test_real_process_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\x89PNG\x1a\x00garbage")  # an image saved as .yaml
    result = digest_process("build", bad, "--config", REPO / "digest.toml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "bad.yaml:1: is not a text file (it contains binary data)\n"
    result = digest_process("init", tmp_path, cwd=tmp_path)
    assert result.returncode == 0
    result = digest_process("new", "Hello", "--date", "2025-01-02", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "issues" / "2025-01-02-hello.yaml").is_file()
    assert digest_process("--version").stdout.startswith(f"digest {__version__}")


def test_two_issues_that_would_build_to_one_folder_are_refused(newsletter):
    (newsletter.root / "issues" / "sub").mkdir()
    (newsletter.root / "issues" / "sub" / "test-issue.yaml").write_text(newsletter.issue.read_text().replace("images/logo.png", "https://img.testnews.example/logo.png"))
    result = run("build", "issues/test-issue.yaml", "issues/sub/test-issue.yaml", cwd=newsletter.root)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "issues/sub/test-issue.yaml: builds to the same folder (test-issue) as issues/test-issue.yaml: rename one of them")
    assert not (newsletter.root / "build").exists()


def test_init_writes_both_files_or_neither(tmp_path):
    today_issue = tmp_path / "letter" / "issues"
    today_issue.mkdir(parents=True)
    import datetime

    (today_issue / f"{datetime.date.today().isoformat()}-first-issue.yaml").write_text("mine")
    result = run("init", "letter", cwd=tmp_path)
    assert result.exit_code == 1 and "already exists" in result.output
    assert not (tmp_path / "letter" / "digest.toml").exists()
    result = run("init", "other", "--name", 'Evil\nplatform = "bogus"', cwd=tmp_path)
    assert (result.exit_code, result.output) == (2, "--name: the newsletter's name must be one line of text\n")  # usage
    assert not (tmp_path / "other").exists()


def test_new_files_are_readable_by_others_and_keep_every_letter(tmp_path):
    import stat

    assert run("init", "letter", cwd=tmp_path).exit_code == 0
    root = tmp_path / "letter"
    result = run("new", "Études: ünïcode", "--date", "2025-02-03", cwd=root)
    assert result.exit_code == 0, result.output
    issue = root / "issues" / "2025-02-03-études-ünïcode.yaml"
    umask = os.umask(0)
    os.umask(umask)
    for path in (issue, root / "digest.toml"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert not [p for p in root.rglob(".*") if p.is_file()]  # no staging file left behind


def test_a_name_that_is_not_text_is_one_line(tmp_path):
    result = digest_process("new", b"\xff\xfe title".decode("utf-8", "surrogateescape"), "--date", "2025-01-02", cwd=tmp_path)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]
