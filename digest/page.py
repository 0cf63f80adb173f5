"""The built email's HTML, parsed once per build: the checks, the link checker and the preview's list of
links all read this one `Page`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_SPACE = re.compile(r"[\s\u00a0]+")


@dataclass
class Link:
    href: str
    text: str  # what a screen reader says: the text, or the alt of an image inside
    line: int  # in the HTML


@dataclass
class Img:
    attrs: dict
    line: int


@dataclass
class Page:
    links: list[Link]
    images: list[Img]
    visible: str  # the text a reader sees, without alt texts and the hidden preheader


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_INVISIBLE = {"head", "title", "style", "script", "template"}
_BLOCK = {"br", "p", "div", "td", "th", "tr", "table", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
          "blockquote", "pre", "hr", "section", "header", "footer", "body"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.images: list[Img] = []
        self.text: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)
        self.link: Link | None = None

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        line = self.getpos()[0]
        if tag == "img":
            self.images.append(Img(attrs, line))
            if self.link is not None:
                self.link.text += " " + attrs.get("alt", "")
        elif tag == "a" and "href" in attrs:
            self.link = Link(attrs["href"], attrs.get("aria-label", ""), line)
            self.links.append(self.link)
        if tag in _BLOCK:
            self.text.append(" ")
        if tag not in _VOID:
            style = attrs.get("style", "").replace(" ", "").lower()
            hidden = self.hidden or tag in _INVISIBLE or "display:none" in style
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag == "a":
            self.link = None
        # Close up to the matching tag; a stray end tag is ignored, as browsers do.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag in _BLOCK:
            self.text.append(" ")  # words either side of a block are apart; inside a word, <b>x</b>y stays one

    def handle_data(self, data):
        if self.hidden:
            return
        self.text.append(data)
        if self.link is not None:
            self.link.text += data


def parse_html(markup: str) -> Page:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    for link in reader.links:
        link.text = normalise(link.text)
    return Page(reader.links, reader.images, normalise("".join(reader.text)))


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
