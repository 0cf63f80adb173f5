"""Read digest.toml, the newsletter's settings, into a `Newsletter`, with its theme's theme.toml: the one place
their keys are checked."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import fields, replace
from pathlib import Path
from urllib.parse import quote

from digest.exceptions import ConfigError, IssueError, OptionError, display_path
from digest.files import read_text
from digest.markup import MarkdownLinkError, control_problem, encoded_word_problem, link_problem, render
from digest.model import Colours, Image, Newsletter, SocialLink, SocialNetwork, SourceMap, Theme
from digest.theme import BUILTIN, OWN, THEME_TOML, find_file, find_theme, theme_dirs

CONFIG_NAME = "digest.toml"

REQUIRED = ("name", "organisation", "website", "address")
OPTIONAL = ("language", "asset_base_url", "logo", "social", "colours", "footer", "platform", "sender", "unsubscribe",
            "clinicaltrials_api", "trial_institution", "theme", "description", "subscribe_url", "archive_url",
            "view_online")
THEME_KEYS = ("description", "contrast", "colours", "social")
COLOURS = tuple(f.name for f in fields(Colours))
_NETWORK = re.compile(r"[a-z0-9][a-z0-9-]*")
TRIAL_INSTITUTIONS = ("sponsor", "facility")
# "platform": the mail platform's web-version tag, none where it has none; "archive": the issue's page in the
# archive where the platform has no tag; "archive-always": the archive's page on every platform.
VIEW_ONLINE = ("platform", "archive", "archive-always")
# Networks an editor may know by an older name: the name the themes use now.
_RENAMED = {"twitter": "x"}
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
    return load_config(config_for(issue_path, config_path), **overrides)


def config_for(issue_path: Path, config_path: Path | None = None) -> Path:
    """`config_path`, else the digest.toml next to or above the issue; IssueError when the issue is no file."""
    issue_path = Path(issue_path)
    if not issue_path.is_file():
        kind = "is a folder, not an issue file" if issue_path.is_dir() else "is not a regular file (a pipe or a device?)"
        if not issue_path.exists() and issue_path.suffix != ".yaml" and issue_path.with_name(issue_path.name + ".yaml").is_file():
            raise IssueError(f"no such issue file: did you mean {display_path(issue_path.with_name(issue_path.name + '.yaml'))}?",
                             issue_path)
        raise IssueError("no such issue file" if not issue_path.exists() else kind, issue_path)
    return config_path if config_path is not None else required_config(issue_path.parent, issue_path)


def required_config(start: Path, place: Path) -> Path:
    """digest.toml in `start` or above it; ConfigError, named at `place`, when there is none."""
    config_path = find_config(start)
    if config_path is None:
        raise ConfigError(f"no {CONFIG_NAME} found in this folder or any folder above it (use --config, or run 'digest init')", place)
    return config_path


def load_config(path: Path, **overrides) -> Newsletter:
    """digest.toml as a `Newsletter`, with the command line's overrides (`platform="brevo"`) merged in before
    anything is checked, as MkDocs merges its flags: the rest of digest reads one settled set of settings."""
    path = Path(path)
    data, lines = _read_toml(path)
    given = {key: value for key, value in overrides.items() if value is not None}
    return _ConfigReader(path, lines, set(given)).newsletter({**data, **given})


def _read_toml(path: Path) -> tuple[dict, SourceMap]:
    """A TOML file, and the line of each of its keys. The result is shared: never change it."""
    text = read_text(path, ConfigError)
    try:
        return _parse(text)
    except tomllib.TOMLDecodeError as exc:
        from digest.mistakes import toml_mistake  # only for a file that does not parse

        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        problem = message.split(" (at")[0]
        if found := toml_mistake(text, problem, line):
            raise ConfigError(found.problem, path, found.line, found.field) from None
        if line is None and message.endswith("(at end of document)"):  # what was left open runs to the end
            line = len(text.splitlines()) or None
        raise ConfigError(f"is not valid TOML: {problem}", path, line) from None
    except RecursionError:  # tomllib recurses once for each [ or { inside another
        raise ConfigError("is not valid TOML: lists or tables nested too deep", path) from None


@functools.lru_cache(maxsize=16)  # the preview reads the same digest.toml and theme.toml on every save of the issue
def _parse(text: str) -> tuple[dict, SourceMap]:
    return tomllib.loads(text), _toml_lines(text)


def read_theme(name: str, folder: Path, dirs: tuple[Path, ...]) -> Theme:
    """The theme in `folder`: its theme.toml, with the newsletter's own templates/theme.toml (when `dirs`
    holds one) read over it table by table, so that two lines there add a social network."""
    own = dirs[0] / THEME_TOML if len(dirs) > 1 else None
    files = [folder / THEME_TOML] + ([own] if own is not None and own.is_file() else [])
    description, colours, social, contrast, set_in = "", {}, {}, [], {}
    for path in files:
        data, lines = _read_toml(path)
        reader = _ConfigReader(path, lines, set())
        whole = path == files[0]  # the theme's own theme.toml says everything; an override what it changes
        reader.check_keys(data, THEME_KEYS, ("description", "colours") if whole else ())
        if "description" in data:
            description = reader.text(data, "description")
        if "colours" in data:
            values = reader.colour_values(data["colours"])
            colours.update(values)
            if not path.is_relative_to(BUILTIN):  # the editor's: where the contrast check sends them
                set_in.update({name: (path, lines.line(f"colours.{name}")) for name in values})
            if whole and (missing := [name for name in COLOURS if name not in colours]):
                raise reader.error("colours", f"a theme gives every colour; missing: {', '.join(missing)}")
        if "social" in data:
            social.update(reader.networks(data["social"], dirs))
        if "contrast" in data:
            contrast += reader.contrast(data["contrast"])
    return Theme(name, folder, dirs, description, Colours(**colours), social, tuple(dict.fromkeys(contrast)), set_in)


def _toml_lines(text: str) -> SourceMap:
    """The line of every key of a valid TOML document (tomllib keeps no positions), named as messages name
    them: "name", "logo.src", "social[1].url", "colours.brand"."""
    keys: dict[str, int] = {}
    values: dict[str, tuple[int, bool]] = {}
    table, counts = "", {}
    closing, depth = None, 0  # inside a multi-line string (its delimiter), or a multi-line array
    for number, line in enumerate(text.splitlines(), 1):
        if closing is not None:
            if closing == '"""' and "\\" in line:  # an escape: "\n" adds a line, a "\" at the end joins two
                values[key] = (values[key][0], False)
            if closing in line:
                closing = None
            continue
        if depth:
            depth = max(depth + _depth(line), 0)
            continue
        stripped = line.strip()
        if header := re.match(r"\[\[\s*([\w.-]+)\s*\]\]", stripped):
            name = header.group(1)
            counts[name] = counts.get(name, 0) + 1  # from 1, as an issue's entries and as editors count
            table = f"{name}[{counts[name]}]"
            keys[table], table = number, table + "."
        elif header := re.match(r"\[\s*([\w.-]+)\s*\]", stripped):
            keys[header.group(1)], table = number, header.group(1) + "."
        elif pair := re.match(r"""(["']?)([\w.-]+)\1\s*=\s*(.*)""", stripped):
            key, value = table + pair.group(2), pair.group(3)
            keys[key] = number
            values[key] = (number, not (value.startswith('"') and "\\" in value))
            if value.startswith("{"):  # an inline table holds its keys on this line
                for sub in re.findall(r"""[{,]\s*["']?([\w-]+)["']?\s*=""", value):
                    keys[f"{key}.{sub}"] = number
            for quote in ('"""', "'''"):
                if value.startswith(quote) and quote not in value[3:]:
                    closing = quote
                    values[key] = (number + (not value[3:].strip()), values[key][1])
            if closing is None:
                depth = max(_depth(value), 0)
    return SourceMap(None, keys, values)


def _depth(line: str) -> int:
    """How many brackets `line` opens and leaves open (less those it closes), outside strings and comments."""
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
    return depth


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
        # A key that is not there (a missing one, an item of a list) is reported at its table's or list's key.
        while field:
            if field in self.source.keys:
                return self.source.keys[field]
            field = field[: field.rindex("[")] if field.endswith("]") else field.rpartition(".")[0]
        return None

    def note_url(self, url: str, field: str) -> None:
        self.source.urls.setdefault(url, (field, self.line(field)))

    def check_keys(self, data: dict, allowed, required=(), table: str = "") -> None:
        for key in data:
            if key not in allowed:
                import difflib  # only when something is misspelt: not on every run
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f": did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(allowed)}"
                if table and key in (*REQUIRED, *OPTIONAL):
                    # Added at the end of the file: TOML reads every line below a [table] line as part of it.
                    header = f"[[{table.partition('[')[0]}]]" if "[" in table else f"[{table.rstrip('.')}]"
                    at = self.line(table.rstrip("."))
                    hint = (f": '{key}' is a setting of its own: move its line above the {header} line"
                            f"{f' (line {at})' if at else ''}; below it, TOML reads it as part of {header}")
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
        theme = self.theme(data, root)
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
            social=self.social(data.get("social", []), asset_base_url, theme),
            colours=replace(theme.colours, **self.colour_values(data.get("colours", {}))),
            theme=theme,
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
        if problem := encoded_word_problem(value):
            raise self.error("sender", problem)
        # "Name <address>" with any name (commas too, no quotes needed), or a bare address.
        match = re.fullmatch(r"([^<>]*?)\s*<([^<>]*)>|([^<>]*)", value)
        shape = 'write it as "Name <address@example.org>"'
        if match is None:
            raise self.error("sender", f"{value!r} is not an email address; {shape}")
        name, address = (match.group(1).strip().strip('"'), match.group(2).strip()) if match.group(2) is not None else ("", value)
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or any(c in address for c in ' <>"(),;:[]\\') or len(value.splitlines()) > 1:
            raise self.error("sender", f"{value!r} is not an email address; {shape}")
        self.note_url(f"mailto:{address}", "sender")  # for the checks: the starter's example.org address, left in
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
            if problem := link_problem(link) or encoded_word_problem(link):
                raise self.error("unsubscribe", problem)
            if not link.lower().startswith(("https://", "mailto:")):
                # RFC 8058: one-click unsubscribe must go over HTTPS.
                raise self.error("unsubscribe", f"{link!r} must start with https:// or mailto:")
            self.note_url(link, "unsubscribe")
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

    def theme(self, data: dict, root: Path) -> Theme:
        name = self.text(data, "theme") if "theme" in data else "default"
        try:
            folder = find_theme(name, root)
        except ValueError as exc:
            raise self.error("theme", str(exc)) from None
        return read_theme(name, folder, theme_dirs(folder, root))

    def social(self, value, asset_base_url: str | None, theme: Theme) -> tuple[SocialLink, ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error("social", 'must be a list of [[social]] tables, each with platform and url')
        links = []
        for i, item in enumerate(value, 1):
            table = f"social[{i}]."
            self.check_keys(item, ("platform", "url"), ("platform", "url"), table)
            platform = self.text(item, "platform", table).lower()
            if platform not in theme.social:
                import difflib  # only when something is misspelt: not on every run

                renamed = _RENAMED.get(platform)
                near = [renamed] if renamed in theme.social else difflib.get_close_matches(platform, theme.social, n=1)
                now = f" ({platform.capitalize()} is called {theme.social[renamed].label} now)" if renamed in theme.social else ""
                hint = (f"did you mean '{near[0]}'?{now}" if near else f"it knows {', '.join(theme.social) or 'none'} "
                        f"(a network is added in {OWN}/{THEME_TOML}: see the Themes page of the docs)")
                raise self.error(table + "platform", f"the {theme.name} theme has no {platform!r}; {hint}")
            network = theme.social[platform]
            icon = None
            if network.icon is not None:
                if asset_base_url is None:
                    raise self.error(table + "platform", "social icons need asset_base_url, the web folder they are served from")
                icon = Image(url=asset_base_url + quote(network.icon), alt=network.label,
                             source=find_file(theme.dirs, network.icon), path=network.icon)
                self.note_url(icon.url, table + "platform")
            links.append(SocialLink(platform, self.url(item, "url", table), network.label, icon))
        return tuple(links)

    def colour_values(self, value) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.error("colours", "must be a [colours] table")
        self.check_keys(value, COLOURS, table="colours.")
        for key in value:
            colour = self.text(value, key, "colours.")
            if not _HEX.fullmatch(colour):
                raise self.error(f"colours.{key}", f"{colour!r} is not a colour like '#1d4f91'")
        return {k: v.strip() for k, v in value.items()}

    # theme.toml

    def networks(self, value, dirs: tuple[Path, ...]) -> dict[str, SocialNetwork]:
        if not isinstance(value, dict):
            raise self.error("social", 'must be a [social] table, one network a line: '
                             'pixelfed = { label = "Pixelfed", icon = "icons/pixelfed.png" }')
        networks = {}
        for name, item in value.items():
            table = f"social.{name}."
            if not isinstance(item, dict):
                raise self.error(f"social.{name}", f'must be a table: {name} = {{ label = "…", icon = "icons/{name}.png" }}')
            if not _NETWORK.fullmatch(name):
                raise self.error(f"social.{name}", f"{name!r}: a network's name is lower-case letters, digits and -")
            self.check_keys(item, ("label", "icon"), ("label",), table)
            icon = None
            if "icon" in item:
                given = self.text(item, "icon", table)
                parts = given.split("/")
                if given.startswith("/") or ".." in parts or "\\" in given or ":" in given:
                    raise self.error(table + "icon", f"{given!r} must be a path inside the theme folder, like 'icons/{name}.png'")
                icon = "/".join(part for part in parts if part not in ("", "."))
                if not any(os.path.isfile(os.path.join(folder, icon)) for folder in dirs):  # not pathlib: every build
                    where = " or ".join(display_path(folder) for folder in dirs)
                    raise self.error(table + "icon", f"no icon file {icon!r} in {where}")
            networks[name] = SocialNetwork(self.text(item, "label", table), icon)
        return networks

    def contrast(self, value) -> list[tuple[str, str, str, float]]:
        shape = ('must be a list of [text colour, background colour, "what the theme paints with them"], with "large" '
                 'after them for a pair that paints only large text (24 px, or 18.66 px bold)')
        if not isinstance(value, list):
            raise self.error("contrast", shape)
        pairs = []
        for i, pair in enumerate(value, 1):
            if not (isinstance(pair, list) and len(pair) in (3, 4) and all(isinstance(x, str) for x in pair)
                    and pair[3:] in ([], ["large"])):
                raise self.error(f"contrast[{i}]", shape)
            for colour in pair[:2]:
                if colour not in COLOURS:
                    import difflib

                    near = difflib.get_close_matches(colour, COLOURS, n=1)
                    hint = f"did you mean '{near[0]}'?" if near else f"the colours are {', '.join(COLOURS)}"
                    raise self.error(f"contrast[{i}]", f"{colour!r} is not a colour's name; {hint}")
            # WCAG 2.1 AA, 1.4.3: 4.5:1 for text, 3:1 for large text.
            pairs.append((pair[0], pair[1], pair[2], 3.0 if pair[3:] == ["large"] else 4.5))
        return pairs
