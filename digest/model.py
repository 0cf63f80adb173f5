"""The model: what a newsletter and an issue hold once read and checked. Plain data, no behaviour."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# The API's enums, with the labels its own site shows (the `legacyValue` of GET /api/v2/studies/enums).
STATUS_LABELS = {
    "RECRUITING": "Recruiting",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "COMPLETED": "Completed",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "WITHDRAWN": "Withdrawn",
    "AVAILABLE": "Available",
    "NO_LONGER_AVAILABLE": "No longer available",
    "TEMPORARILY_NOT_AVAILABLE": "Temporarily not available",
    "APPROVED_FOR_MARKETING": "Approved for marketing",
    "WITHHELD": "Withheld",
    "UNKNOWN": "Unknown status",
}
# NA ("Not Applicable": studies without drug phases) is left out: "Not Applicable · Withdrawn" reads as noise.
PHASE_LABELS = {
    "EARLY_PHASE1": "Early Phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
}


@dataclass(frozen=True)
class SourceMap:
    """Where each field of one file was read, filled in by its reader while parsing: every message and
    finding takes its line from here, and nothing searches the source again.

    Fields are named as messages name them: "subject", "entries[2].summary", "sections[2].entries[1].summary",
    "sections[2].heading", "social[1].url", "colours.brand". Lists count from 1, as editors do.
    """

    path: Path | None
    keys: dict[str, int] = field(default_factory=dict)  # field -> line of its key
    # field -> (line where the value's text starts, whether each line of the text is a line of the file:
    # true of a `|` block or a one-line value, not of YAML text folded from several lines)
    values: dict[str, tuple[int, bool]] = field(default_factory=dict)
    # field -> (index in the text, line of the file) where each line of the file that a value's text goes on
    # to starts: for text folded from several lines (`>`, quotes), whose line breaks are not the file's
    folds: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    urls: dict[str, tuple[str, int]] = field(default_factory=dict)  # an address typed in the file -> (field, line)

    def line(self, name: str) -> int | None:
        return self.keys.get(name)

    def line_at(self, name: str, offset: int = 0, text: str | None = None) -> int | None:
        """The line of the `offset`-th line (from 0) of field `name`'s text; `text`, that text, places a line of
        a folded one exactly."""
        if name in self.folds and text is not None:
            index = 0
            for _ in range(offset):
                index = text.find("\n", index) + 1 or len(text)
            return self.line_in(name, text, index)
        if name not in self.values:
            return self.keys.get(name)
        first, exact = self.values[name]
        return first + offset if exact else first

    def line_in(self, name: str, text: str, index: int) -> int | None:
        """The line of `text[index]`, where `text` is the value of field `name`."""
        if name in self.folds:
            return next(line for start, line in reversed(self.folds[name]) if start <= index or start == 0)
        return self.line_at(name, text.count("\n", 0, index))


@dataclass(frozen=True)
class Text:
    """Editor-written Markdown, with its two renderings: safe HTML for the email, plain text for the text part."""

    source: str
    html: str
    plain: str
    # (label, url, line of the source it is on, counting from 0) in reading order
    links: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class Image:
    url: str  # absolute http(s) URL, as the email will reference it
    alt: str
    source: Path | None = None  # the local file behind `url`, when the editor named a path
    path: str | None = None  # `source` relative to the asset root: where it goes under asset_base_url


@dataclass(frozen=True)
class SocialLink:
    platform: str  # a network of the theme's theme.toml: "facebook", "bluesky", …
    url: str
    label: str  # accessible name: "Facebook"
    icon: Image | None = None  # None where the theme shows the network as text only


@dataclass(frozen=True)
class Colours:
    """The colours a theme paints with, as '#rrggbb': its theme.toml's, then digest.toml's [colours]."""

    brand: str
    text: str
    muted: str
    link: str
    background: str
    surface: str
    button_text: str
    dark_brand: str
    dark_text: str
    dark_muted: str
    dark_link: str
    dark_background: str
    dark_surface: str


@dataclass(frozen=True)
class SocialNetwork:
    """A network a theme can link to, from its theme.toml."""

    label: str  # what a screen reader says for the link: "Facebook"
    icon: str | None = None  # the icon's path inside the theme ("icons/facebook.png"); None: the theme shows none


@dataclass(frozen=True)
class Theme:
    """The theme a newsletter is built with: where its files are, and what its theme.toml says."""

    name: str  # as digest.toml names it: "default", "plain", or a folder's path
    folder: Path  # the theme's own folder
    dirs: tuple[Path, ...]  # where its files are looked up, first found wins: the newsletter's templates/, `folder`
    description: str
    colours: Colours  # the theme's own, before digest.toml's [colours]
    social: dict[str, SocialNetwork] = field(default_factory=dict, compare=False)
    # (text colour, background colour, what the theme paints with them, the least contrast WCAG 2.1 AA allows:
    # 4.5, or 3 for a pair that paints only large text): the pairs the contrast check tests
    contrast: tuple[tuple[str, str, str, float], ...] = ()
    # Where a theme.toml of the editor's (templates/theme.toml, a theme folder's) sets each colour: (file, line).
    colours_set_in: dict[str, tuple[Path, int | None]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Newsletter:
    """One newsletter, from its digest.toml."""

    name: str
    organisation: str
    website: str
    address: str
    root: Path  # the folder that holds digest.toml
    config_path: Path | None = None
    language: str = "en"
    asset_base_url: str | None = None
    logo: Image | None = None
    social: tuple[SocialLink, ...] = ()
    colours: Colours | None = None  # set by digest.config: the theme's colours, then digest.toml's [colours]
    theme: Theme | None = None  # set by digest.config
    footer: Text | None = None
    platform: str = "generic"  # the mail platform whose merge tags the email carries (digest.platforms)
    sender: str | None = None  # "Name <address@example.org>", the From of the .eml
    unsubscribe: tuple[str, ...] = ()  # https:// and/or mailto: addresses for the List-Unsubscribe header
    clinicaltrials_api: str | None = None  # where `digest trial` fetches studies (a mirror, or a test server)
    trial_institution: str = "sponsor"  # what `digest trial` names as an entry's institution: sponsor | facility
    description: str | None = None  # one or two sentences for the archive's index and feed
    subscribe_url: str | None = None  # where a reader of the archive signs up
    archive_url: str | None = None  # the https:// address `digest archive`'s site is published at, ending in /
    view_online: str = "platform"  # where "View this email in your browser" points: one of config.VIEW_ONLINE
    source: SourceMap = field(default_factory=lambda: SourceMap(None), compare=False)


@dataclass(frozen=True)
class Entry:
    institution: str
    title: str
    summary: Text
    link: str
    line: int  # where the entry starts in the issue file
    link_label: str = "Find out more"
    logo: Image | None = None
    nct_id: str | None = None
    status: str | None = None
    phase: str | None = None
    conditions: tuple[str, ...] = ()
    field: str = ""  # where it is in the issue file, as messages name it: "entries[2]", "sections[1].entries[3]"


@dataclass(frozen=True)
class Section:
    """Entries under one heading. The issue's plain `entries:` list is a section without one."""

    heading: str | None  # None: the entries of `entries:`, shown before any section with a heading
    entries: tuple[Entry, ...]
    field: str  # "entries", or "sections[2]"
    line: int | None = None  # where it starts in the issue file


@dataclass(frozen=True)
class Issue:
    path: Path
    slug: str
    subject: str
    preheader: str
    date: datetime.date
    intro: Text
    entries: tuple[Entry, ...]  # every entry, in the order the email shows them (each section's in turn)
    outro: Text | None = None
    greeting: str | None = None  # "Dear {first_name}," as the editor typed it; {first_name} becomes the platform's tag
    sections: tuple[Section, ...] = ()  # the entries grouped as the email shows them; `entries` alone is one section
    source: SourceMap = field(default_factory=lambda: SourceMap(None), compare=False)


ERROR, WARNING, INFO = "error", "warning", "info"
HTML_PART, TEXT_PART, MJML_PART = "email.html", "email.txt", "email.mjml"  # the built parts, as `digest build` names them
BUILT_PARTS = (HTML_PART, TEXT_PART, MJML_PART)


@dataclass(frozen=True)
class Finding:
    """Something a check found: what, how bad, and where to fix it."""

    id: str  # stable, for scripts: "link-http", "contrast", …
    severity: str  # ERROR, WARNING or INFO
    message: str  # one line, for an editor
    path: Path | str | None  # the issue file, digest.toml, or a built part (BUILT_PARTS)
    line: int | None = None  # in `path`
    field: str | None = None  # e.g. "entries[2].link", "colours.brand"

    def as_dict(self) -> dict:
        """The finding as `digest check --format json` gives it, ready for json.dumps (`file` as text)."""
        return {"id": self.id, "severity": self.severity, "file": None if self.path is None else str(self.path),
                "line": self.line, "field": self.field, "message": self.message}


@dataclass
class Result:
    """One issue built in memory: the three forms of the email, the page parsed from its HTML, and what the
    checks found. `digest.write` puts it on disk; every command reads this same object."""

    issue: Issue
    newsletter: Newsletter
    mjml: str
    html: str
    text: str
    images: tuple[Image, ...]  # local files the email links to, to be uploaded under asset_base_url
    page: Any = None  # digest.page.Page: the HTML parsed once, for the checks, the link checker and the preview
    findings: list[Finding] = field(default_factory=list)
    flowed: str = ""  # the text part as format=flowed (RFC 3676), for the .eml: see render.text_parts

    @property
    def subject(self) -> str:
        return self.issue.subject

    @property
    def platform(self) -> str:
        return self.newsletter.platform

    @property
    def ok(self) -> bool:
        """No error among the findings (warnings and notes allowed)."""
        return not any(f.severity == ERROR for f in self.findings)
