"""What the preview frame shows: the built email, its images served by the preview, in light or in dark.

Nothing here changes what `digest build` writes; these are views of the same HTML for the browser.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

ASSETS = "/assets/"
_STYLE_BLOCK = re.compile(r"(<style[^>]*>)(.*?)(</style\s*>)", re.DOTALL | re.IGNORECASE)
_SCHEME_FEATURE = re.compile(r"\(\s*prefers-color-scheme\s*:\s*(light|dark)\s*\)", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
# Media features that are always true and never true in a frame at least one pixel wide.
_ALWAYS, _NEVER = "(min-width: 0px)", "(max-width: 0px)"


def frame_html(email, scheme: str) -> str:
    """The email with its local images pointed at the preview, and its colour scheme fixed to `scheme`.

    A browser applies `@media (prefers-color-scheme: dark)` from the operating system's setting, which a
    page cannot change for a frame in every browser. So the email's own media queries are pinned: the
    chosen scheme's feature becomes always true, the other never. Its dark styles then apply exactly as a
    mail client in dark mode applies them; nothing is inverted or filtered.
    """
    out = email.html
    for image in email.images:
        # The file's mtime in the address: the browser may keep an image until the file changes.
        local = f"{ASSETS}{quote(image.path)}?v={_mtime(image.source)}"
        for url in {image.url, html.escape(image.url)}:  # as written in attributes, where & is &amp;
            out = re.sub(re.escape(url) + r"(?=[\"'\s)])", local, out)

    def pin(match: re.Match) -> str:
        css = _SCHEME_FEATURE.sub(lambda m: _ALWAYS if m.group(1).lower() == scheme else _NEVER, match.group(2))
        return match.group(1) + css + match.group(3)

    out = _STYLE_BLOCK.sub(pin, out)
    # Links open in a new tab rather than replacing the email inside the frame.
    extra = f'<base target="_blank"><style>:root {{ color-scheme: {scheme} !important; }}</style>'
    head_end = _HEAD_END.search(out)
    return out[: head_end.start()] + extra + out[head_end.start() :] if head_end else extra + out


def _mtime(path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
