"""Read digest.toml, the newsletter's settings, into a `Newsletter`: the one place its keys are checked."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import fields
from pathlib import Path

from digest.exceptions import ConfigError
from digest.files import read_text
from digest.markup import MarkdownLinkError, control_problem, link_problem, render
from digest.model import Colours, Image, Newsletter, SocialLink
from digest.theme import icon_path

CONFIG_NAME = "digest.toml"

# Platforms the default theme has an icon for, with the name a screen reader says for the link.
SOCIAL_PLATFORMS = {
    "facebook": "Facebook",
    "x": "X",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "threads": "Threads",
    "tiktok": "TikTok",
    "email": "Email",
    "website": "Website",
    "rss": "RSS feed",
}

REQUIRED = ("name", "organisation", "website", "address")
OPTIONAL = ("language", "asset_base_url", "logo", "social", "colours", "footer", "platform", "sender", "unsubscribe",
            "clinicaltrials_api", "trial_institution")
TRIAL_INSTITUTIONS = ("sponsor", "facility")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def find_config(start: Path) -> Path | None:
    """digest.toml in `start` or the nearest folder above it, as git finds .git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path) -> Newsletter:
    text = read_text(path, ConfigError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        raise ConfigError(f"is not valid TOML: {message.split(' (at')[0]}", path, line) from None
    except RecursionError:  # tomllib recurses once for each [ or { inside another
        raise ConfigError("is not valid TOML: lists or tables nested too deep", path) from None
    return _ConfigReader(path, text).newsletter(data)


class _ConfigReader:
    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def error(self, field: str, problem: str) -> ConfigError:
        return ConfigError(problem, self.path, self._line_of(field), field)

    def _line_of(self, field: str) -> int | None:
        # tomllib keeps no positions: find the key's line ourselves, inside its table when it has one.
        *tables, key = re.sub(r"\[\d+\]", "", field).split(".")
        start = 0
        if tables:
            index = int(m.group(1)) if (m := re.search(r"\[(\d+)\]", field)) else 0
            header = re.compile(r"^\s*\[\[?\s*" + re.escape(tables[0]) + r"\s*\]\]?")
            hits = [i for i, line in enumerate(self.lines) if header.match(line)]
            if not hits:  # an inline table: `logo = { src = … }` is all on the key's line
                return self._find(tables[0], 0)
            start = hits[min(index, len(hits) - 1)]
        return self._find(key, start) or (start + 1 if tables else None)

    def _find(self, key: str, start: int) -> int | None:
        pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
        for i in range(start, len(self.lines)):
            if pattern.match(self.lines[i]):
                return i + 1
        return None

    def check_keys(self, data: dict, allowed, required=(), table: str = "") -> None:
        for key in data:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f": did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(allowed)}"
                raise self.error(table + key, f"unknown key{hint}")
        for key in required:
            if key not in data:
                raise ConfigError(f"'{table}{key}' is missing", self.path)

    def text(self, data: dict, key: str, table: str = "") -> str:
        value = data[key]
        if not isinstance(value, str):
            raise self.error(table + key, f"must be text in quotes, not {type(value).__name__}")
        if not value.strip():
            raise self.error(table + key, "is empty")
        if problem := control_problem(value):
            raise self.error(table + key, problem)
        return value.strip()

    def url(self, data: dict, key: str, table: str = "") -> str:
        value = self.text(data, key, table)
        if problem := link_problem(value):
            raise self.error(table + key, problem)
        return value

    def newsletter(self, data: dict) -> Newsletter:
        self.check_keys(data, REQUIRED + OPTIONAL, REQUIRED)
        asset_base_url = None
        if "asset_base_url" in data:
            asset_base_url = self.url(data, "asset_base_url").rstrip("/") + "/"
            if not asset_base_url.startswith(("https://", "http://")):
                raise self.error("asset_base_url", "must be a web address starting with https://")
            if "?" in asset_base_url or "#" in asset_base_url:
                raise self.error("asset_base_url", "must be a folder's address, without ? or #: image paths are added to its end")
        root = self.path.parent.resolve()
        language = self.text(data, "language") if "language" in data else "en"
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
            raise self.error("language", f"{language!r} is not a language code such as 'en' or 'en-GB'")
        footer = None
        if "footer" in data:
            try:
                footer = render(self.text(data, "footer"))
            except MarkdownLinkError as exc:
                raise self.error("footer", exc.problem) from None
        clinicaltrials_api = None
        if "clinicaltrials_api" in data:
            clinicaltrials_api = self.url(data, "clinicaltrials_api").rstrip("/")
            if not clinicaltrials_api.startswith(("https://", "http://")):
                raise self.error("clinicaltrials_api", "must be a web address starting with https://")
        trial_institution = self.text(data, "trial_institution") if "trial_institution" in data else "sponsor"
        if trial_institution not in TRIAL_INSTITUTIONS:
            raise self.error("trial_institution", f"{trial_institution!r} must be 'sponsor' (the lead sponsor) or 'facility' (the first location)")
        return Newsletter(
            name=self.text(data, "name"),
            organisation=self.text(data, "organisation"),
            website=self.url(data, "website"),
            address=self.text(data, "address"),
            root=root,
            config_path=self.path,
            language=language,
            asset_base_url=asset_base_url,
            logo=self.logo(data["logo"], root, asset_base_url) if "logo" in data else None,
            social=self.social(data.get("social", []), root, asset_base_url),
            colours=self.colours(data.get("colours", {})),
            footer=footer,
            clinicaltrials_api=clinicaltrials_api,
            trial_institution=trial_institution,
            platform=self.platform(data) if "platform" in data else "generic",
            sender=self.sender(data) if "sender" in data else None,
            unsubscribe=self.unsubscribe(data) if "unsubscribe" in data else (),
        )

    def platform(self, data: dict) -> str:
        from digest.platforms import UnknownPlatform, platform_tags

        name = self.text(data, "platform").lower()
        try:
            platform_tags(name)
        except UnknownPlatform as exc:
            raise self.error("platform", str(exc)) from None
        return name

    def sender(self, data: dict) -> str:
        """`Name <address@example.org>`: the From of the .eml export and of test sends."""
        value = self.text(data, "sender")
        # "Name <address>" with any name (commas too, no quotes needed), or a bare address.
        match = re.fullmatch(r"([^<>]*?)\s*<([^<>]*)>|([^<>]*)", value)
        shape = 'write it as "Name <address@example.org>"'
        if match is None:
            raise self.error("sender", f"{value!r} is not an email address; {shape}")
        name, address = (match.group(1).strip().strip('"'), match.group(2).strip()) if match.group(2) is not None else ("", value)
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or any(c in address for c in ' <>"(),;:[]\\') or len(value.splitlines()) > 1:
            raise self.error("sender", f"{value!r} is not an email address; {shape}")
        if not name:
            return address
        if any(c in name for c in '()<>@,;:\\".[]'):  # RFC 5322 quotes such a name, as email.utils would
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{address}>"

    def unsubscribe(self, data: dict) -> tuple[str, ...]:
        """One-click unsubscribe for the List-Unsubscribe header: an https:// address, a mailto:, or both."""
        value = data["unsubscribe"]
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise self.error("unsubscribe", 'must be an address in quotes, or a list of them: ["https://…", "mailto:…"]')
        links = []
        for item in values:
            link = item.strip()
            if problem := link_problem(link):
                raise self.error("unsubscribe", problem)
            if not link.lower().startswith(("https://", "mailto:")):
                # RFC 8058: one-click unsubscribe must go over HTTPS.
                raise self.error("unsubscribe", f"{link!r} must start with https:// or mailto:")
            links.append(link)
        return tuple(links)

    def logo(self, value, root: Path, asset_base_url: str | None) -> Image:
        if not isinstance(value, dict):
            raise self.error("logo", 'must be a table: logo = { src = "images/logo.png", alt = "…" }')
        self.check_keys(value, ("src", "alt"), ("src", "alt"), "logo.")
        from digest.assets import resolve_image

        src, alt = self.text(value, "src", "logo."), self.text(value, "alt", "logo.")
        try:
            return resolve_image(src, alt, root, root, asset_base_url)
        except ValueError as exc:
            raise self.error("logo.src", str(exc)) from None

    def social(self, value, root: Path, asset_base_url: str | None) -> tuple[SocialLink, ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error("social", 'must be a list of [[social]] tables, each with platform and url')
        links = []
        for i, item in enumerate(value):
            table = f"social[{i}]."
            self.check_keys(item, ("platform", "url"), ("platform", "url"), table)
            platform = self.text(item, "platform", table).lower()
            if platform not in SOCIAL_PLATFORMS:
                near = difflib.get_close_matches(platform, SOCIAL_PLATFORMS, n=1)
                hint = f"did you mean '{near[0]}'?" if near else "known: " + ", ".join(SOCIAL_PLATFORMS)
                raise self.error(table + "platform", f"no icon for {platform!r}; {hint}")
            if asset_base_url is None:
                raise self.error(table + "platform", "social icons need asset_base_url, the web folder they are served from")
            label = SOCIAL_PLATFORMS[platform]
            icon = Image(
                url=f"{asset_base_url}icons/{platform}.png",
                alt=label,
                source=icon_path(platform, root),
                path=f"icons/{platform}.png",
            )
            links.append(SocialLink(platform, self.url(item, "url", table), label, icon))
        return tuple(links)

    def colours(self, value) -> Colours:
        if not isinstance(value, dict):
            raise self.error("colours", "must be a [colours] table")
        names = tuple(f.name for f in fields(Colours))
        self.check_keys(value, names, table="colours.")
        for key in value:
            colour = self.text(value, key, "colours.")
            if not _HEX.fullmatch(colour):
                raise self.error(f"colours.{key}", f"{colour!r} is not a colour like '#1d4f91'")
        return Colours(**{k: v.strip() for k, v in value.items()})
