"""The library: read the settings and the issue, render the email, parse its HTML once, run the checks.

Every command is a thin layer over `build` and `write`; nothing here prints or knows of Click.
"""

from __future__ import annotations

import os
from pathlib import Path

from digest.model import Newsletter, Result


def build(issue_path: str | os.PathLike, *, config: str | os.PathLike | Newsletter | None = None,
          platform: str | None = None) -> Result:
    """Read, render and check one issue, in memory.

    `config` is digest.toml's path (default: found next to or above the issue) or settings already loaded;
    `platform` overrides digest.toml's. Raises DigestError when the issue cannot be built at all; what the
    checks find is in `Result.findings`.
    """
    from digest.checks import run_checks
    from digest.config import load_config, settings_for
    from digest.reader import read_issue
    from digest.render import render_email

    issue_path = Path(issue_path)
    if isinstance(config, Newsletter):
        newsletter = config if platform is None else load_config(config.config_path, platform=platform)
    else:
        newsletter = settings_for(issue_path, Path(config) if config is not None else None, platform=platform)
    issue = read_issue(issue_path, newsletter)
    result = render_email(issue, newsletter)
    result.findings = run_checks(result)
    return result


def write(result: Result, out_dir: str | os.PathLike, *, eml: bool = False) -> Path:
    """Write the email into `out_dir/<slug>/` (email.html, email.txt, email.mjml, its images, and with
    `eml` the whole message as email.eml), replacing that folder in one step. Returns the folder."""
    from digest.writer import write_email

    extra = {}
    if eml:
        from digest.eml import message_bytes

        extra["email.eml"] = message_bytes(result)
    return write_email(result, Path(out_dir), extra)
