"""Where themes live. A theme is a folder: email.mjml.j2, email.txt.j2, theme.toml, and optionally icons/ and
new/ (the starter files). digest ships `default` and `plain`; digest.toml's `theme` names one of them or a
folder's path, and the newsletter's own `templates/` folder, next to digest.toml, overrides any file of it.

What theme.toml says is checked in digest.config with the rest of the settings; this module only finds files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_HERE = Path(__file__).parent
# In a wheel the themes are packaged as digest/templates; in a source checkout they are the top-level templates/.
BUILTIN = (_HERE / "templates" if (_HERE / "templates").is_dir() else _HERE.parent / "templates").resolve()
DEFAULT_THEME = BUILTIN / "default"
OWN = "templates"  # the newsletter's own folder, next to digest.toml
HTML_TEMPLATE, TEXT_TEMPLATE, THEME_TOML = "email.mjml.j2", "email.txt.j2", "theme.toml"
REQUIRED = (HTML_TEMPLATE, TEXT_TEMPLATE, THEME_TOML)


def builtin_themes() -> dict[str, Path]:
    """The themes shipped with digest, by name."""
    return {folder.name: folder for folder in sorted(BUILTIN.iterdir()) if (folder / THEME_TOML).is_file()}


def own_folder(root: Path) -> Path | None:
    """The newsletter's own templates/ folder, if it has one."""
    folder = root / OWN
    # The repository's sample newsletter sits next to the built-in themes' folder, which overrides nothing.
    if not folder.is_dir() or folder.resolve() == BUILTIN:
        return None
    return folder


def find_theme(value: str, root: Path) -> Path:
    """The folder of the theme digest.toml names: a built-in theme's name, or a folder's path from `root`.

    Raises ValueError with an editor-facing reason.
    """
    builtin = builtin_themes()
    if value in builtin:
        return builtin[value]
    folder = (root / value).resolve()
    if folder.is_dir():
        missing = [name for name in REQUIRED if not (folder / name).is_file()]
        if missing:
            raise ValueError(f"the theme folder {value!r} has no {' or '.join(missing)}: a theme holds "
                             f"{', '.join(REQUIRED)} (digest theme copy makes one to start from)")
        return folder
    if "/" in value or os.sep in value or value.startswith("."):
        raise ValueError(f"no theme folder at {value!r} (looked for {folder})")
    import difflib

    near = difflib.get_close_matches(value, builtin, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise ValueError(f"unknown theme {value!r}: {hint}the built-in themes are {', '.join(builtin)}; "
                     "or give a theme folder's path")


def theme_dirs(folder: Path, root: Path) -> tuple[Path, ...]:
    """Where the files of the theme in `folder` are looked up, first found wins: the newsletter's own
    templates/ (under `root`), then the theme's folder."""
    own = own_folder(root)
    return (folder,) if own is None or own.resolve() == folder.resolve() else (own, folder)


STAGING = "theme"  # .theme.XXXXXXXX.copy: a copy's staging inside a folder with files of the editor's


def _copy_whole(files: list[Path], source: Path, destination: Path, whole: bool) -> list[Path]:
    """The theme copied into a hidden folder, then put in place: a copy killed halfway leaves no half theme
    in use (a templates/ folder comes first in every build). `whole`: `destination` is missing or empty, and
    the folder is made beside it and renamed into place in one step; else it is made inside it and each file
    linked in (never over a file), which takes a thousandth of the time the copy does."""
    import shutil
    import tempfile

    from digest.exceptions import DigestError
    from digest.files import TEMP_LETTERS, fsync_dir, new_mode, remove_leftovers, stop_here

    parent = destination.parent
    # Into a folder with files: staged inside it, on its file system (a link cannot cross to another) and in
    # its group (a setgid folder's files take its group). What a killed copy left there, copy_theme cleared.
    beside, name = (parent, destination.name) if whole else (destination, STAGING)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if whole:
            remove_leftovers(beside, name, rf"{TEMP_LETTERS}\.copy", folders=True, older_than=3600)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".copy", dir=beside))
    except OSError as exc:
        raise DigestError(f"cannot be written ({exc.strerror})", destination) from None
    linked: list[Path] = []
    made: list[Path] = []  # folders made in the editor's folder, removed again if the copy is undone
    try:
        for file in files:
            target = staging / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as handle:  # on disk before it is put in place, as every file digest writes
                handle.write(file.read_bytes())
                handle.flush()
                os.fsync(handle.fileno())
        stop_here("theme-copy")
        for folder in {staging, *(p for p in staging.rglob("*") if p.is_dir())}:
            os.chmod(folder, new_mode(0o777) | stat.S_IMODE(os.stat(folder).st_mode) & stat.S_ISGID)
            fsync_dir(folder)
        if whole:
            if os.path.isdir(destination):  # an empty folder made for it: its mode stays (0700, say)
                os.chmod(staging, stat.S_IMODE(os.stat(destination).st_mode))
            os.rename(staging, destination)  # fails where a folder appeared meanwhile (unless an empty one)
            fsync_dir(parent)
            return [destination / p.relative_to(source) for p in files]
        for file in files:
            target = destination / file.relative_to(source)
            for folder in reversed(target.relative_to(destination).parents[:-1]):
                if not (destination / folder).is_dir():
                    (destination / folder).mkdir()
                    made.append(destination / folder)
            os.link(staging / file.relative_to(source), target)  # never over a file: one that appeared fails here
            linked.append(target)
        for folder in {t.parent for t in linked}:
            fsync_dir(folder)
    except BaseException as exc:  # a file in the way, a full disk, Ctrl-C: all of the theme or none of it
        for target in linked:
            target.unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, FileExistsError):
            raise DigestError("already exists: nothing was copied; move it away, or copy to another folder with --to",
                              Path(exc.filename2 or exc.filename)) from None
        if isinstance(exc, OSError):
            raise DigestError(f"cannot be written ({exc.strerror}): nothing was copied", destination) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return [destination / p.relative_to(source) for p in files]


def _copy_in_place(files: list[Path], source: Path, destination: Path, targets: list[Path]) -> list[Path]:
    """File by file, into an empty folder that must stay the one it is: the terminal's own folder, or one set
    up for a group (the files take its group)."""
    from digest.exceptions import DigestError
    from digest.files import create

    written = []
    try:
        for file, target in zip(files, targets):
            # A file that appeared since the check above: the same words, and the copy undone below.
            create(target, file.read_bytes(), exists="already exists: nothing was copied; move it away, or copy to "
                   "another folder with --to")
            written.append(target)
    except DigestError:
        for target in written:  # all of the theme or none of it
            target.unlink(missing_ok=True)
        raise
    return targets


def _holds_cwd(path: Path) -> bool:
    """Whether the terminal's folder is `path` or in it: renamed over, it would be left a deleted folder."""
    try:
        return Path.cwd().resolve().is_relative_to(path.resolve())
    except OSError:
        return True


def _shared(path: Path) -> bool:
    """A folder set up for a group (setgid, or another group than the user's): files made in it take its
    group, which a folder made beside it and renamed over it would not keep."""
    info = os.stat(path)
    return bool(info.st_mode & stat.S_ISGID) or info.st_gid != os.getegid()


def _empty_folder(path: Path) -> bool:
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def find_file(dirs: tuple[Path, ...], name: str) -> Path | None:
    for folder in dirs:
        if (folder / name).is_file():
            return folder / name
    return None


def overrides(dirs: tuple[Path, ...]) -> list[str]:
    """What the newsletter's own templates/ folder holds, which comes before the theme's files: its files, and
    its folders with how many files each ("icons/ (2 files)")."""
    if len(dirs) < 2:
        return []
    own = dirs[0]
    shown = []
    for path in sorted(own.iterdir()):
        if path.name.startswith("."):  # .DS_Store, or what a killed copy left: no template is hidden
            continue
        if path.is_file():
            shown.append(path.name)
        elif path.is_dir():
            count = sum(p.is_file() for p in path.rglob("*"))
            shown.append(f"{path.name}/ ({count} file{'s' if count != 1 else ''})")
    return shown


def named_theme(config_path: Path) -> str:
    """The theme digest.toml names, read leniently: for what must work while digest.toml has a mistake (the
    preview, which shows the mistake, and `digest theme copy`, which may make the folder it names)."""
    import tomllib

    from digest.exceptions import DigestError
    from digest.files import read_text

    try:
        # read_text: a FIFO or /dev/zero named as digest.toml must not hang or fill the memory here either.
        value = tomllib.loads(read_text(config_path)).get("theme", "default")
    except (DigestError, ValueError, RecursionError):  # tomllib's error is a ValueError too
        return "default"
    return value if isinstance(value, str) else "default"


def watched_folders(config_path: Path) -> list[Path]:
    """Every folder whose files can be part of this newsletter's theme: its templates/, the built-in themes,
    and the theme folder its digest.toml names."""
    root = config_path.parent
    folders = [BUILTIN]
    if own := own_folder(root):
        folders.append(own)
    try:
        folder = find_theme(named_theme(config_path), root)
    except ValueError:
        folder = BUILTIN  # the build says what is wrong with it
    if not folder.is_relative_to(BUILTIN):
        folders.append(folder)
    return list(dict.fromkeys(folder.resolve() for folder in folders))


def copy_theme(source: Path, destination: Path) -> list[Path]:
    """Copy the theme in `source` (a built-in one's folder) into `destination`, to edit; never over a file
    that is there already.

    Returns the files written. Raises DigestError (nothing is written) when one of them exists.
    """
    from digest.exceptions import DigestError

    if os.path.lexists(destination) and not destination.is_dir():
        what = "is a file, not a folder" if destination.exists() else "is a link to a folder that is not there"
        raise DigestError(f"{what}: nothing was copied; copy to a folder with --to", destination)
    if destination.is_dir() and not destination.is_symlink():
        from digest.files import TEMP_LETTERS, remove_leftovers

        # What a copy killed an hour ago or more left inside it, before any answer (a later copy may stop at
        # "already exists", and it would stay in the editor's folder for good).
        remove_leftovers(destination, STAGING, rf"{TEMP_LETTERS}\.copy", folders=True, older_than=3600)
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    targets = [destination / p.relative_to(source) for p in files]
    there = [target for target in targets if target.exists()]
    if there:
        more = f" (and {len(there) - 1} more of the theme's files)" if len(there) > 1 else ""
        raise DigestError(f"already exists{more}: nothing was copied; move {'them' if there[1:] else 'it'} away, or copy to another "
                          "folder with --to", there[0])
    whole = not os.path.lexists(destination) or _empty_folder(destination)
    if whole and os.path.lexists(destination) and (_holds_cwd(destination) or _shared(destination)):
        return _copy_in_place(files, source, destination, targets)
    return _copy_whole(files, source, destination, whole)
