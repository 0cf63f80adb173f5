"""`digest theme list` and `digest theme copy`: the built-in themes, and a copy of one to restyle."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from digest.config import find_config, load_config, read_theme
from digest.exceptions import ConfigError, OptionError, display_path, where
from digest.files import read_text
from digest.theme import OWN, builtin_themes, copy_theme, find_theme, named_theme, overrides


def _given(config_path: Path | None) -> None:
    """--config names a file that must be there, as for every command: not found is its one line, exit 1."""
    if config_path is not None:
        read_text(config_path, ConfigError)


def list_themes(config_path: Path | None) -> None:
    _given(config_path)
    builtin = builtin_themes()
    click.echo("Built-in themes:")
    for name, folder in builtin.items():
        click.echo(f"  {name:9} {read_theme(name, folder, (folder,)).description}")
    config = config_path or find_config(Path.cwd())
    if config is None:
        click.echo(f"\nNo digest.toml in this folder or above it: set theme = \"NAME\" in a newsletter's digest.toml.")
        return
    newsletter = load_config(config)
    theme, line = newsletter.theme, newsletter.source.line("theme")
    named = f'theme = "{theme.name}" ({where(config, line)})' if line else f"the {theme.name} theme (digest.toml names none)"
    kind = "built in" if builtin.get(theme.name) == theme.folder else "a theme folder"
    click.echo(f"\nThis newsletter: {named}, {kind}, at {display_path(theme.folder)}")
    if own := overrides(theme.dirs):
        click.echo(f"Its own {OWN}/ folder comes first, over the theme's files: {', '.join(own)}")


def copy(name: str | None, destination: Path | None, config_path: Path | None) -> None:
    _given(config_path)
    config = config_path or find_config(Path.cwd())
    root = config.parent if config else Path.cwd()
    current = named_theme(config) if config else "default"
    builtin = builtin_themes()
    if name is None:
        if config and current not in builtin:
            try:
                find_theme(current, root)
            except ValueError:  # a misspelt theme: copying the default's files would not be what was meant
                load_config(config)  # which says so in one line, on digest.toml's line
        name = current if current in builtin else "default"
    elif name not in builtin:  # typed on the command line: a usage mistake, exit 2
        raise OptionError(f"unknown theme {name!r}: the built-in themes are {', '.join(builtin)}", field="NAME")
    own = root / OWN
    destination = destination or own
    files = copy_theme(builtin[name], destination)
    click.echo(f"Copied the {name} theme's {len(files)} files into {display_path(destination)}{os.sep}", err=True)
    if destination.resolve() == own.resolve():
        then = "" if name == current else f'; set theme = "{name}" in digest.toml to build on the rest of it'
        click.echo(f"They override the {current} theme's files: edit them there{then}.", err=True)
    else:
        folder = os.path.relpath(destination.resolve(), root.resolve()).replace(os.sep, "/")
        # As TOML writes a string: a folder named with a quote or a backslash stays one value.
        click.echo(f"Next: set theme = {json.dumps(folder, ensure_ascii=False)} in digest.toml, then edit the files there.", err=True)
