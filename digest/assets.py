"""Images named by the editor: a web address as it is, or a file path that becomes a URL under asset_base_url.

A file is uploaded with the email, so only a real image gets that far: a PNG, JPEG, GIF or WebP (known by its
first bytes, not its name) of at most 1 MB, inside the newsletter folder once links are resolved. Anything
else (a text file, the issue itself, a `.env` reached through a link) would be published to the web.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from digest.files import read_up_to, size_text
from digest.markup import link_problem
from digest.model import Image

MAX_IMAGE_BYTES = 1024 * 1024
LARGE_IMAGE_BYTES = 200 * 1024  # past this, `digest check` warns: slow on a phone, and some clients block it
_HEAD = 512  # of a file: enough to tell an image's type, and an SVG's opening past a long XML prologue
_SVG = re.compile(rb"\s*(<\?xml|<!--|<!doctype svg|<svg)", re.IGNORECASE)


def resolve_image(src: str, alt: str, folder: Path, root: Path, asset_base_url: str | None) -> Image:
    """`src` is a URL, or a path relative to `folder` (the file that names it) inside the newsletter's `root`.

    Raises ValueError with an editor-facing reason.
    """
    if "://" in src or src.lower().startswith(("data:", "javascript:", "mailto:")):
        if not src.lower().startswith(("https://", "http://")):
            raise ValueError(f"the image {src[:60]!r} must be a file path or a web address starting with https://")
        if problem := link_problem(src):
            raise ValueError(problem)
        return Image(url=src, alt=alt)
    posix = PurePosixPath(src.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts:
        raise ValueError(f"the image path {src!r} must be relative to the file, without '..'")
    source = (folder / posix).resolve()
    if not source.exists():
        raise ValueError(f"no image file at {src!r} (looked for {source})")
    try:
        relative = source.relative_to(root).as_posix()  # `root` comes resolved from the config
    except ValueError:
        raise ValueError(f"the image {src!r} is outside the newsletter folder {root}") from None
    try:
        read_image(source, whole=False)
    except ValueError as exc:
        raise ValueError(f"the image {src!r} {exc}") from None
    if asset_base_url is None:
        raise ValueError(f"the image {src!r} is a file: set asset_base_url in digest.toml to the web folder it is uploaded to")
    return Image(url=asset_base_url + quote(relative), alt=alt, source=source, path=relative)


def read_image(path: Path, whole: bool = True) -> bytes:
    """The bytes of the image file at `path`; ValueError saying what it is instead ("is empty", …).

    `whole=False` reads only the first bytes, which tell what it is: enough while an issue is read, as the
    writer reads it whole again (the file may change in between).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not hang the build
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is a folder, not a file" if stat.S_ISDIR(info.st_mode) else "is not a regular file")
        if info.st_size > MAX_IMAGE_BYTES:
            raise ValueError(_too_large(info.st_size))
        data = read_up_to(fd, MAX_IMAGE_BYTES + 1 if whole else _HEAD)
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if whole and len(data) > MAX_IMAGE_BYTES:
        raise ValueError(_too_large(len(data)))
    if not data:
        raise ValueError("is an empty file")
    if path.suffix.lower() == ".svg" or _SVG.match(data):
        raise ValueError("is an SVG, which most email programs do not show: export it as a PNG")
    if not is_image_data(data):
        raise ValueError("is not a PNG, JPEG, GIF or WebP image")
    return data


def is_image_data(head: bytes) -> bool:
    """Whether bytes (the first 12 are enough) start a PNG, JPEG, GIF or WebP image."""
    return head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) \
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _too_large(size: int) -> str:
    return (f"is {size_text(size, MAX_IMAGE_BYTES)}: an image in an email may be at most {size_text(MAX_IMAGE_BYTES)} "
            f"(under {size_text(LARGE_IMAGE_BYTES)} is best: export it smaller)")
