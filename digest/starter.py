"""Starter files for `digest init` and `digest new`, from the theme's templates/new/."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from digest.exceptions import DigestError


def render_starter(template: str, **context) -> str:
    import jinja2

    from digest.theme import DEFAULT_THEME

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(DEFAULT_THEME / "new")), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    # A JSON string is a valid double-quoted string in both TOML and YAML, whatever the editor typed.
    env.filters["toml"] = env.filters["yaml"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    return env.get_template(template).render(context)


def write_new_file(path: Path, text: str) -> None:
    """Create `path` with `text`, whole or not at all, and never over a file that exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            os.link(staging, path)  # fails if `path` exists, where a rename would replace it
        finally:
            os.unlink(staging)
    except FileExistsError:
        raise DigestError("already exists: choose another title or date", path) from None
    except OSError as exc:
        raise DigestError(f"cannot be written ({exc.strerror})", path) from None
