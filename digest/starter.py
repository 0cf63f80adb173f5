"""Starter files for `digest init` and `digest new`, from the theme's new/ folder."""

from __future__ import annotations

import os
from pathlib import Path

from digest.theme import DEFAULT_THEME, find_file

# What `digest init` and `digest new` fill in when the editor gives nothing: `digest check` looks for them.
STARTER_NAME = "My Newsletter"
STARTER_SUBJECT = "Subject of the email"
INIT_SUBJECT = "{name}: first issue"  # the subject of the issue `digest init` writes
STARTERS = ("digest.toml.j2", "issue.yaml.j2")


def starter_dirs(theme_dirs: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Where the starter files are looked up, first found wins: new/ of the newsletter's templates/ and of its
    theme (`theme_dirs`), then of the default theme, which a theme without new/ starts from."""
    return tuple(folder / "new" for folder in (*theme_dirs, DEFAULT_THEME))


def render_starter(template: str, theme_dirs: tuple[Path, ...] = (), **context) -> str:
    import json

    import jinja2

    from digest.render import Utf8Loader, bytecode_cache, render_template

    env = jinja2.Environment(loader=Utf8Loader([str(d) for d in starter_dirs(theme_dirs)]),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False,
                             bytecode_cache=bytecode_cache("starter", False, True))
    # A JSON string is a valid double-quoted string in both TOML and YAML, whatever the editor typed.
    env.filters["toml"] = env.filters["yaml"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    # Errors as the email's templates give them: the file and line, whatever the template's code did.
    dirs = starter_dirs(theme_dirs)
    env.digest_folders = tuple(d.resolve() for d in dirs)
    env.template_folders = tuple(Path(os.path.abspath(d)) for d in dirs)
    return render_template(env, template, context)


def starter_stamp(theme_dirs: tuple[Path, ...]) -> tuple:
    """Which starter files these folders give, and when each last changed: a key for what is read from them."""
    dirs = starter_dirs(theme_dirs)
    stamp = []
    for name in STARTERS:
        path = find_file(dirs, name)
        stamp.append((path, path.stat().st_mtime_ns if path else None))
    return tuple(stamp)
