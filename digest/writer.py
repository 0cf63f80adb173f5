"""Put a built email on disk, all or nothing: a half-written issue folder never exists."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from digest.exceptions import BuildError
from digest.model import Result

FILES = {"email.html": "html", "email.txt": "text", "email.mjml": "mjml"}


def write_email(email: Result, out_dir: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write `email` to out_dir/<slug>/ with the images it links to, replacing what was there in one step.

    `extra` adds files made from the email, such as email.eml, to the same step.
    """
    target = out_dir / email.issue.slug
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{email.issue.slug}.", dir=out_dir))
    except OSError as exc:
        raise BuildError(f"cannot write the output folder ({exc.strerror})", out_dir) from None
    try:
        for name, attribute in FILES.items():
            (staging / name).write_text(getattr(email, attribute), encoding="utf-8", newline="\n")
        for name, data in (extra or {}).items():
            (staging / name).write_bytes(data)
        for image in email.images:
            destination = staging / image.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(image.source, destination)
        os.chmod(staging, 0o755)
        _swap_in(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"cannot write the output ({exc.strerror})", exc.filename or target) from None
    return target


def _swap_in(staging: Path, target: Path) -> None:
    # rename() is atomic for one path; a folder that exists is first moved aside, then removed.
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
        try:
            os.replace(staging, target)
        except OSError:
            os.replace(old / target.name, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)
