"""Errors an editor can act on.

Every error the tool raises on purpose is a `DigestError`: Click prints its one line and exits 1, so no
traceback ever reaches the terminal. The line reads like a compiler's: `FILE:LINE: field: what is wrong`.
"""

from __future__ import annotations

import os

import click


def where(file: str | os.PathLike | None, line: int | None = None, field: str | None = None) -> str:
    parts = []
    if file is not None:
        parts.append(f"{display_path(file)}:{line}" if line else display_path(file))
    if field:
        parts.append(field)
    return ": ".join(parts)


def display_path(file: str | os.PathLike) -> str:
    # Relative to where the editor stands when that is shorter: the path they typed, not an absolute one.
    path = os.fspath(file)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) or not os.path.isabs(path) else path


class DigestError(click.ClickException):
    exit_code = 1

    def __init__(self, message: str, file=None, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.problem = file, line, field, message
        prefix = where(file, line, field)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


class ConfigError(DigestError):
    """digest.toml is missing, unreadable or says something we cannot use."""


class IssueError(DigestError):
    """An issue file is unreadable or does not follow the issue format."""


class BuildError(DigestError):
    """The theme or the output could not be turned into an email or written."""


class TrialError(DigestError):
    """A study could not be fetched from ClinicalTrials.gov or turned into an entry."""
