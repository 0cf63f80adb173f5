"""`digest init`: a new newsletter folder with its settings and a first issue."""

from __future__ import annotations

import datetime
from pathlib import Path

from digest.config import CONFIG_NAME
from digest.exceptions import ConfigError, DigestError, OptionError
from digest.markup import control_problem
from digest.files import create
from digest.starter import INIT_SUBJECT, render_starter


def init(directory: Path, name: str) -> list[Path]:
    if not name.strip() or len(name.splitlines()) > 1 or control_problem(name):
        raise OptionError("the newsletter's name must be one line of text", field="--name")
    config = directory / CONFIG_NAME
    today = datetime.date.today()
    issue = directory / "issues" / f"{today.isoformat()}-first-issue.yaml"
    for path in (config, issue):
        if path.exists():
            raise ConfigError("already exists: this folder is a newsletter already", path)
    create(config, render_starter("digest.toml.j2", name=name), exists="already exists: this folder is a newsletter already")
    try:
        create(issue, render_starter("issue.yaml.j2", subject=INIT_SUBJECT.format(name=name), date=today.isoformat(), path=issue.relative_to(directory)))
    except DigestError:
        config.unlink()  # both files or neither
        raise
    return [config, issue]
