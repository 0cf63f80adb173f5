"""What digest keeps between runs, all of it made again when missing: the folder, and the compiled regular
expressions that the command line keeps there.

A cold `digest build` compiles ~220 regular expressions as its libraries import (YAML's, Markdown's, Jinja's,
click's, premailer's, ours): a tenth of the run, the same work every time. What the compiler makes of a pattern
depends only on the pattern, its flags and the Python running it, so the command line keeps it, keyed by all
three, and hands it to `_sre` (the compiler's own last step) the next time. A pattern not seen before is
compiled as usual and added to the file when the process ends. Only this module knows of it: the library
never installs it, as a program that imports digest owns its own `re`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LIMIT = 4000  # patterns in the file: past this it starts afresh, so it cannot grow without end
MAX_FILE_BYTES = 16 * 1024 * 1024


def cache_folder(name: str) -> Path:
    """Where digest keeps `name` (fetched records, compiled templates, parsed CSS, compiled patterns):
    $DIGEST_CACHE_DIR/name, else the user's cache folder."""
    root = os.environ.get("DIGEST_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "digest"
    )
    return Path(root) / name


def keep_compiled_regexes() -> None:
    """From now on in this process, a pattern compiled in an earlier run is not compiled again."""
    import re
    import threading
    from re import _compiler

    if isinstance(_compiler._sre, _Recorder):
        return
    import _sre

    path = cache_folder("regex") / f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{_sre.MAGIC}.marshal"
    table = _load(path)
    added: dict = {}
    original = _compiler.compile
    recorder = _compiler._sre = _Recorder(_sre, threading.local())

    def compile(pattern, flags=0):
        if type(pattern) not in (str, bytes) or flags & re.DEBUG:
            return original(pattern, flags)
        key = (pattern, int(flags))
        made = table.get(key)
        if made is not None:
            try:
                return _sre.compile(pattern, *made)
            except Exception:  # not what this Python makes (a damaged file): _sre checks the code it is given
                del table[key]
        compiled = original(pattern, flags)
        _, flags_made, code, *rest = recorder.made.args
        table[key] = added[key] = (int(flags_made), [int(op) for op in code], *rest)
        return compiled

    _compiler.compile = compile

    def save():
        if not added:
            return
        import marshal

        kept = table if len(table) <= LIMIT else added
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(f".{path.name}.{os.getpid()}")
            staging.write_bytes(marshal.dumps(kept))
            os.replace(staging, path)  # one step: a run reading it sees the old file or this one
        except (OSError, ValueError):
            pass  # a read-only home: every run compiles, as Python always does

    import atexit

    atexit.register(save)


def _load(path: Path) -> dict:
    import marshal

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return {}
        table = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    return table if isinstance(table, dict) else {}


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
