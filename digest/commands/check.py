"""`digest check`: build each issue in memory, run the checks, print the findings as text or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import digest
from digest.commands.report import Report, as_json, format_finding, summary
from digest.config import settings_for
from digest.exceptions import DigestError, IssueError, OptionError
from digest.files import expand_folders
from digest.model import ERROR, WARNING, Finding


def check(issue_paths: list[Path], config_path: Path | None, fmt: str = "text", strict: bool = False,
          links: bool = False, platform: str | None = None, build_dir: Path | None = None) -> int:
    """Check every issue; print the findings; return the exit code (0 clean, 1 errors, or warnings with strict)."""
    reports, built = [], []
    issue_paths = expand_folders(issue_paths, IssueError)
    for path in issue_paths:
        newsletter = None
        try:
            # Read first, so that an issue that cannot be built is still reported under the settings' platform.
            newsletter = settings_for(path, config_path, platform=platform)
            result = digest.build(path, config=newsletter)
        except OptionError:
            raise  # a bad flag is the same for every issue: one line, not one finding each
        except DigestError as exc:
            # An issue that cannot be built is one finding among the others: the rest still get checked.
            finding = Finding("build-error", ERROR, exc.problem, exc.path if exc.path is not None else path, exc.line, exc.field)
            reports.append(Report(path, newsletter.platform if newsletter else platform or "generic", [finding]))
            continue
        report = Report(path, result.platform, list(result.findings))
        reports.append(report)
        built.append((report, result))
    if links and built:
        _check_links(built, build_dir)

    if fmt == "json":
        click.echo(json.dumps(as_json(reports), indent=2, ensure_ascii=False))
    else:
        for report in reports:
            for finding in report.findings:
                click.echo(format_finding(finding, report.issue, colour=True))
        click.echo(summary(reports))
    errors = sum(r.count(ERROR) for r in reports)
    warnings = sum(r.count(WARNING) for r in reports)
    return 1 if errors or (strict and warnings) else 0


def _check_links(built, build_dir: Path | None) -> None:
    from digest.links import check_urls, link_findings, urls_to_check

    per_issue = [urls_to_check(result) for _, result in built]
    every = list(dict.fromkeys(url for urls in per_issue for url in urls))
    with _Progress(len(every)) as progress:
        images = frozenset(image.url for _, result in built for image in result.images)
        visits = check_urls(every, progress=progress.update, images=images)
    for (report, result), urls in zip(built, per_issue):
        report.findings += link_findings({url: visits[url] for url in urls}, result, build_dir)


class _Progress:
    """A progress bar on a terminal; a plain line per link otherwise (logs, CI), all on stderr."""

    def __init__(self, total: int):
        self.total, self.done = total, 0
        self.bar = None
        if total and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=f"Checking {total} links", file=sys.stderr)

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        elif self.total:
            click.echo(f"Checking {self.total} links", err=True)
        return self

    def update(self, result) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        else:
            state = "ok" if result.ok else "broken"
            note = " (checked within the hour)" if result.cached else ""
            click.echo(f"[{self.done}/{self.total}] {state}: {result.url}{note}", err=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
