"""`digest new`: add a dated issue file to the newsletter."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from digest.config import CONFIG_NAME, find_config, load_config
from digest.dates import iso_date
from digest.exceptions import ConfigError, OptionError, display_path
from digest.files import create
from digest.starter import STARTER_SUBJECT, render_starter


def new(title: str, date_text: str | None, issues_dir: Path | None) -> Path:
    try:
        date = iso_date(date_text) if date_text else datetime.date.today()
    except ValueError:
        raise OptionError(f"{date_text!r} is not a date: write it as YYYY-MM-DD", field="--date") from None
    config = find_config(issues_dir or Path.cwd())
    if config is None:
        # An issue outside a newsletter could not be built: say so now, not at the first build.
        where = f"{display_path(issues_dir)} or any folder above it" if issues_dir else "this folder or any folder above it"
        raise ConfigError(f"no {CONFIG_NAME} in {where}, so this is not a newsletter's folder: start one here with "
                          "'digest init', or go to the folder of yours")
    if issues_dir is None:
        issues_dir = config.parent / "issues"
    # The newsletter's theme, or its own templates/new/, may give the starter issue.
    theme_dirs = load_config(config).theme.dirs
    slug = re.sub(r"[\W_]+", "-", title.lower()).strip("-")[:60].strip("-") or "issue"
    path = issues_dir / f"{date.isoformat()}-{slug}.yaml"
    # "Build it with:" as typed in the newsletter's folder, as `digest init`'s first issue says it.
    try:
        shown = path.resolve().relative_to(config.parent.resolve())
    except ValueError:  # an issues folder outside the newsletter's (--dir)
        shown = path
    create(path, render_starter("issue.yaml.j2", theme_dirs, subject=title or STARTER_SUBJECT, date=date.isoformat(), path=shown))
    return path
