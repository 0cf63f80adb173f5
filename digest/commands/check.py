"""`digest check`: build each issue in memory, run the checks, print the findings as text or JSON."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from digest.checks import ERROR, HTML_PART, INFO, TEXT_PART, WARNING, Finding, Locator, check_email
from digest.commands.build import build_email
from digest.exceptions import DigestError, where

JSON_VERSION = 1
_COLOURS = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}


@dataclass
class Report:
    issue: Path
    platform: str
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


def check(issue_paths: list[Path], config_path: Path | None, fmt: str = "text", strict: bool = False,
          links: bool = False, platform: str | None = None) -> int:
    """Check every issue; print the findings; return the exit code (0 clean, 1 errors, or warnings with strict)."""
    if platform is not None:
        from digest.platforms import PLATFORMS, UnknownPlatform

        if platform not in PLATFORMS:
            click.echo(f"--platform: {UnknownPlatform(platform)}", err=True)
            return 2
    reports, built = [], []
    for path in issue_paths:
        try:
            email = build_email(path, config_path, platform)
        except DigestError as exc:
            # An issue that cannot be built is one finding among the others: the rest still get checked.
            file = exc.file if exc.file is not None else path
            reports.append(Report(path, "generic", [Finding("build-error", ERROR, exc.problem, where(file), exc.line, exc.field)]))
            continue
        report = Report(path, email.platform, check_email(email, email.newsletter, email.platform))
        reports.append(report)
        built.append((report, email, email.newsletter))
    if links and built:
        _check_links(built)

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


def _check_links(built) -> None:
    from digest.links import check_urls, link_findings, urls_to_check

    per_issue = [urls_to_check(email, report.platform) for report, email, _ in built]
    every = list(dict.fromkeys(url for urls in per_issue for url in urls))
    with _Progress(len(every)) as progress:
        results = check_urls(every, progress=progress.update)
    for (report, email, newsletter), urls in zip(built, per_issue):
        locator = Locator(email.issue, newsletter, _source(email.issue.path))
        report.findings += link_findings({url: results[url] for url in urls}, locator)


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


def _source(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def format_finding(finding: Finding, issue: Path, colour: bool = False) -> str:
    """One line, compiler style: `FILE:LINE: field: severity: message [id]`."""
    if finding.file in (HTML_PART, TEXT_PART):
        place = f"{where(issue)}: {finding.file}" + (f":{finding.line}" if finding.line else "")
    else:
        place = where(finding.file, finding.line, finding.field)
    severity = click.style(finding.severity, fg=_COLOURS[finding.severity], bold=True) if colour else finding.severity
    return f"{place}: {severity}: {finding.message} [{finding.id}]"


def summary(reports: list[Report]) -> str:
    counts = [(sum(r.count(s) for r in reports), s) for s in (ERROR, WARNING, INFO)]
    issues = f"{len(reports)} issue" + ("s" if len(reports) != 1 else "")
    if not any(n for n, _ in counts):
        return f"Checked {issues}: no problems found."
    said = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for n, s in counts if n)
    return f"Checked {issues}: {said}."


def as_json(reports: list[Report]) -> dict:
    """The stable JSON format documented in the README (keys in this order; `version` bumps on any change)."""
    totals = {s + "s": sum(r.count(s) for r in reports) for s in (ERROR, WARNING, INFO)}
    return {
        "version": JSON_VERSION,
        **totals,
        "issues": [
            {
                "issue": where(r.issue),
                "platform": r.platform,
                **{s + "s": r.count(s) for s in (ERROR, WARNING, INFO)},
                "findings": [
                    {**f.as_dict(), "file": f.file if f.file in (HTML_PART, TEXT_PART) else where(f.file)}
                    for f in r.findings
                ],
            }
            for r in reports
        ],
    }
