"""Images named by the editor: a web address as it is, or a file path that becomes a URL under asset_base_url."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from digest.markup import link_problem
from digest.model import Image


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
    if not source.is_file():
        raise ValueError(f"no image file at {src!r} (looked for {source})")
    try:
        relative = source.relative_to(root).as_posix()  # `root` comes resolved from the config
    except ValueError:
        raise ValueError(f"the image {src!r} is outside the newsletter folder {root}") from None
    if asset_base_url is None:
        raise ValueError(f"the image {src!r} is a file: set asset_base_url in digest.toml to the web folder it is uploaded to")
    return Image(url=asset_base_url + quote(relative), alt=alt, source=source, path=relative)
