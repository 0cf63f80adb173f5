"""Where the theme lives: the newsletter's own `templates/` first, then the default theme shipped with digest."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent
# In a wheel the theme is packaged as digest/templates; in a source checkout it is the top-level templates/.
DEFAULT_THEME = (_HERE / "templates" if (_HERE / "templates").is_dir() else _HERE.parent / "templates").resolve()


def theme_dirs(root: Path | None = None) -> list[Path]:
    dirs = []
    if root is not None and (root / "templates").is_dir() and (root / "templates").resolve() != DEFAULT_THEME:
        dirs.append(root / "templates")
    dirs.append(DEFAULT_THEME)
    return dirs


def icon_path(platform: str, root: Path | None = None) -> Path:
    for folder in theme_dirs(root):
        candidate = folder / "icons" / f"{platform}.png"
        if candidate.is_file():
            return candidate
    return DEFAULT_THEME / "icons" / f"{platform}.png"
