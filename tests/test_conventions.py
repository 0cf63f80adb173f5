"""The command line's conventions: help that reads whole and shows examples, commands in the order an editor
meets them, '-' for standard output, one exit-status rule for every command, folders of issues."""

from __future__ import annotations

import os
import re

import pytest
from click.testing import CliRunner

from digest.cli import ORDER, cli


def run(*args, cwd=None, **kwargs):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)
    finally:
        os.chdir(old)


def test_the_commands_are_listed_in_the_order_an_editor_uses_them_each_with_a_whole_sentence():
    result = run("--help")
    assert result.exit_code == 0
    listed = re.findall(r"^  (\w+)  +(.*)$", result.output.split("Commands:\n", 1)[1], re.MULTILINE)
    assert [name for name, _ in listed] == ["init", "new", "trial", "preview", "check", "build", "send", "archive", "theme"]
    assert list(ORDER) == [name for name, _ in listed]
    for name, short in listed:
        assert short.endswith(".") and not short.endswith("..."), (name, short)  # never cut mid-sentence
    assert "Exit status: 0 done" in result.output


@pytest.mark.parametrize("command", ["init", "new", "trial", "preview", "check", "build", "send", "archive", "theme",
                                     "theme list", "theme copy"])
def test_each_command_s_help_shows_examples_line_by_line(command):
    result = run(*command.split(), "--help")
    assert result.exit_code == 0
    examples = result.output.split("Examples:\n", 1)[1].splitlines()
    commands = [line.strip() for line in examples if line.strip().startswith("digest ")]
    assert len(commands) >= 2
    assert all(line.split()[1:1 + len(command.split())] == command.split() for line in commands)
    assert all(len(line) <= 80 for line in examples)  # Click left them as written: one example a line


def test_trial_help_names_the_environment_variable():
    assert "DIGEST_CTGOV_URL" in run("trial", "--help").output


# One rule: a missing file is that file's one line and exit status 1, whichever command reads it.
@pytest.mark.parametrize("args, line", [
    (["build", "nope.yaml"], "nope.yaml: no such issue file"),
    (["check", "nope.yaml"], "nope.yaml: error: no such issue file [build-error]"),
    (["preview", "nope.yaml", "--no-open"], "nope.yaml: no such issue file"),
    (["send", "nope.yaml", "--to", "you@testnews.example"], "nope.yaml: no such issue file"),
    (["archive", "nope.yaml"], "nope.yaml: no such issue file"),
    (["trial", "NCT03008590", "--issue", "nope.yaml"], "nope.yaml: no such issue file"),
    (["trial", "--from-file", "nope.txt"], "nope.txt: no such file"),
    (["build", "issues/test-issue.yaml", "--config", "nope.toml"], "nope.toml: no such file"),
    (["check", "issues/test-issue.yaml", "--config", "nope.toml"], "nope.toml: error: no such file [build-error]"),
    (["theme", "list", "--config", "nope.toml"], "nope.toml: no such file"),
    (["theme", "copy", "--config", "nope.toml"], "nope.toml: no such file"),
])
def test_a_missing_file_is_exit_status_1_with_its_line_for_every_command(newsletter, args, line):
    result = run(*args, cwd=newsletter.root)
    assert result.exit_code == 1, result.output
    assert line in result.output.splitlines()
    assert "Usage:" not in result.output
    assert not (newsletter.root / "templates").exists()  # theme copy copied nothing


@pytest.mark.parametrize("args, line", [
    (["build", "issues/test-issue.yaml", "--bogus"], "Error: No such option '--bogus'"),
    (["build"], "Error: Missing argument 'ISSUES...'."),
    (["build", "issues/test-issue.yaml", "--stdout", "pdf"], "Error: Invalid value for '--stdout'"),
    (["build", "issues/test-issue.yaml", "--stdout", "html", "-o", "out"], "Error: --stdout prints the email instead of writing it: leave out -o/--out"),
    (["build", "issues/test-issue.yaml", "-o", "-", "--stdout", "text"], "Error: --stdout prints the email instead of writing it: leave out -o/--out"),
    (["build", "issues/test-issue.yaml", "issues/other.yaml", "-o", "-"], "-o -: takes one issue, since it prints one email; 2 were given"),
    (["build", "issues/test-issue.yaml", "issues/other.yaml", "--stdout", "text"], "--stdout: takes one issue, since it prints one email; 2 were given"),
    (["build", "issues/test-issue.yaml", "-o", "-", "--copy", "html"], "Error: --copy needs the files written: leave out -o -"),
    (["archive", "-o", "-"], "Error: a website is many files: give -o a folder, not -"),
    (["new", "x", "--date", "20240514"], "--date: '20240514' is not a date: write it as YYYY-MM-DD"),
    (["new", "x", "--date", "2024-W20-2"], "--date: '2024-W20-2' is not a date: write it as YYYY-MM-DD"),
    (["trial", "NCT03008590", "--search", "x"], "give NCT ids to add, or --search to look for studies, not both"),
])
def test_a_mistake_in_the_command_line_is_exit_status_2(newsletter, args, line):
    result = run(*args, cwd=newsletter.root)
    assert result.exit_code == 2, result.output
    assert any(out.startswith(line) for out in result.output.splitlines()), result.output
    assert not (newsletter.root / "out").exists() and not (newsletter.root / "-").exists()


def test_dash_is_standard_output_and_makes_no_folder(newsletter):
    result = run("build", "issues/test-issue.yaml", "-o", "-", cwd=newsletter.root)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!doctype html>") and result.stdout == run(
        "build", "issues/test-issue.yaml", "--stdout", "html", cwd=newsletter.root).stdout
    assert not (newsletter.root / "-").exists() and not (newsletter.root / "build").exists()


def test_a_folder_builds_and_checks_every_issue_in_it(newsletter):
    second = newsletter.issue.with_name("a-second.yaml")
    second.write_text(newsletter.issue.read_text().replace("A trial of something", "Another trial"))
    (newsletter.issue.parent / ".backup.yaml").write_text("not: [an issue")  # an editor's hidden backup: left alone
    result = run("build", "issues", cwd=newsletter.root)
    assert result.exit_code == 0, result.output
    built = [line for line in result.stderr.splitlines() if line.startswith("Built ")]
    assert built == ["Built build/a-second/email.html and email.txt", "Built build/test-issue/email.html and email.txt"]
    result = run("check", "issues/", cwd=newsletter.root)
    assert result.output.splitlines()[-1].startswith("Checked 2 issues")
    (newsletter.root / "empty").mkdir()
    result = run("build", "empty", cwd=newsletter.root)
    assert (result.exit_code, result.output) == (1, "empty: is a folder with no issue files (*.yaml) in it\n")


def test_new_outside_a_newsletter_is_refused_and_inside_says_where_it_wrote(tmp_path, newsletter):
    result = run("new", "Spring news", "--date", "2025-03-01", cwd=tmp_path / "issues")  # above: the newsletter
    assert result.exit_code == 0
    made = newsletter.root / "issues" / "2025-03-01-spring-news.yaml"
    assert made.is_file()
    assert result.stderr.splitlines() == [f"Created {os.path.relpath(made, tmp_path / 'issues')}",
                                          "Next: write it while you watch it with: digest preview 2025-03-01-spring-news.yaml"]
    # As typed in the newsletter's folder, as `digest init`'s first issue says it, not where the editor stood.
    assert "# Build it with: digest build issues/2025-03-01-spring-news.yaml\n" in made.read_text(encoding="utf-8")
    lonely = tmp_path.parent / f"{tmp_path.name}-lonely"
    lonely.mkdir()
    result = run("new", "Spring news", cwd=lonely)
    assert result.exit_code == 1
    assert result.output == ("no digest.toml in this folder or any folder above it, so this is not a newsletter's folder: "
                             "start one here with 'digest init', or go to the folder of yours\n")
    assert list(lonely.iterdir()) == []


def test_init_says_what_next_with_the_preview(tmp_path):
    result = run("init", "letter", "--name", "Trial News", cwd=tmp_path)
    assert result.exit_code == 0
    issue = next((tmp_path / "letter" / "issues").glob("*.yaml")).relative_to(tmp_path)
    assert result.stderr.splitlines()[2:] == [
        "Next: put your newsletter's details in letter/digest.toml; write the issue while you watch it with",
        f"  digest preview {issue}",
        f"then check and build it: digest check {issue} && digest build {issue}",
    ]
