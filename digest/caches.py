"""What digest keeps between runs, all of it made again when missing: the folder, the sealed files it
keeps there, and what the command line keeps of its own start: compiled regular expressions, and the
compiled methods of dataclasses (see keep_dataclass_code).

A cold `digest build` compiles ~220 regular expressions as its libraries import (YAML's, Markdown's, Jinja's,
click's, premailer's, ours): a fifth of the run's instructions, the same work every time. What the compiler makes of a pattern
depends only on the pattern, its flags and the Python running it, so the command line keeps it, keyed by all
three, and hands it to `_sre` (the compiler's own last step) the next time. A pattern not seen before is
compiled as usual and added to the file when the process ends. Only the command line installs it: a program
that imports digest owns its own `re`. One difference shows: a warning re's parser gives about a pattern
(such as FutureWarning "Possible nested set") is given by the run that compiles it, not by later ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LIMIT = 4000  # patterns kept: past this the file keeps only the last run's, so it cannot grow without end
RUNS = 50  # a pattern no run has used in this many writes of the file is let go
MAX_FILE_BYTES = 16 * 1024 * 1024
_SEAL = b"digest-cache-1\n"  # then the payload's length and CRC-32, then the payload


def cache_folder(name: str) -> Path | None:
    """Where digest keeps `name` (fetched records, compiled templates, parsed CSS, compiled patterns):
    $DIGEST_CACHE_DIR/name, else the user's cache folder; None where there is no home to keep it in."""
    root = os.environ.get("DIGEST_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):  # no HOME and no user entry: "~" is not expanded, and "./~" is no place
            return None
        root = os.path.join(base, "digest")
    return Path(root) / name


def read_kept(path: Path | None) -> bytes | None:
    """What `keep` wrote to `path`, or None when it is missing, too big, or not whole: a file damaged on disk
    or written by something else is never handed on (marshal, for one, trusts the lengths it reads)."""
    import zlib

    try:
        if path is None or path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_SEAL) + 12
    if not data.startswith(_SEAL) or len(data) < head:
        return None
    length, crc = int.from_bytes(data[len(_SEAL):head - 4], "big"), int.from_bytes(data[head - 4:head], "big")
    payload = data[head:]
    return payload if len(payload) == length and zlib.crc32(payload) == crc else None


def keep(path: Path | None, payload: bytes) -> None:
    """Write `payload` to `path` in one step (a run reading it sees the old file or this one); where the
    folder cannot be written, nothing: the next run makes it again."""
    import zlib

    from digest.exceptions import DigestError
    from digest.files import write_atomically

    if path is None or len(payload) > MAX_FILE_BYTES - 64:
        return
    try:
        write_atomically(path, _SEAL + len(payload).to_bytes(8, "big") + zlib.crc32(payload).to_bytes(4, "big") + payload)
    except DigestError:
        pass


def keep_compiled_regexes() -> None:
    """From now on in this process, a pattern compiled in an earlier run is not compiled again."""
    import re
    import threading
    from re import _compiler

    if getattr(_compiler.compile, "kept_by_digest", False):
        return
    import _sre

    folder = cache_folder("regex")
    if folder is None:
        return
    kept = _Kept(folder / f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{_sre.MAGIC}.marshal", "patterns")
    original = _compiler.compile
    recorder = _compiler._sre = _Recorder(_sre, threading.local())

    def compile(pattern, flags=0):
        if type(pattern) not in (str, bytes) or flags & re.DEBUG:
            return original(pattern, flags)
        key = (type(pattern) is bytes, pattern, int(flags))  # "a" and b"a" hash alike: the type keeps them apart
        made = kept.table.get(key)
        if made is not None:
            try:
                compiled = _sre.compile(pattern, *made)
                kept.used.add(key)
                return compiled
            except Exception:  # not what this Python makes: compiled below instead
                kept.table.pop(key, None)
        recorder.made.args = None
        compiled = original(pattern, flags)
        args = recorder.made.args
        if args is not None and args[0] is pattern:
            _, flags_made, code, *rest = args
            kept.add(key, (int(flags_made), [int(op) for op in code], *rest))
        return compiled

    compile.kept_by_digest = True
    _compiler.compile = compile


def keep_dataclass_code() -> None:
    """From now on in this process, the methods `dataclasses` writes for a class are compiled once across runs.

    `@dataclass` writes each class's __init__, __repr__, __eq__ … as source and compiles it as the module
    imports: ~0.7 ms a class, some 25 classes a build (the model's, markdown-it's), the same every time. The
    compiled code is kept by its source, as Python keeps a module's in its .pyc, and by the Python running it.
    """
    import builtins
    import dataclasses
    from types import CodeType

    if getattr(getattr(dataclasses, "exec", None), "kept_by_digest", False):
        return
    folder = cache_folder("code")
    if folder is None:
        return
    from importlib.util import MAGIC_NUMBER  # what a .pyc is keyed by: the bytecode's format

    kept = _Kept(folder / f"dataclasses-{sys.implementation.cache_tag}-{sys.hexversion:x}-{MAGIC_NUMBER.hex()}.marshal",
                 "code")

    def exec(source, globals=None, locals=None):  # noqa: A001 - dataclasses' name for it
        if type(source) is str:
            code = kept.table.get(source)
            if type(code) is not CodeType:  # not kept yet (or, from a file not of ours, not code)
                # dont_inherit: compiled as dataclasses would, without this module's `from __future__` imports
                code = compile(source, "<string>", "exec", dont_inherit=True)
                kept.add(source, code)
            kept.used.add(source)
            source = code
        return builtins.exec(source, globals, locals)

    exec.kept_by_digest = True
    dataclasses.exec = exec  # a global of the module: found before the builtin


class _Kept:
    """One file of compiled forms by key (`table`), read when made, written when the process ends if the
    run compiled something new. `used`: the keys this run used."""

    def __init__(self, path: Path, name: str):
        import atexit
        import marshal

        self.path, self.name = path, name
        self.used: set = set()
        self.added: set = set()
        try:
            saved = marshal.loads(read_kept(path))
            self.generation = int(saved["generation"])
            self.table = {key: made for key, (_, made) in saved[name].items()}
            self.last_used = {key: last for key, (last, _) in saved[name].items()}  # the generation each was
        except Exception:  # none yet, or sealed by another format: made again
            self.generation, self.table, self.last_used = 0, {}, {}
        atexit.register(self.save)

    def add(self, key, made) -> None:
        """`made`, compiled in this run for `key`: kept, unless this run has added LIMIT already."""
        self.used.add(key)
        if len(self.added) < LIMIT:
            self.table[key] = made
            self.added.add(key)

    def save(self) -> None:
        # Only a run that compiled something writes. Some keys are new every run (markdown-it joins a set of
        # characters into a pattern, in the order of that run's string hashes): what no run has used for RUNS
        # writes is let go, so they never pile up.
        if not self.added:
            return
        import marshal

        now = self.generation + 1
        # Copies first: a daemon thread may still be compiling while the process exits.
        current, seen, last_used = dict(self.table), set(self.used), self.last_used
        kept = {key: (now if key in seen else last_used.get(key, now), made)  # get: added as the copies were made
                for key, made in current.items() if key in seen or last_used.get(key, -1) > now - RUNS}
        if len(kept) > LIMIT:
            kept = {key: (now, current[key]) for key in seen if key in current}
        keep(self.path, marshal.dumps({"generation": now, self.name: kept}))


class _Recorder:
    """`_sre` as re's compiler sees it: the same module, noting what its `compile` was given (per thread)."""

    def __init__(self, sre, made):
        self._sre = sre
        self.made = made

    def __getattr__(self, name):
        return getattr(self._sre, name)

    def compile(self, *args):
        self.made.args = args
        return self._sre.compile(*args)
