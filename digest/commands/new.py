"""`digest new`: add a dated issue file to the newsletter."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from digest.config import find_config, load_config
from digest.exceptions import DigestError
from digest.files import create
from digest.starter import STARTER_SUBJECT, render_starter


def new(title: str, date_text: str | None, issues_dir: Path | None) -> Path:
    try:
        date = datetime.date.fromisoformat(date_text) if date_text else datetime.date.today()
    except ValueError:
        raise DigestError(f"{date_text!r} is not a date: write it as YYYY-MM-DD", field="--date") from None
    config = find_config(issues_dir or Path.cwd())
    if issues_dir is None:
        issues_dir = (config.parent if config else Path.cwd()) / "issues"
    # The newsletter's theme, or its own templates/new/, may give the starter issue.
    theme_dirs = load_config(config).theme.dirs if config else ()
    slug = re.sub(r"[\W_]+", "-", title.lower()).strip("-")[:60].strip("-") or "issue"
    path = issues_dir / f"{date.isoformat()}-{slug}.yaml"
    create(path, render_starter("issue.yaml.j2", theme_dirs, subject=title or STARTER_SUBJECT, date=date.isoformat(), path=path))
    return path
