"""`digest build`: read issues, render and check them, write them (or print one)."""

from __future__ import annotations

from pathlib import Path

import click

from digest.config import CONFIG_NAME, find_config, load_config
from digest.exceptions import BuildError, ConfigError, IssueError, display_path
from digest.model import Newsletter
from digest.platforms import platform_tags


def newsletter_for(issue_path: Path, config_path: Path | None) -> Newsletter:
    if not issue_path.is_file():
        kind = "is a folder, not an issue file" if issue_path.is_dir() else "is not a regular file (a pipe or a device?)"
        raise IssueError("no such issue file" if not issue_path.exists() else kind, issue_path)
    if config_path is None:
        config_path = find_config(issue_path.parent)
        if config_path is None:
            raise ConfigError(f"no {CONFIG_NAME} found in this folder or any folder above it (use --config, or run 'digest init')", issue_path)
    return load_config(config_path)


def build_email(issue_path: Path, config_path: Path | None = None, platform: str | None = None):
    """The email for one issue; `platform` None means digest.toml's platform (else generic)."""
    from digest.reader import read_issue
    from digest.render import render_email

    newsletter = newsletter_for(issue_path, config_path)
    issue = read_issue(issue_path, newsletter)
    return render_email(issue, newsletter, platform)


def build(issue_paths: list[Path], out_dir: Path, config_path: Path | None, stdout: str | None,
          platform: str | None = None, eml: bool = False, copy: str | None = None, force: bool = False) -> list[Path]:
    if eml and stdout:
        raise BuildError("--eml writes email.eml next to email.html: use it without --stdout")
    if copy and len(issue_paths) > 1:
        raise BuildError("--copy takes one issue: the clipboard holds one email", issue_paths[1])
    from digest.checks import ERROR, check_email
    from digest.commands.check import format_finding

    # Every issue is read, rendered and checked before anything is written: one bad issue means no output at all.
    emails, errors = [], 0
    for path in issue_paths:
        email = build_email(path, config_path, platform)
        for finding in check_email(email, email.newsletter, email.platform):
            click.echo(format_finding(finding, path, colour=True), err=True)
            errors += finding.severity == ERROR
        emails.append(email)
    seen: dict[str, Path] = {}
    for path, email in zip(issue_paths, emails):
        first = seen.setdefault(email.issue.slug, path)
        if first is not path and not stdout:
            raise BuildError(f"builds to the same folder ({email.issue.slug}) as {display_path(first)}: rename one of them", path)
    if errors and not force:
        raise BuildError(f"{errors} error{'s' if errors != 1 else ''} found, so nothing was written: "
                         "fix them, or use --force to write the email anyway")
    for email in emails:
        if platform_tags(email.platform).preheader:
            # The email carries the platform's preview-text tag instead of the preheader: say where it goes.
            click.echo(f"note: {email.issue.path}: {email.platform} fills in the preview text from its own field; "
                       f"paste the preheader there: {email.issue.preheader}", err=True)
    extras = [{} for _ in emails]
    if eml:
        from digest.eml import message_bytes

        extras = [{"email.eml": message_bytes(email)} for email in emails]
    if stdout:
        for email in emails:
            click.echo(email.html if stdout == "html" else email.text, nl=False)
        folders = []
    else:
        from digest.writer import write_email

        folders = [write_email(email, out_dir, extra) for email, extra in zip(emails, extras)]
    if copy:
        from digest.clipboard import copy_text

        copy_text(emails[0].html if copy == "html" else emails[0].text)
    return folders
