"""Put a built email on disk, all or nothing: a half-written issue folder never exists.

The new folder is written beside the old one under a hidden name, fsynced, and swapped in with one atomic
rename (RENAME_EXCHANGE, where the system has it): a build killed at any moment leaves the old folder or the
new one. Builds into one output folder take turns, and each clears what an interrupted one left behind.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from digest.exceptions import BuildError
from digest.files import TEMP_LETTERS, exchange, fsync_dir, remove_leftovers, remove_tree, stop_here, taking_turns
from digest.model import Result

FILES = {"email.html": "html", "email.txt": "text", "email.mjml": "mjml"}
BUILT = {*FILES, "email.eml"}  # every file of its own a build may have written (besides images)


def write_email(email: Result, out_dir: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write `email` to out_dir/<slug>/ with the images it links to, replacing what was there in one step.

    `extra` adds files made from the email, such as email.eml, to the same step.
    """
    from digest.assets import read_image

    slug = email.issue.slug
    named = target = out_dir / slug
    if target.is_symlink():  # the editor's link (into a web server's folder, say): write where it points
        target = followed(target)
        out_dir = target.parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot write the output folder ({exc.strerror})", out_dir) from None
    files = {name: getattr(email, attribute).encode("utf-8") for name, attribute in FILES.items()}
    files.update(extra or {})
    for image in email.images:
        try:
            files[image.path] = read_image(image.source)  # checked when the issue was read; again, as it may have changed
        except ValueError as exc:
            raise BuildError(f"the image {exc}", image.source) from None
    with replacing(target, out_dir) as staging:
        refuse_foreign(target, named, files)  # in turn: another build may have made it meanwhile
        for name, data in files.items():
            write_file(staging, name, data, target)
    return named


def refuse_foreign(target: Path, named: Path, files: dict) -> None:
    """BuildError unless `target` is missing or a folder of digest's builds: the swap replaces it whole, and
    a file there, or an editor's own folder (notes, a web server's folder a link points into), is not ours to
    delete. A build folder holds the email's files and images; anything else is the editor's."""
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise BuildError("is a file, not a folder a build made: move it away, or build into another folder with "
                         "--out (nothing was written, nothing was removed)", named)
    foreign = []
    for folder, dirs, names in os.walk(target):  # links are not followed: a link is removed, not what it leads to
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = Path(folder, name)
            inside = path.relative_to(target).as_posix()
            if inside not in files and inside not in BUILT and not _is_system_file(name) and not _is_image(path):
                foreign.append(inside)
    if foreign:
        shown = ", ".join(sorted(foreign)[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise BuildError(f"holds files a build does not write ({shown}), and each build replaces this whole folder: "
                         "move them away, or build into another folder with --out (nothing was written, nothing "
                         "was removed)", named)


def _is_system_file(name: str) -> bool:
    # What Finder and Explorer write into any folder opened in them: nobody's work.
    return name in (".DS_Store", "Thumbs.db", "desktop.ini", "ehthumbs.db") or name.startswith("._")


def _is_image(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():  # a link is not followed, a FIFO not opened
        return False
    from digest.assets import is_image_data

    try:
        with open(path, "rb") as handle:
            return is_image_data(handle.read(12))
    except OSError:
        return False


@contextmanager
def replacing(target: Path, place: Path):
    """A new folder beside `target`, under a hidden name, to fill in the `with` block; swapped in for `target`
    in one step when the block ends, removed if it fails. One writer at a time per parent folder; an error
    making the folder names `place`."""
    parent = target.parent
    with taking_turns(parent, BuildError, "another digest build or archive"):
        clear_leftovers(parent, target.name)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=parent))
        except OSError as exc:
            raise BuildError(f"cannot write the output folder ({exc.strerror})", place) from None
        try:
            mode = _same_group(staging, target)
            yield staging
            os.chmod(staging, mode)
            stop_here("build-swap")
            swap_in(staging, target)
        except BaseException:
            remove_tree(staging)
            raise


def followed(link: Path) -> Path:
    try:
        return link.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a loop of links
        raise BuildError("is a link that leads back to itself: remove it, or point it at a folder", link) from None


def write_file(staging: Path, name: str, data: bytes, target: Path) -> None:
    """One file of the new folder, on disk before the swap (else a power cut after the rename could leave it
    empty); an error names where it was going, not the staging."""
    destination = staging / name
    try:
        if destination.parent != staging and not destination.parent.is_dir():
            destination.parent.mkdir(parents=True)
        with open(destination, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise BuildError(f"cannot write the output ({exc.strerror})", target / name) from None


def swap_in(staging: Path, target: Path) -> None:
    for folder in {p.parent for p in staging.rglob("*")}:
        fsync_dir(folder)
    try:
        if not os.path.lexists(target):
            os.rename(staging, target)
        elif exchange(staging, target):
            stop_here("build-swapped")
            _remove(staging)  # the old build, now under the staging name
        else:
            # No atomic exchange here (not Linux, or a file system without it): two renames, the old folder
            # first moved aside; a kill between them leaves no folder until the next build.
            old = staging.with_suffix(".old")
            os.rename(target, old)
            try:
                os.rename(staging, target)
            except OSError:
                os.rename(old, target)
                raise
            _remove(old)
        fsync_dir(target.parent)
    except OSError as exc:
        raise BuildError(f"cannot write the output ({exc.strerror})", target) from None


def _same_group(staging: Path, target: Path) -> int:
    """The new folder in the old one's group, set up before anything is written in it so its files take the
    group too (a site/ kept 2750 for a web server's group); returns the mode to give it once it is written.
    Where the group cannot be kept (not one this user is in), or there is no old folder, as a new folder is.
    A setgid bit the new folder took from the folder it is made in stays: its files take that group."""
    inherited = os.stat(staging).st_mode & stat.S_ISGID
    try:
        info = os.stat(target)
        if info.st_gid != os.stat(staging).st_gid:
            os.chown(staging, -1, info.st_gid)
    except OSError:
        return 0o755 | inherited
    mode = stat.S_IMODE(info.st_mode) | inherited
    os.chmod(staging, stat.S_IRWXU | (mode & stat.S_ISGID))  # written in by this run: its own until then
    return mode


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        remove_tree(path)
    else:
        path.unlink(missing_ok=True)


def clear_leftovers(out_dir: Path, slug: str, older_than: float = 0.0) -> None:
    """Folders of builds of `slug` that were killed before they finished (and, while this build holds its
    turn, no other build can be writing them; without the turn, `older_than` seconds old). Only names digest
    makes: `out_dir` may be the editor's own folder (the archive's site/ sits in the newsletter's), where a
    `.site.bak/` is theirs."""
    # mkdtemp's 8 random characters, then .new (or .old, the fallback swap's); .old.XXXXXXXX is the older writer's.
    remove_leftovers(out_dir, slug, rf"{TEMP_LETTERS}\.(?:new|old)|old\.{TEMP_LETTERS}", folders=True,
                     older_than=older_than)
