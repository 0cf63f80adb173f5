"""Files on disk, read and written the way every part of digest needs them: errors an editor can act on,
reads that cannot hang or fill the memory, and writes that leave the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from digest.exceptions import DigestError

MAX_INPUT_BYTES = 1024 * 1024  # an issue with 300 entries is ~200 KB: anything past 1 MB is not an issue
LOCK_SECONDS = 30.0  # how long a digest command waits for another one writing in the same folder
STOP_AT_ENV = "DIGEST_STOP_AT"


def read_bytes(path: Path, error: type[DigestError] = DigestError, missing: str = "no such file",
               limit: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes, if it is a regular file of at most `limit` bytes; checked before a byte is read, so a
    pipe, a device such as /dev/zero or a 50 MB file is one line, not a hang or a MemoryError."""
    try:
        # O_NONBLOCK: opening a FIFO that nobody writes to would otherwise wait for ever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error(missing, path) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", path) from None
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror})", path) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error("is a folder, not a file", path)
        if not stat.S_ISREG(info.st_mode):
            raise error("is not a regular file (a pipe or a device?)", path)
        if info.st_size > limit:
            raise error(f"is {size_text(info.st_size, limit)}: digest reads files of at most {size_text(limit)}", path)
        data = read_up_to(fd, limit + 1)  # it may have grown since fstat
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror})", path) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"is more than {size_text(limit)}: digest reads files of at most {size_text(limit)}", path)
    return data


def issue_files(folder: Path) -> list[Path]:
    """The issue files of a newsletter's issues/ folder, by name; not hidden ones: editors keep their backups
    and locks beside the file as .name.yaml…"""
    return sorted(p for p in (*folder.glob("*.yaml"), *folder.glob("*.yml")) if p.is_file() and not p.name.startswith("."))


def read_up_to(fd: int, size: int) -> bytes:
    chunks = []
    while size > 0 and (chunk := os.read(fd, min(size, 1 << 20))):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_text(path: Path, error: type[DigestError] = DigestError, missing: str = "no such file") -> str:
    """The file as UTF-8 text (a byte-order mark, which some editors write, is dropped)."""
    return decode(read_bytes(path, error, missing), path, error).removeprefix("\ufeff")


def decode(data: bytes, path: Path, error: type[DigestError] = DigestError) -> str:
    if is_utf16(data):
        raise error("is UTF-16 text: save it as UTF-8 in your editor", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error("is not UTF-8 text: save it as UTF-8 in your editor", path, line) from None


def is_utf16(data: bytes) -> bool:
    """UTF-16, as Windows editors save "Unicode": its byte-order mark (no UTF-8 text starts with one), or every
    other byte zero, as in the ASCII of an issue's field names."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    evens, odds = data[:200:2], data[1:200:2]
    return len(odds) >= 2 and ((all(evens) and not any(odds)) or (all(odds) and not any(evens)))


def size_text(size: int, limit: int | None = None) -> str:
    """`size` in KB or MB; to the byte where it would read the same as the `limit` it is held against
    ("is 1 MB: … at most 1 MB" says nothing)."""
    if size >= 1024 * 1024:
        text = f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"
    else:
        text = f"{size / 1024:.0f} KB"
    return f"{size:,} bytes" if limit is not None and size != limit and text == size_text(limit) else text


def new_mode(base: int = 0o666) -> int:
    """What open() gives a new file (0o666) or mkdir a new folder (0o777): `base` less the umask, where
    mkstemp's files are 0o600 and mkdtemp's folders 0o700 whatever the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


# What tempfile puts in the middle of a name; one letter at least, so an editor's dated copy
# (.site.20240115.old) is never taken for one.
TEMP_LETTERS = "(?=[a-z0-9_]*[a-z_])[a-z0-9_]{8}"


def remove_leftovers(folder: Path, name: str, ending: str, *, folders: bool, older_than: float = 0.0) -> None:
    """What a killed run of digest left beside `name` in `folder`: hidden `.NAME.ENDING` entries (`ending` a
    regular expression), only folders or only regular files, last changed `older_than` seconds ago or more
    (a younger one may be another run's, still being written). Only names digest makes: `folder` is often
    the editor's own."""
    import glob
    import re

    ours = re.compile(rf"\.{re.escape(name)}\.(?:{ending})")
    kind = stat.S_ISDIR if folders else stat.S_ISREG
    for path in folder.glob(f".{glob.escape(name)}.*"):
        try:
            info = path.lstat()  # a link is never one of ours, nor followed
            if ours.fullmatch(path.name) and kind(info.st_mode) and (not older_than or info.st_mtime < time.time() - older_than):
                remove_tree(path) if folders else path.unlink()
        except OSError:
            pass  # gone meanwhile, or not ours to remove


def remove_tree(path: Path) -> None:
    """A folder digest made and no longer needs, whole: a read-only folder of the editor's carried into it
    (a site's .well-known/ of mode 555) is made writable to empty it, where rmtree would leave it there.
    Only folders inside `path`, and `path` itself, are touched: never the folder that holds it."""
    import shutil

    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):  # itself first: a top folder it cannot list yields nothing
            os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) | stat.S_IRWXU)
    except OSError:
        pass
    for folder, subfolders, _ in os.walk(path):  # from the top: each made readable before it is listed
        for name in subfolders:
            try:
                target = os.path.join(folder, name)
                if not os.path.islink(target):
                    os.chmod(target, stat.S_IMODE(os.lstat(target).st_mode) | stat.S_IRWXU)
            except OSError:
                pass  # gone meanwhile (another run removing it too), or not ours to change
    shutil.rmtree(path, ignore_errors=True)


def write_atomically(path: Path, data: bytes, error: type[DigestError] = DigestError) -> None:
    """Replace (or create) `path` in one step, keeping the permissions of the file it replaces."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else new_mode()
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = _staged(path, data)
    except OSError as exc:
        raise error(f"cannot be written ({exc.strerror})", path) from None
    try:
        os.chmod(staging, mode)
        os.replace(staging, path)
    except OSError as exc:
        Path(staging).unlink(missing_ok=True)
        raise error(f"cannot be written ({exc.strerror})", path) from None


def replace_if_unchanged(path: Path, old: bytes, new: bytes, error: type[DigestError] = DigestError) -> bool:
    """Compare-and-swap for an editor's own file: replace it with `new` only while it still holds `old`.

    False, with nothing written, when the file changed since `old` was read (the editor saved it). A symlink
    is written through: its target gets the new text and the link stays. Mode and owner are kept."""
    real = Path(os.path.realpath(path))
    if len(new) > MAX_INPUT_BYTES:  # else digest would write an issue it then refuses to read
        raise error(f"would grow to {len(new):,} bytes, past the {size_text(MAX_INPUT_BYTES)} digest reads: "
                    "nothing was written; start a new issue for the rest", path)
    try:
        info = real.stat()
        # The rename would replace it all the same: an editor's "keep as it is" must stand (root's too).
        if not os.access(real, os.W_OK) or not info.st_mode & 0o222:
            raise error("is read-only: nothing was written (make it writable first, if digest may change it)", path)
        staging = _staged(real, new)
    except OSError as exc:
        raise error(f"cannot be written ({exc.strerror})", path) from None
    try:
        os.chmod(staging, stat.S_IMODE(info.st_mode))
        mine = os.stat(staging)
        if (mine.st_uid, mine.st_gid) != (info.st_uid, info.st_gid):
            try:
                os.chown(staging, info.st_uid, info.st_gid)
            except PermissionError:
                raise error(f"belongs to another user (uid {info.st_uid}): digest cannot replace it and keep its "
                            "owner; nothing was written", path) from None
        stop_here("edit-swap")
        if _current(real) != old:
            return False
        stop_here("edit-compared")
        # A save landing between that look and the swap must not be lost: the swap is an exchange, and what it
        # took out is compared again; a save is swapped back in. What that brings out is this text, unless a
        # second save landed on it meanwhile: the editor's latest, put back in its turn (the first save, older,
        # is the one dropped). Editors take no lock: a third save within those microseconds remains. Where
        # the system has no exchange, a plain rename.
        if not exchange(Path(staging), real):
            os.replace(staging, real)
            staging = None
        else:
            stop_here("edit-exchanged")
            if _current(Path(staging)) != old:
                exchange(Path(staging), real)
                if _current(Path(staging)) != new:
                    exchange(Path(staging), real)
                return False
        fsync_dir(real.parent)
        return True
    except OSError as exc:
        raise error(f"cannot be written ({exc.strerror})", path) from None
    finally:
        if staging is not None:
            Path(staging).unlink(missing_ok=True)


def _current(path: Path) -> bytes | None:
    try:
        return read_bytes(path)
    except DigestError:  # gone, or no longer a file digest may read: changed, as far as the swap goes
        return None


def _staged(path: Path, data: bytes) -> str:
    """A hidden file next to `path` holding `data`, on disk (fsynced) before it is renamed into place. The
    ones a killed run left beside it, an hour old or more, are removed first."""
    remove_leftovers(path.parent, path.name, rf"{TEMP_LETTERS}\.digest", folders=False, older_than=3600)
    # ".digest" at the end: a name no editor's own hidden copy (".issue.yaml.original") has, to remove safely.
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".digest", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(staging)
        raise
    return staging


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the system can open a folder: not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_renameat2 = None


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE): True when done, False where the
    system or the file system cannot, and OSError for anything else (such as `b` missing)."""
    global _renameat2
    if _renameat2 is None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None  # None: the libc already loaded
        _renameat2 = getattr(libc, "renameat2", False)
    if not _renameat2:
        return False
    at_cwd = -100  # AT_FDCWD
    if _renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def stop_here(point: str) -> None:
    """Where a fault test wants this process frozen (DIGEST_STOP_AT=point, or points with commas) to kill it
    or race it right there."""
    if point in os.environ.get(STOP_AT_ENV, "").split(","):
        import signal  # ~3 ms to import: only a fault test gets here

        os.kill(os.getpid(), signal.SIGSTOP)


def create(path: Path, text: str | bytes, error: type[DigestError] = DigestError,
           exists: str = "already exists: choose another title or date") -> None:
    """Create `path` with `text` (or bytes), whole or not at all, and never over a file that exists."""
    path = Path(path)
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        os.fsencode(path)
    except UnicodeEncodeError:
        raise error("contains characters that are not text (a name typed in another encoding?)", path) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = _staged(path, data)
        try:
            os.chmod(staging, new_mode())
            os.link(staging, path)  # fails if `path` exists, where a rename would replace it
        finally:
            os.unlink(staging)
    except FileExistsError:
        raise error(exists, path) from None
    except OSError as exc:
        raise error(f"cannot be written ({exc.strerror})", path) from None


def expand_folders(paths: list[Path], error: type[DigestError] = DigestError) -> list[Path]:
    """Each path as given, but a folder becomes the issue files in it (a folder with none is an error). A file
    named twice (a folder and a file in it, say) is there once."""
    issues = []
    for path in map(Path, paths):
        if path.is_dir():
            found = issue_files(path)
            if not found:
                raise error("is a folder with no issue files (*.yaml) in it", path)
            issues += found
        else:
            issues.append(path)
    once: dict[str, Path] = {}
    for path in issues:
        once.setdefault(os.path.realpath(path), path)
    return list(once.values())


@contextmanager
def taking_turns(folder: Path, error: type[DigestError] = DigestError, who: str = "another digest command"):
    """Hold `folder` while changing files in it: a second digest writing there waits for its turn (builds into
    one output folder, trials added to one issue). Editors take no lock: for them, compare-and-swap."""
    try:
        import fcntl
    except ImportError:  # Windows: no locks; each swap is still whole
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder that can be written but not read (mode 0333): no turn to take; each swap is whole
        yield
        return
    try:
        give_up = time.monotonic() + LOCK_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    break  # a file system without locks (some network ones): each swap is still whole
                if time.monotonic() > give_up:
                    raise error(f"{who} has been writing here for {LOCK_SECONDS:g} seconds; nothing was written", folder) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock
