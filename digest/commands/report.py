"""Findings as the terminal shows them (one line each, compiler style) and as JSON for other tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from digest.exceptions import where
from digest.model import BUILT_PARTS, ERROR, INFO, WARNING, Finding

JSON_VERSION = 1
_COLOURS = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}


@dataclass
class Report:
    issue: Path
    platform: str
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


def format_finding(finding: Finding, issue: Path, colour: bool = False) -> str:
    """One line, compiler style: `FILE:LINE: field: severity: message [id]`."""
    if finding.path in BUILT_PARTS:
        place = f"{where(issue)}: {finding.path}" + (f":{finding.line}" if finding.line else "")
    else:
        place = where(finding.path if finding.path is not None else issue, finding.line, finding.field)
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
    """The stable JSON format documented in docs/checking.md (keys in this order; `version` bumps on any change)."""
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
                    {**f.as_dict(), "file": f.path if f.path in BUILT_PARTS else where(f.path or r.issue)}
                    for f in r.findings
                ],
            }
            for r in reports
        ],
    }
