"""Put text on the system clipboard with pyperclip, which drives each system's own tool (pbcopy, clip,
wl-copy, xclip or xsel). Where there is none (a server, CI), say so and what to do instead."""

from __future__ import annotations

from digest.exceptions import DigestError


class ClipboardError(DigestError):
    """This machine has no clipboard digest can reach."""


def copy_text(text: str) -> None:
    import pyperclip

    # Look again each time: pyperclip otherwise keeps its first answer for the life of the process.
    copy, paste = pyperclip.determine_clipboard()
    try:
        copy(text)
        # pyperclip does not check xclip's exit status (e.g. DISPLAY set, no X server): read it back.
        taken = paste() == text
    except pyperclip.PyperclipException:
        raise ClipboardError(
            "no clipboard here (no desktop session, or none of xclip, xsel, wl-copy installed): "
            "the files are written; open email.html, or use --stdout html"
        ) from None
    if not taken:
        raise ClipboardError("the clipboard did not take the text (is the desktop session still running?): "
                             "the files are written; open email.html, or use --stdout html")
