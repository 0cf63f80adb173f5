"""`digest build`: read issues, render them, write them (or print one)."""

from __future__ import annotations

from pathlib import Path

import click

from digest.config import CONFIG_NAME, find_config, load_config
from digest.exceptions import BuildError, ConfigError, IssueError
from digest.model import Newsletter


def newsletter_for(issue_path: Path, config_path: Path | None) -> Newsletter:
    if not issue_path.is_file():
        raise IssueError("no such issue file" if not issue_path.exists() else "is a folder, not an issue file", issue_path)
    if config_path is None:
        config_path = find_config(issue_path.parent)
        if config_path is None:
            raise ConfigError(f"no {CONFIG_NAME} found in this folder or any folder above it (use --config, or run 'digest init')", issue_path)
    return load_config(config_path)


def platform_for(newsletter: Newsletter) -> str:
    # The mail platform whose merge tags the email carries: digest.toml's `platform` once it has one.
    return getattr(newsletter, "platform", None) or "generic"


def build_email(issue_path: Path, config_path: Path | None = None, platform: str = "generic"):
    from digest.reader import read_issue
    from digest.render import render_email

    newsletter = newsletter_for(issue_path, config_path)
    issue = read_issue(issue_path, newsletter)
    return render_email(issue, newsletter, platform)


def build(issue_paths: list[Path], out_dir: Path, config_path: Path | None, stdout: str | None,
          force: bool = False) -> list[Path]:
    # Every issue is read, rendered and checked before anything is written: one bad issue means no output at all.
    from digest.checks import ERROR, check_email
    from digest.commands.check import format_finding

    emails, errors = [], 0
    for path in issue_paths:
        newsletter = newsletter_for(path, config_path)
        platform = platform_for(newsletter)
        email = build_email(path, config_path, platform)
        for finding in check_email(email, newsletter, platform):
            click.echo(format_finding(finding, path, colour=True), err=True)
            errors += finding.severity == ERROR
        emails.append(email)
    if errors and not force:
        raise BuildError(f"{errors} error{'s' if errors != 1 else ''} found, so nothing was written: "
                         "fix them, or use --force to write the email anyway")
    if stdout:
        for email in emails:
            click.echo(email.html if stdout == "html" else email.text, nl=False)
        return []
    from digest.writer import write_email

    return [write_email(email, out_dir) for email in emails]
