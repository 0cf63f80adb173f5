"""`digest init`: a new newsletter folder with its settings and a first issue."""

from __future__ import annotations

import datetime
from pathlib import Path

from digest.config import CONFIG_NAME
from digest.exceptions import ConfigError
from digest.files import create
from digest.starter import render_starter


def init(directory: Path, name: str) -> list[Path]:
    config = directory / CONFIG_NAME
    if config.exists():
        raise ConfigError("already exists: this folder is a newsletter already", config)
    today = datetime.date.today()
    issue = directory / "issues" / f"{today.isoformat()}-first-issue.yaml"
    create(config, render_starter("digest.toml.j2", name=name))
    create(issue, render_starter("issue.yaml.j2", subject=f"{name}: first issue", date=today.isoformat(), path=issue.relative_to(directory)))
    return [config, issue]
