"""Files on disk, read and written the way every part of digest needs them: errors an editor can act on,
and writes that leave the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from digest.exceptions import DigestError


def read_bytes(path: Path, error: type[DigestError] = DigestError, missing: str = "no such file") -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(missing, path) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", path) from None
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror})", path) from None


def read_text(path: Path, error: type[DigestError] = DigestError, missing: str = "no such file") -> str:
    """The file as UTF-8 text (a byte-order mark, which some editors write, is dropped)."""
    return decode(read_bytes(path, error, missing), path, error).removeprefix("\ufeff")


def decode(data: bytes, path: Path, error: type[DigestError] = DigestError) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error("is not UTF-8 text: save it as UTF-8 in your editor", path, line) from None


def _new_file_mode() -> int:
    # What open() would give a new file: 0o666 less the umask (mkstemp's files are 0o600 whatever the umask).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: Path, data: bytes, error: type[DigestError] = DigestError) -> None:
    """Replace (or create) `path` in one step, keeping the permissions of the file it replaces."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else _new_file_mode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise error(f"cannot be written ({exc.strerror})", path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, mode)
        os.replace(staging, path)
    except OSError as exc:
        Path(staging).unlink(missing_ok=True)
        raise error(f"cannot be written ({exc.strerror})", path) from None


def create(path: Path, text: str | bytes, error: type[DigestError] = DigestError) -> None:
    """Create `path` with `text` (or bytes), whole or not at all, and never over a file that exists."""
    path = Path(path)
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        os.fsencode(path)
    except UnicodeEncodeError:
        raise error("contains characters that are not text (a name typed in another encoding?)", path) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(staging, _new_file_mode())
            os.link(staging, path)  # fails if `path` exists, where a rename would replace it
        finally:
            os.unlink(staging)
    except FileExistsError:
        raise error("already exists: choose another title or date", path) from None
    except OSError as exc:
        raise error(f"cannot be written ({exc.strerror})", path) from None
