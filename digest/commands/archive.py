"""`digest archive`: every issue as a website with an Atom feed; print what was done and how to publish it."""

from __future__ import annotations

from pathlib import Path

import click

from digest.exceptions import display_path


def archive(issue_paths: list[Path], out_dir: Path, config_path: Path | None, feed: bool = True,
            open_browser: bool = False, force: bool = False) -> Path:
    from digest.archive import IssuesWithErrors, UnreadableIssues, build_site

    try:
        built = build_site(out_dir, issue_paths, config=config_path, feed=feed, force=force)
    except UnreadableIssues as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise
    except IssuesWithErrors as exc:
        from digest.commands.report import format_finding

        for path, finding in exc.findings:
            click.echo(format_finding(finding, path, colour=True), err=True)
        raise
    folder = display_path(built.folder)
    what = f"{built.issues} issue{'s' if built.issues != 1 else ''}, {built.pages} index page{'s' if built.pages != 1 else ''}"
    if built.feed:
        what += " and feed.xml"
    if built.written:
        click.echo(f"Built {folder}/: {what} ({built.written} files written, {built.unchanged} unchanged)", err=True)
    else:
        click.echo(f"{folder}/ is up to date: {what}", err=True)
    where = built.archive_url or "your website"
    click.echo(f"Publish it: upload everything in {folder}/ to {where}", err=True)
    index = built.folder / "index.html"
    if open_browser:
        from digest.commands.browser import open_in_browser

        open_in_browser(index.resolve().as_uri())
    return index
