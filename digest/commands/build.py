"""`digest build`: build every issue and check it, then write them all (or print one)."""

from __future__ import annotations

from pathlib import Path

import click

import digest
from digest.commands.report import format_finding
from digest.exceptions import BuildError, IssueError, OptionError, display_path
from digest.files import expand_folders
from digest.model import ERROR
from digest.platforms import paste_lines


def build(issue_paths: list[Path], out_dir: Path, config_path: Path | None, stdout: str | None,
          platform: str | None = None, eml: bool = False, copy: str | None = None, force: bool = False,
          open_browser: bool = False) -> list[Path]:
    issue_paths = expand_folders(issue_paths, IssueError)
    if copy and len(issue_paths) > 1:
        raise OptionError(f"takes one issue, since the clipboard holds one email; {len(issue_paths)} were given",
                          field="--copy")
    if stdout and len(issue_paths) > 1:
        # Two emails printed one after the other are no email: `-o - > email.html` would hold both.
        raise OptionError(f"takes one issue, since it prints one email; {len(issue_paths)} were given",
                          field="-o -" if str(out_dir) == "-" else "--stdout")

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
        if first is not path:
            raise BuildError(f"builds to the same folder ({result.issue.slug}) as {display_path(first)}: rename one of them", path)
    if errors and not force:
        raise BuildError(f"{errors} error{'s' if errors != 1 else ''} found, so nothing was written: "
                         f"fix {'it' if errors == 1 else 'them'}, or use --force to write the email anyway")
    if eml:
        from digest.eml import require_sender

        for result in results:
            require_sender(result.newsletter)
    if stdout:
        for result in results:
            click.echo(result.html if stdout == "html" else result.text, nl=False)
        return []
    folders = [digest.write(result, out_dir, eml=eml) for result in results]
    for result, folder in zip(results, folders):
        shown = display_path(folder)
        click.echo(f"Built {shown}/email.html and email.txt{' and email.eml' if eml else ''}", err=True)
        if uploads := upload_folders(result):
            places = " and ".join(f"{display_path(folder / name)}/" for name in uploads)
            click.echo(f"Upload {places} to {result.newsletter.asset_base_url}: the email loads its images from there", err=True)
        for line in paste_lines(result.platform, result.issue.subject, result.issue.preheader, shown):
            click.echo(line, err=True)
    if open_browser:
        from digest.commands.browser import open_in_browser

        for folder in folders:
            open_in_browser((folder / "email.html").resolve().as_uri())
    if copy:
        from digest.clipboard import ClipboardError, copy_text

        name = "email.html" if copy == "html" else "email.txt"
        try:
            copy_text(results[0].html if copy == "html" else results[0].text)
        except ClipboardError as exc:
            # The files are written and said so above: only the copy failed, and the line says what to do instead.
            raise ClipboardError(f"written, but not copied: {exc.problem}; copy it by hand from the file (open it in a "
                                 f"text editor, not a browser), or print it with --stdout {copy}", folders[0] / name) from None
        click.echo(f"Copied the {'HTML' if copy == 'html' else 'text part'} ({name}) to the clipboard", err=True)
    return folders


def upload_folders(result) -> list[str]:
    """The top folders of the build that hold the images to upload, in order."""
    return list(dict.fromkeys(image.path.split("/")[0] for image in result.images))
