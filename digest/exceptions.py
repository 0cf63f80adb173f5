"""Errors an editor can act on.

Every error digest raises on purpose is a `DigestError` naming the file, the line and the field. It is a
plain exception, so a script calling `digest.build()` needs no Click: the command line turns it into its
one line, compiler style (`FILE:LINE: field: what is wrong`), and exit code 1.
"""

from __future__ import annotations

import os


def where(file: str | os.PathLike | None, line: int | None = None, field: str | None = None) -> str:
    parts = []
    if file is not None:
        parts.append(f"{display_path(file)}:{line}" if line else display_path(file))
    if field:
        parts.append(field)
    return ": ".join(parts)


def cut(text: str, width: int) -> str:
    """`text` in at most `width` characters: a long one ends in "…"."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def display_path(file: str | os.PathLike) -> str:
    # Relative to where the editor stands when that is shorter: the path they typed, not an absolute one.
    path = os.fspath(file)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) or not os.path.isabs(path) else path


class DigestError(Exception):
    exit_code = 1

    def __init__(self, message: str, path=None, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.problem = path, line, field, message
        super().__init__(message)

    def __str__(self) -> str:
        prefix = where(self.path, self.line, self.field)
        return f"{prefix}: {self.problem}" if prefix else self.problem


class OptionError(DigestError):
    """A command-line option's value is wrong: a usage error, exit code 2 as Click's own."""

    exit_code = 2


class ConfigError(DigestError):
    """digest.toml is missing, unreadable or says something we cannot use."""


class IssueError(DigestError):
    """An issue file is unreadable or does not follow the issue format."""


class BuildError(DigestError):
    """The theme or the output could not be turned into an email or written."""


class TrialError(DigestError):
    """A study could not be fetched from ClinicalTrials.gov or turned into an entry."""
