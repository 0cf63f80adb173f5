"""The model: what a newsletter and an issue hold once read and checked. Plain data, no behaviour."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Text:
    """Editor-written Markdown, with its two renderings: safe HTML for the email, plain text for the text part."""

    source: str
    html: str
    plain: str
    links: tuple[tuple[str, str], ...] = ()  # (label, url) in reading order


@dataclass(frozen=True)
class Image:
    url: str  # absolute http(s) URL, as the email will reference it
    alt: str
    source: Path | None = None  # the local file behind `url`, when the editor named a path
    path: str | None = None  # `source` relative to the asset root: where it goes under asset_base_url


@dataclass(frozen=True)
class SocialLink:
    platform: str  # key into the theme's icons: "facebook", "bluesky", …
    url: str
    label: str  # accessible name: "Facebook"
    icon: Image


@dataclass(frozen=True)
class Colours:
    brand: str = "#1d4f91"
    text: str = "#1f2933"
    muted: str = "#52606d"
    link: str = "#1d4f91"
    background: str = "#eef1f5"
    surface: str = "#ffffff"
    button_text: str = "#ffffff"
    dark_brand: str = "#8ab4f8"
    dark_text: str = "#e8eaed"
    dark_muted: str = "#bdc1c6"
    dark_link: str = "#8ab4f8"
    dark_background: str = "#121417"
    dark_surface: str = "#1f2328"


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
    colours: Colours = field(default_factory=Colours)
    footer: Text | None = None
    platform: str = "generic"  # the mail platform whose merge tags the email carries (digest.platforms)
    sender: str | None = None  # "Name <address@example.org>", the From of the .eml
    unsubscribe: tuple[str, ...] = ()  # https:// and/or mailto: addresses for the List-Unsubscribe header
    clinicaltrials_api: str | None = None  # where `digest trial` fetches studies (a mirror, or a test server)
    trial_institution: str = "sponsor"  # what `digest trial` names as an entry's institution: sponsor | facility


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
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # field name -> line, for messages


@dataclass(frozen=True)
class Issue:
    path: Path
    slug: str
    subject: str
    preheader: str
    date: datetime.date
    intro: Text
    entries: tuple[Entry, ...]
    outro: Text | None = None
    greeting: str | None = None  # "Dear {first_name}," as the editor typed it; {first_name} becomes the platform's tag
    lines: dict[str, int] = field(default_factory=dict)  # field name -> line, for messages about the issue
