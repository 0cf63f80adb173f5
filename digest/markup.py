"""Editor-written text: Markdown to safe HTML and to plain text, and the rule for which links are allowed.

Raw HTML is off, so whatever an editor types reaches the email as text. Links are checked here rather than
silently dropped: an editor who typed a `javascript:` link should hear about it, with the line.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from digest.model import Text

ALLOWED_SCHEMES = ("http", "https", "mailto")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def link_problem(url: str) -> str | None:
    """Why `url` may not be a link in an email, or None when it may."""
    if not url:
        return "the link is empty"
    if _CONTROL.search(url):
        return f"the link {url!r} contains spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url!r} is not a valid link"
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = url if len(url) <= 60 else url[:57] + "..."
        return f"the link {shown!r} must start with https://, http:// or mailto:"
    if scheme in ("http", "https") and not parts.hostname:
        return f"the link {url!r} has no web address after {scheme}://"
    if scheme == "mailto" and "@" not in parts.path:
        return f"the link {url!r} has no email address after mailto:"
    return None


# Reachable through YAML's and TOML's escapes ("\u0000"): characters no email may carry.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


PASTED_QUOTES = ("”", "’", "»")  # closing quotation marks an address is pasted with, which no address ends in
PASTED_STOPS = (".", ",", ";", "!", "?")  # the end of the sentence an address was copied from


# The opening alone: Python decodes "=?utf-8?q?a b?=" with a space, and "=?utf-8?q?=0D=0A…" without its end.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?")


def encoded_word_problem(value: str) -> str | None:
    """A header's text written as RFC 2047 encodes it (=?utf-8?q?…?=): Python's email package decodes it,
    line breaks and all, and writes them out raw, which adds headers (Bcc:) or a body of its own."""
    if _ENCODED_WORD.search(value):
        return "holds '=?…?=', the form mail headers are encoded in: type the words themselves"
    return None


def control_problem(text: str) -> str | None:
    if bad := _INVISIBLE.search(text):
        return f"contains an invisible control character (U+{ord(bad.group()):04X}): delete it"
    return None


class MarkdownLinkError(ValueError):
    def __init__(self, problem: str, line_offset: int):
        super().__init__(problem)
        self.problem, self.line_offset = problem, line_offset


def _parser(linkify: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False, "linkify": linkify})
    if linkify:
        md.enable("linkify")
    md.disable("image")  # logos have their own field; a stray image in prose would bypass its checks
    md.validateLink = lambda url: True  # we judge links ourselves, to report them instead of dropping them
    return md


_MD = _parser(linkify=False)
_BARE_ADDRESS = re.compile(r"://|www\.|@", re.IGNORECASE)


@functools.cache
def _linkifying() -> MarkdownIt:
    return _parser(linkify=True)


def _parse(source: str):
    # linkify: an address typed bare (https://…, www.…, name@example.org) is a link, and checked as one.
    # Its first use compiles a regular expression of every top-level domain (~20 ms): only text that could
    # hold an address pays for it.
    return (_linkifying() if _BARE_ADDRESS.search(source) else _MD).parse(source)


@functools.lru_cache(maxsize=4096)  # the preview rebuilds on every save; most paragraphs have not changed
def render(source: str) -> Text:
    """Render Markdown to a `Text`. Raises MarkdownLinkError for a link we refuse, with its line offset."""
    tokens = _parse(source)
    links: list[tuple[str, str, int]] = []
    for block in tokens:
        if not block.children:
            continue
        _unlink_bare_domains(block.children)
        line = (block.map or [0])[0]
        for i, tok in enumerate(block.children):
            if tok.type in ("softbreak", "hardbreak"):
                line += 1
            if tok.type != "link_open":
                continue
            href = tok.attrGet("href") or ""
            problem = link_problem(href)
            if problem:
                raise MarkdownLinkError(problem, line)
            links.append((_label_after(block.children, i), href, line))
    html = _MD.renderer.render(tokens, _MD.options, {})
    return Text(source=source, html=html.strip(), plain=_plain(tokens), links=tuple(links))


def _unlink_bare_domains(children) -> None:
    """linkify would link any word that looks like a domain ("ClinicalTrials.gov", "Node.js"); like GitHub,
    only an address with its scheme, or starting with www., or an email address, becomes a link."""
    for i, tok in enumerate(children):
        if tok.type == "link_open" and tok.markup == "linkify":
            text = children[i + 1].content if i + 1 < len(children) else ""
            if text.lower().startswith("www."):
                tok.attrSet("href", "https://" + text)  # linkify would say http://; sites are https now
            elif "://" not in text and "@" not in text:
                children[i].type = children[i + 2].type = "text"
                children[i].content = children[i + 2].content = ""


def _label_after(children, start: int) -> str:
    label = []
    for tok in children[start + 1 :]:
        if tok.type == "link_close":
            break
        label.append(tok.content)
    return "".join(label)


def _plain(tokens) -> str:
    """Plain text for the text part: paragraphs apart, list items marked, every link's full address shown."""
    blocks: list[tuple[str, bool]] = []  # (text, is a list item)
    prefix = []  # stack of list markers
    counters: list[int] = []
    for tok in tokens:
        if tok.type == "bullet_list_open":
            prefix.append("-")
        elif tok.type == "ordered_list_open":
            prefix.append("1.")
            counters.append(int(tok.attrGet("start") or 1) - 1)
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            if prefix.pop() == "1.":
                counters.pop()
        elif tok.type == "list_item_open" and prefix and prefix[-1] == "1.":
            counters[-1] += 1
        elif tok.type == "inline":
            text = _inline_plain(tok.children or ())
            if prefix:
                marker = f"{counters[-1]}." if prefix[-1] == "1." else "-"
                text = f"{'  ' * (len(prefix) - 1)}{marker} {text}"
            blocks.append((text, bool(prefix)))
        elif tok.type in ("code_block", "fence"):
            blocks.append((tok.content.rstrip("\n"), False))
        elif tok.type == "hr":
            blocks.append(("----", False))
    out = ""
    for i, (text, in_list) in enumerate(blocks):
        if i:
            out += "\n" if in_list and blocks[i - 1][1] else "\n\n"
        out += text
    return out


def _inline_plain(children) -> str:
    out: list[str] = []
    hrefs: list[str] = []
    for tok in children:
        if tok.type in ("text", "code_inline"):
            out.append(tok.content)
        elif tok.type == "softbreak":
            out.append(" ")
        elif tok.type == "hardbreak":
            out.append("\n")
        elif tok.type == "link_open":
            hrefs.append(tok.attrGet("href") or "")
            out.append("\x00")  # where the label starts, to compare it with the address
        elif tok.type == "link_close":
            href = hrefs.pop()
            start = len(out) - 1 - out[::-1].index("\x00")
            label = "".join(out[start + 1 :])
            shown = href[len("mailto:") :] if href.startswith("mailto:") else href
            out[start:] = [shown if label in (href, shown) or shown.endswith("://" + label) else f"{label} ({shown})"]
    return "".join(out)


def plain_text(source: str) -> str:
    """Markdown written elsewhere (a study record) as plain text; a link becomes `label (address)`, never a link."""
    return _plain(_parse(source))


_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>~])")
_BLOCK_MARKER = re.compile(r"^([#+=-])")
_ORDERED_MARKER = re.compile(r"^(\d{1,9})([.)])")
# What would make a bare address a link: "://", the "//" of a protocol-relative one, "@", and "www." (its dot).
_AUTOLINK = re.compile(r"(?<=:)/|:(?=/)|/(?=/)|@|(?<=www)\.", re.IGNORECASE)


def escape(text: str) -> str:
    """Markdown that renders as exactly `text`: every character that could start markup is backslash-escaped.

    Only what CommonMark could read as markup is escaped, so the issue file stays readable for the editor.
    """
    lines = []
    for line in text.split("\n"):
        line = _ENTITY.sub(r"\\&", _INLINE_MARKUP.sub(r"\\\1", line.strip()))
        line = _AUTOLINK.sub(lambda m: "\\" + m.group(0), line)  # an escape splits what linkify would read
        lines.append(_ORDERED_MARKER.sub(r"\1\\\2", _BLOCK_MARKER.sub(r"\\\1", line)))
    return "\n".join(lines)
