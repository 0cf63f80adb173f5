"""Read digest.toml, the newsletter's settings, into a `Newsletter`: the one place its keys are checked."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import fields
from pathlib import Path

from digest.exceptions import ConfigError, IssueError, OptionError
from digest.files import read_text
from digest.markup import MarkdownLinkError, control_problem, link_problem, render
from digest.model import Colours, Image, Newsletter, SocialLink, SourceMap
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
            "clinicaltrials_api", "trial_institution", "description", "subscribe_url", "archive_url", "view_online")
TRIAL_INSTITUTIONS = ("sponsor", "facility")
# "platform": the mail platform's web-version tag, none where it has none; "archive": the issue's page in the
# archive where the platform has no tag; "archive-always": the archive's page on every platform.
VIEW_ONLINE = ("platform", "archive", "archive-always")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def find_config(start: Path) -> Path | None:
    """digest.toml in `start` or the nearest folder above it, as git finds .git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def settings_for(issue_path: Path, config_path: Path | None = None, **overrides) -> Newsletter:
    """The settings an issue is built with: `config_path`, else the digest.toml next to or above the issue."""
    issue_path = Path(issue_path)
    if not issue_path.is_file():
        raise IssueError("no such issue file" if not issue_path.exists() else "is a folder, not an issue file", issue_path)
    if config_path is None:
        config_path = find_config(issue_path.parent)
        if config_path is None:
            raise ConfigError(f"no {CONFIG_NAME} found in this folder or any folder above it (use --config, or run 'digest init')", issue_path)
    return load_config(config_path, **overrides)


def load_config(path: Path, **overrides) -> Newsletter:
    """digest.toml as a `Newsletter`, with the command line's overrides (`platform="brevo"`) merged in before
    anything is checked, as MkDocs merges its flags: the rest of digest reads one settled set of settings."""
    path = Path(path)
    text = read_text(path, ConfigError)
    try:
        data, lines = _parse(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        raise ConfigError(f"is not valid TOML: {message.split(' (at')[0]}", path, line) from None
    given = {key: value for key, value in overrides.items() if value is not None}
    return _ConfigReader(path, lines, set(given)).newsletter({**data, **given})


@functools.lru_cache(maxsize=8)  # the preview reads the same digest.toml on every save of the issue
def _parse(text: str) -> tuple[dict, SourceMap]:
    return tomllib.loads(text), _toml_lines(text)


def _toml_lines(text: str) -> SourceMap:
    """The line of every key of a valid TOML document (tomllib keeps no positions), named as messages name
    them: "name", "logo.src", "social[1].url", "colours.brand"."""
    keys: dict[str, int] = {}
    values: dict[str, tuple[int, bool]] = {}
    table, counts = "", {}
    closing, depth = None, 0  # inside a multi-line string (its delimiter), or a multi-line array
    for number, line in enumerate(text.splitlines(), 1):
        if closing is not None:
            if closing in line:
                closing = None
            continue
        if depth:
            depth += _depth(line)
            continue
        stripped = line.strip()
        if header := re.match(r"\[\[\s*([\w.-]+)\s*\]\]", stripped):
            name = header.group(1)
            counts[name] = counts.get(name, -1) + 1
            table = f"{name}[{counts[name]}]"
            keys[table], table = number, table + "."
        elif header := re.match(r"\[\s*([\w.-]+)\s*\]", stripped):
            keys[header.group(1)], table = number, header.group(1) + "."
        elif pair := re.match(r"""(["']?)([\w.-]+)\1\s*=\s*(.*)""", stripped):
            key, value = table + pair.group(2), pair.group(3)
            keys[key] = number
            values[key] = (number, True)
            if value.startswith("{"):  # an inline table holds its keys on this line
                for sub in re.findall(r"""[{,]\s*["']?([\w-]+)["']?\s*=""", value):
                    keys[f"{key}.{sub}"] = number
            for quote in ('"""', "'''"):
                if value.startswith(quote) and quote not in value[3:]:
                    closing = quote
                    values[key] = (number + 1, True) if not value[3:].strip() else (number, True)
            if closing is None:
                depth = _depth(value)
    return SourceMap(None, keys, values)


def _depth(line: str) -> int:
    """How many brackets `line` opens and leaves open, outside strings and comments."""
    depth, quote = 0, None
    for i, char in enumerate(line):
        if quote:
            if char == quote and (quote == "'" or line[i - 1] != "\\"):
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return max(depth, 0)


class _ConfigReader:
    def __init__(self, path: Path, source: SourceMap, overridden: set[str]):
        self.path, self.overridden = path, overridden
        # An overridden key's line in the file says what the command line replaced: it is not the source.
        keys = {key: line for key, line in source.keys.items() if key not in overridden}
        self.source = SourceMap(path, keys, source.values)

    def error(self, field: str, problem: str) -> ConfigError:
        if field in self.overridden:
            return OptionError(problem, None, None, f"--{field}")
        return ConfigError(problem, self.path, self.line(field), field)

    def line(self, field: str) -> int | None:
        # A key that is not there (a missing one) is reported at its table's header.
        while field:
            if field in self.source.keys:
                return self.source.keys[field]
            field = field.rpartition(".")[0]
        return None

    def note_url(self, url: str, field: str) -> None:
        self.source.urls.setdefault(url, (field, self.line(field)))

    def check_keys(self, data: dict, allowed, required=(), table: str = "") -> None:
        for key in data:
            if key not in allowed:
                import difflib  # only when something is misspelt: not on every run
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f": did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(allowed)}"
                raise self.error(table + key, f"unknown key{hint}")
        for key in required:
            if key not in data:
                raise ConfigError(f"'{table}{key}' is missing", self.path, self.line(table.rstrip(".")) if table else None)

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
        self.note_url(value, table + key)
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
                raise ConfigError(exc.problem, self.path, self.source.line_at("footer", exc.line_offset), "footer") from None
            for _, href, offset in footer.links:
                self.source.urls.setdefault(href, ("footer", self.source.line_at("footer", offset)))
        clinicaltrials_api = None
        if "clinicaltrials_api" in data:
            clinicaltrials_api = self.url(data, "clinicaltrials_api").rstrip("/")
            if not clinicaltrials_api.startswith(("https://", "http://")):
                raise self.error("clinicaltrials_api", "must be a web address starting with https://")
        trial_institution = self.text(data, "trial_institution") if "trial_institution" in data else "sponsor"
        if trial_institution not in TRIAL_INSTITUTIONS:
            raise self.error("trial_institution", f"{trial_institution!r} must be 'sponsor' (the lead sponsor) or 'facility' (the first location)")
        archive_url = self.archive_url(data) if "archive_url" in data else None
        view_online = self.text(data, "view_online") if "view_online" in data else "platform"
        if view_online not in VIEW_ONLINE:
            raise self.error("view_online", f"{view_online!r} must be one of: {', '.join(VIEW_ONLINE)}")
        if view_online != "platform" and archive_url is None:
            raise self.error("view_online", f"{view_online!r} links to the archive: set archive_url, the address it is published at")
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
            description=self.text(data, "description") if "description" in data else None,
            subscribe_url=self.url(data, "subscribe_url") if "subscribe_url" in data else None,
            archive_url=archive_url,
            view_online=view_online,
            platform=self.platform(data) if "platform" in data else "generic",
            sender=self.sender(data) if "sender" in data else None,
            unsubscribe=self.unsubscribe(data) if "unsubscribe" in data else (),
            source=self.source,
        )

    def archive_url(self, data: dict) -> str:
        """Where the archive is published: every link of its feed, and the email's link to its web version,
        start with it."""
        value = self.url(data, "archive_url")
        if not value.lower().startswith("https://"):
            raise self.error("archive_url", f"{value!r} must start with https://: feed readers and mail programs warn about http://")
        if "?" in value or "#" in value:
            raise self.error("archive_url", "must be a folder's address, without ? or #: each issue's folder is added to its end")
        return value.rstrip("/") + "/"

    def platform(self, data: dict) -> str:
        from digest.platforms import PLATFORMS, UnknownPlatform

        value = self.text(data, "platform")
        if value.lower() not in PLATFORMS:
            raise self.error("platform", str(UnknownPlatform(value)))
        return value.lower()

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
            image = resolve_image(src, alt, root, root, asset_base_url)
        except ValueError as exc:
            raise self.error("logo.src", str(exc)) from None
        self.note_url(image.url, "logo.src")
        return image

    def social(self, value, root: Path, asset_base_url: str | None) -> tuple[SocialLink, ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error("social", 'must be a list of [[social]] tables, each with platform and url')
        links = []
        for i, item in enumerate(value):
            table = f"social[{i}]."
            self.check_keys(item, ("platform", "url"), ("platform", "url"), table)
            platform = self.text(item, "platform", table).lower()
            if platform not in SOCIAL_PLATFORMS:
                import difflib
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
            self.note_url(icon.url, table + "platform")
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
