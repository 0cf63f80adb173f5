"""`digest build`: build every issue and check it, then write them all (or print one)."""

from __future__ import annotations

from pathlib import Path

import click

import digest
from digest.commands.report import format_finding
from digest.exceptions import BuildError, display_path
from digest.model import ERROR
from digest.platforms import platform_tags


def build(issue_paths: list[Path], out_dir: Path, config_path: Path | None, stdout: str | None,
          platform: str | None = None, eml: bool = False, copy: str | None = None, force: bool = False,
          open_browser: bool = False) -> list[Path]:
    if eml and stdout:
        raise BuildError("--eml writes email.eml next to email.html: use it without --stdout")
    if copy and len(issue_paths) > 1:
        raise BuildError("--copy takes one issue: the clipboard holds one email", issue_paths[1])

    # Every issue is read, rendered and checked before anything is written: one bad issue means no output at all.
    results, errors = [], 0
    for path in issue_paths:
        result = digest.build(path, config=config_path, platform=platform)
        for finding in result.findings:
            click.echo(format_finding(finding, path, colour=True), err=True)
            errors += finding.severity == ERROR
        results.append(result)
    seen: dict[str, Path] = {}
    for path, result in zip(issue_paths, results):
        first = seen.setdefault(result.issue.slug, path)
        if first is not path and not stdout:
            raise BuildError(f"builds to the same folder ({result.issue.slug}) as {display_path(first)}: rename one of them", path)
    if errors and not force:
        raise BuildError(f"{errors} error{'s' if errors != 1 else ''} found, so nothing was written: "
                         "fix them, or use --force to write the email anyway")
    if eml:
        from digest.eml import require_sender

        for result in results:
            require_sender(result.newsletter)
    for result in results:
        if platform_tags(result.platform).preheader:
            # The email carries the platform's preview-text tag instead of the preheader: say where it goes.
            click.echo(f"note: {result.issue.path}: {result.platform} fills in the preview text from its own field; "
                       f"paste the preheader there: {result.issue.preheader}", err=True)
    if stdout:
        for result in results:
            click.echo(result.html if stdout == "html" else result.text, nl=False)
        folders = []
    else:
        folders = [digest.write(result, out_dir, eml=eml) for result in results]
    for result, folder in zip(results, folders):
        click.echo(f"Built {folder}/email.html and email.txt{' and email.eml' if eml else ''}", err=True)
        if open_browser:
            from digest.commands.browser import open_in_browser

            open_in_browser((folder / "email.html").resolve().as_uri())
    for result, folder in zip(results, folders):
        if uploads := upload_folders(result):
            shown = " and ".join(f"{display_path(folder / name)}/" for name in uploads)
            click.echo(f"Upload {shown} to {result.newsletter.asset_base_url}: the email loads its images from there", err=True)
    if copy:
        from digest.clipboard import copy_text

        copy_text(results[0].html if copy == "html" else results[0].text)
        click.echo(f"Copied the {'HTML' if copy == 'html' else 'text part'} to the clipboard", err=True)
    return folders


def upload_folders(result) -> list[str]:
    """The top folders of the build that hold the images to upload, in order."""
    return list(dict.fromkeys(image.path.split("/")[0] for image in result.images))
