"""Put text on the system clipboard with pyperclip, which drives each system's own tool (pbcopy, clip,
wl-copy, xclip or xsel). Where there is none (a server, CI), say so and what to do instead."""

from __future__ import annotations

import contextlib
import os
import sys
import time

from digest.exceptions import DigestError


class ClipboardError(DigestError):
    """This machine has no clipboard digest can reach."""


def copy_text(text: str) -> None:
    import pyperclip

    # Look again each time: pyperclip otherwise keeps its first answer for the life of the process.
    copy, paste = pyperclip.determine_clipboard()
    try:
        with _children_detached():
            copy(text)
        # pyperclip does not check xclip's exit status (e.g. DISPLAY set, no X server): read it back.
        # xclip takes the clipboard from a background process a moment after it returns: allow it a second.
        for _ in range(20):
            taken = paste() == text
            if taken:
                break
            time.sleep(0.05)
    except pyperclip.PyperclipException:
        raise ClipboardError("no clipboard here (no desktop session, or none of xclip, xsel, wl-copy installed)") from None
    if not taken:
        raise ClipboardError("the clipboard did not take the text (is the desktop session still running?)")


@contextlib.contextmanager
def _children_detached():
    """xclip and xsel stay in the background to serve the clipboard, holding the output they inherit: give
    them /dev/null, or `digest build --copy html 2>&1 | less` would not end until the clipboard changes."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
