"""What every check shares: where a finding points, and the texts an editor typed."""

from __future__ import annotations

import re
from collections.abc import Iterator

from digest.model import HTML_PART, Finding, Result
from digest.page import normalise

_WORD = re.compile(r"\w+")


def at(result: Result, field: str) -> dict:
    """The place of an issue field, from the issue's source map."""
    return dict(path=result.issue.path, line=result.issue.source.line(field), field=field)


def at_text(result: Result, field: str, text: str, index: int) -> dict:
    """The place of `text[index]`, `text` being the value of the issue's field `field`."""
    return dict(path=result.issue.path, line=result.issue.source.line_in(field, text, index), field=field)


def in_config(result: Result, field: str) -> dict:
    """The place of a digest.toml key (the settings a command-line flag overrode have no line)."""
    newsletter = result.newsletter
    return dict(path=newsletter.config_path, line=newsletter.source.line(field), field=field)


def of_url(result: Result, url: str, html_line: int | None = None) -> dict:
    """Where an address in the email was typed: the issue, digest.toml, or else the theme's HTML."""
    for source in (result.issue.source, result.newsletter.source):
        if url in source.urls:
            field, line = source.urls[url]
            return dict(path=source.path, line=line, field=field)
    return dict(path=HTML_PART, line=html_line, field=None)


def issue_texts(result: Result) -> Iterator[tuple[str, str]]:
    """(field, text) for every text the editor typed into the issue, in the file's order."""
    issue = result.issue
    yield "subject", issue.subject
    yield "preheader", issue.preheader
    if issue.greeting is not None:
        yield "greeting", issue.greeting
    yield "intro", issue.intro.source
    for section in issue.sections:
        if section.heading is not None:
            yield f"{section.field}.heading", section.heading
        for entry in section.entries:
            for name in ("institution", "title", "link_label", "status", "phase", "nct_id"):
                if getattr(entry, name):
                    yield f"{entry.field}.{name}", getattr(entry, name)
            yield f"{entry.field}.summary", entry.summary.source
            yield f"{entry.field}.link", entry.link
            for condition in entry.conditions:
                yield f"{entry.field}.conditions", condition
    if issue.outro is not None:
        yield "outro", issue.outro.source


def config_texts(result: Result) -> Iterator[tuple[str, str]]:
    """(field, text) for every text of digest.toml that the email shows."""
    newsletter = result.newsletter
    yield "name", newsletter.name
    yield "organisation", newsletter.organisation
    yield "address", newsletter.address
    yield "website", newsletter.website
    if newsletter.footer is not None:
        yield "footer", newsletter.footer.source
    if newsletter.logo is not None:
        yield "logo.alt", newsletter.logo.alt


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def short(url: str) -> str:
    return url if len(url) <= 70 else url[:67] + "..."


__all__ = ["Finding", "at", "at_text", "in_config", "of_url", "issue_texts", "config_texts", "words", "short", "normalise"]
