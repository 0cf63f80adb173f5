"""The offline checks of `digest check` (and of `digest build`): what would embarrass the newsletter once sent.

Each check is a function over the built `Email`, its `Issue` and the `Newsletter`, returning `Finding`s that
name the line of the issue file to fix where there is one, or the place in the built email where there is not.
Nothing here touches the network; `digest.links` checks the links over HTTP.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from digest.markup import link_problem
from digest.model import Issue, Newsletter
from digest.platforms import platform_tags

ERROR, WARNING, INFO = "error", "warning", "info"

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail hides everything past this behind "[Message clipped]", footer included
WARN_BYTES = 90 * 1024
SUBJECT_RANGE = (30, 60)  # shorter says too little; longer is cut off on phones
PREHEADER_RANGE = (40, 130)  # shorter lets the body's first words fill the preview; longer is never shown
TEXT_WIDTH = 78
HTML_PART, TEXT_PART = "email.html", "email.txt"  # the built parts, as `digest build` names them

# Link texts that say nothing out of context (screen readers list links by their text alone).
GENERIC_LINK_TEXT = {
    "click here", "click", "here", "this", "this link", "link", "read more", "more", "learn more",
    "go", "continue", "details", "more info", "info", "find out more",
}
# The entry's button: "Find out more" sits under the entry's own heading, so it is allowed there.
BUTTON_LABEL = "Find out more"
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{%|%\}|\bTODO\b|\bFIXME\b|\bXXX\b|lorem ipsum", re.IGNORECASE)
_CASE_SENSITIVE = {"todo", "fixme", "xxx"}  # "todo" as a word in prose is fine; TODO in capitals is a note
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"[\s\u00a0]+")


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str  # "error", "warning" or "info"
    message: str  # one line, for an editor
    file: str  # the issue file, digest.toml, or a built part (email.html, email.txt)
    line: int | None = None  # in `file`
    field: str | None = None  # the issue's field, e.g. "entries[2].link"

    def as_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity, "file": self.file, "line": self.line,
                "field": self.field, "message": self.message}


def check_email(email, newsletter: Newsletter, platform: str | None = None, source: str | None = None) -> list[Finding]:
    """Every offline check, in the order of the README's table. `platform` is the email's own unless given;
    `source` is the issue file's text (read if None)."""
    issue = email.issue
    platform = platform or email.platform
    if source is None:
        try:
            source = Path(issue.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            source = ""
    page = parse_html(email.html)
    where = Locator(issue, newsletter, source)
    findings: list[Finding] = []
    for check in (check_size, check_images, check_links, check_unsubscribe, check_address, check_subject,
                  check_text_part, check_placeholders, check_entries):
        findings += check(email=email, page=page, where=where, newsletter=newsletter, platform=platform)
    return findings


# --- Where a finding comes from ------------------------------------------------------------------------

class Locator:
    """Finds the line of the issue file (or digest.toml) that a URL or a piece of text comes from."""

    def __init__(self, issue: Issue, newsletter: Newsletter, source: str):
        self.issue, self.newsletter = issue, newsletter
        self.lines = source.splitlines()
        self.file = str(issue.path)
        self._config_lines: list[str] | None = None

    def newsletter_config(self) -> str:
        return str(self.newsletter.config_path or "digest.toml")

    def field_range(self, name: str) -> tuple[int, int]:
        start = self.issue.lines.get(name, 1)
        later = [line for line in self.issue.lines.values() if line > start]
        return start, min(later, default=len(self.lines) + 1)

    def entry_range(self, index: int) -> tuple[int, int]:
        entries = self.issue.entries
        end = entries[index + 1].line if index + 1 < len(entries) else self.field_range("entries")[1]
        return entries[index].line, end

    def entry_field_range(self, index: int, name: str) -> tuple[int, int]:
        """The lines of one field of an entry: from its key to the next key of the entry (or the entry's end)."""
        entry = self.issue.entries[index]
        start, end = self.entry_range(index)
        first = entry.lines.get(name, start)
        later = [line for line in entry.lines.values() if line > first]
        return first, min(later, default=end)

    def find(self, needle: str, start: int, end: int) -> int:
        """The first line in [start, end) holding `needle`, else `start`."""
        for number in range(start, min(end, len(self.lines) + 1)):
            if needle in self.lines[number - 1]:
                return number
        return start

    def url(self, url: str, kind: str = "link") -> tuple[str, int | None, str | None]:
        """(file, line, field) for a URL in the email, or the built part when no one typed it."""
        issue = self.issue
        for name in ("intro", "outro"):
            text = getattr(issue, name)
            if text is not None and any(href == url for _, href in text.links):
                return self.file, self.find(url, *self.field_range(name)), name
        for i, entry in enumerate(issue.entries):
            label = f"entries[{i + 1}]"
            if kind == "link" and entry.link == url:
                return self.file, self.find(url, *self.entry_range(i)), f"{label}.link"
            if kind == "link" and any(href == url for _, href in entry.summary.links):
                return self.file, self.find(url, *self.entry_range(i)), f"{label}.summary"
            if kind == "image" and entry.logo is not None and entry.logo.url == url:
                return self.file, self.find("logo:", *self.entry_range(i)), f"{label}.logo"
        config = self.newsletter_config()
        if url == self.newsletter.website:
            return config, self.config_line(url), "website"
        if self.newsletter.footer is not None and any(href == url for _, href in self.newsletter.footer.links):
            return config, self.config_line(url), "footer"
        if self.newsletter.logo is not None and url == self.newsletter.logo.url:
            return config, self.config_line("logo"), "logo"
        for i, link in enumerate(self.newsletter.social):
            if url in (link.url, link.icon.url):
                return config, self.config_line(link.url), f"social[{i}]"
        return HTML_PART, None, None

    def config_line(self, needle: str) -> int | None:
        """The first line of digest.toml holding `needle`: tomllib keeps no positions."""
        if self._config_lines is None:
            try:
                self._config_lines = Path(self.newsletter.config_path).read_text(encoding="utf-8").splitlines()
            except (OSError, TypeError, UnicodeDecodeError):
                self._config_lines = []
        return next((i for i, line in enumerate(self._config_lines, 1) if needle in line), None)


# --- The HTML, read once -----------------------------------------------------------------------------

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


def is_merge_tag(href: str, tags) -> bool:
    from digest.inline import MERGE_TAG

    return bool(MERGE_TAG.fullmatch(href)) or href in _tag_values(tags)


def _tag_values(tags) -> set[str]:
    return set(tags.values)


# --- The checks --------------------------------------------------------------------------------------

def check_size(*, email, **_) -> list[Finding]:
    size = len(email.html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        return [Finding("size-clipped", ERROR, f"the email is {size / 1024:.0f} KB: Gmail cuts off emails over 102 KB, "
                        "footer and unsubscribe link included; shorten the issue", HTML_PART)]
    if size > WARN_BYTES:
        return [Finding("size-large", WARNING, f"the email is {size / 1024:.0f} KB, close to the 102 KB at which "
                        "Gmail cuts it off; keep it shorter", HTML_PART)]
    return []


def check_images(*, email, page: Page, where: Locator, **_) -> list[Finding]:
    from digest.assets import LARGE_IMAGE_BYTES
    from digest.files import size_text

    findings = []
    for image in email.images:  # files to upload (1 MB at most: the reader refuses bigger ones)
        size = image.source.stat().st_size if image.source.exists() else 0
        if size > LARGE_IMAGE_BYTES:
            file, line, field = where.url(image.url, "image")
            findings.append(Finding("image-heavy", WARNING, f"the image {image.path} is {size_text(size)}: slow to "
                                    f"load on a phone; export it under {size_text(LARGE_IMAGE_BYTES)}", file, line, field))
    for img in page.images:
        src = img.attrs.get("src", "")
        file, line, field = where.url(src, "image")
        here = dict(file=file, line=line if file != HTML_PART else img.line, field=field)
        shown = _short(src)
        if "alt" not in img.attrs:
            findings.append(Finding("image-alt", ERROR, f"the image {shown} has no alt text: screen readers and "
                                    "emails with images off show nothing in its place", **here))
        scheme = urlsplit(src).scheme.lower()
        if scheme not in ("http", "https"):
            findings.append(Finding("image-url", ERROR, f"the image {shown} is not a full web address "
                                    "(https://…): the reader's email program cannot load it", **here))
        elif scheme == "http":
            findings.append(Finding("image-http", WARNING, f"the image {shown} uses http://: some email programs "
                                    "block it or warn; use https://", **here))
        if not img.attrs.get("width"):
            findings.append(Finding("image-width", WARNING, f"the image {shown} has no width: Outlook shows it "
                                    "at full size, breaking the layout", **here))
    return findings


def check_links(*, email, page: Page, where: Locator, newsletter: Newsletter, platform: str, **_) -> list[Finding]:
    tags = platform_tags(platform)
    buttons = {(e.link, BUTTON_LABEL) for e in email.issue.entries if e.link_label == BUTTON_LABEL}
    findings = []
    seen: Counter[str] = Counter()
    for link in page.links:
        if is_merge_tag(link.href, tags):
            continue  # the platform's own address, filled in when sent
        file, line, field = where.url(link.href)
        here = dict(file=file, line=line if file != HTML_PART else link.line, field=field)
        shown = _short(link.href)
        if problem := link_problem(link.href):
            findings.append(Finding("link-scheme", ERROR, problem, **here))
            continue
        if not link.text:
            findings.append(Finding("link-text-empty", ERROR, f"the link to {shown} has no text: screen readers "
                                    "read out the bare address", **here))
        elif link.text.lower().strip(" .:!…") in GENERIC_LINK_TEXT and (link.href, link.text) not in buttons:
            findings.append(Finding("link-text-generic", WARNING, f"the link text {link.text!r} says nothing on its "
                                    f"own: name where it goes (screen readers list links by their text)", **here))
        if urlsplit(link.href).scheme.lower() == "http":
            findings.append(Finding("link-http", WARNING, f"the link {shown} uses http://: use https:// where "
                                    "the site has it (browsers warn, and some spam filters mark it down)", **here))
        seen[link.href] += 1
    for href, count in seen.items():
        # The footer repeats the website by design; the same link in two entries is reported as entry-duplicate-link.
        if count > 1 and href != newsletter.website and not _twice_in_entries(href, email.issue):
            file, line, field = where.url(href)
            findings.append(Finding("link-duplicate", WARNING, f"the link {_short(href)} appears {count} times: "
                                    "readers click the first; link it once", file, line, field))
    return findings


def _twice_in_entries(href: str, issue: Issue) -> bool:
    return sum(e.link == href for e in issue.entries) > 1


def check_unsubscribe(*, email, platform: str, where: Locator, **_) -> list[Finding]:
    tags = platform_tags(platform)
    tag = tags.unsubscribe
    # Campaign Monitor's HTML wraps the link text in its own <unsubscribe> element instead of a URL.
    html_needles = ("<unsubscribe",) if tags.link_elements else (tag, html.escape(tag))
    missing = [part for part, body, needles in ((HTML_PART, email.html, html_needles), (TEXT_PART, email.text, (tag, html.escape(tag))))
               if not any(needle in body for needle in needles)]
    if missing:
        return [Finding("unsubscribe-missing", ERROR, f"no unsubscribe link ({tag}) in {' and '.join(missing)}: "
                        "the law and every mail platform require one; the theme must keep it", missing[0])]
    if platform == "generic":
        return [Finding("unsubscribe-placeholder", WARNING, f"the unsubscribe link is the placeholder {tag}: set "
                        "platform in digest.toml to your mail platform so it becomes a real link",
                        where.newsletter_config(), None, "platform")]
    return []


def check_address(*, email, page: Page, newsletter: Newsletter, where: Locator, platform: str, **_) -> list[Finding]:
    # Where the platform fills in the list's address, its tag stands for the address.
    tags = platform_tags(platform)
    address = normalise(newsletter.address)
    missing = [part for part, text, tag in ((HTML_PART, page.visible, tags.address), (TEXT_PART, normalise(email.text), tags.address_text))
               if address not in text and not (tag and tag in text)]
    if missing:
        return [Finding("address-missing", ERROR, f"the postal address ({address}) is not in "
                        f"{' and '.join(missing)}: the law (CAN-SPAM) requires it in every email",
                        missing[0])]
    return []


def check_subject(*, email, where: Locator, **_) -> list[Finding]:
    issue = email.issue
    findings = []
    for name, (low, high), why in (
        ("subject", SUBJECT_RANGE, "phones cut off a subject past 60 characters, and a short one says too little"),
        ("preheader", PREHEADER_RANGE, "inboxes show 40 to 130 characters of it next to the subject"),
    ):
        value = getattr(issue, name)
        if not low <= len(value) <= high:
            findings.append(Finding(f"{name}-length", WARNING, f"the {name} is {len(value)} characters; "
                                    f"aim for {low}–{high}: {why}", where.file, issue.lines.get(name), name))
    subject, preheader = _words(issue.subject), _words(issue.preheader)
    if subject and (preheader[: len(subject)] == subject or preheader == subject[: len(preheader)]):
        findings.append(Finding("preheader-repeats-subject", WARNING, "the preheader repeats the subject: "
                                "inboxes show both side by side, so say something new",
                                where.file, issue.lines.get("preheader"), "preheader"))
    return findings


def check_text_part(*, email, page: Page, **_) -> list[Finding]:
    findings = []
    for number, line in enumerate(email.text.splitlines(), 1):
        if len(line) > TEXT_WIDTH and not _overflow_is_an_address(line):
            findings.append(Finding("text-line-length", WARNING, f"this line of the text part is {len(line)} "
                                    f"characters: some email programs break lines past {TEXT_WIDTH}", TEXT_PART, number))
    # Every word a reader sees in the HTML must be in the text part (alt texts and the hidden preheader aside;
    # merge tags too: the platform fills in each part's own, such as an address in HTML or in text).
    from digest.inline import MERGE_TAG

    text_words = set(_words(MERGE_TAG.sub(" ", email.text)))
    missing = [w for w in dict.fromkeys(_words(MERGE_TAG.sub(" ", page.visible))) if w not in text_words]
    if missing:
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        findings.append(Finding("text-missing", WARNING, f"the text part lacks {len(missing)} word(s) that the HTML "
                                f"shows: {shown}; the theme's email.txt.j2 leaves something out", TEXT_PART))
    return findings


def _overflow_is_an_address(line: str) -> bool:
    # Web addresses are never broken, so a line may run long when what runs past the margin is one address.
    head, _, last = line.rstrip().rpartition(" ")
    return bool(re.match(r"(https?://|mailto:)\S+$", last)) and len(head) < TEXT_WIDTH


def check_placeholders(*, email, where: Locator, platform: str, **_) -> list[Finding]:
    issue = email.issue
    allowed = _tag_values(platform_tags(platform))
    texts: list[tuple[str, str, tuple[int, int]]] = [
        ("subject", issue.subject, where.field_range("subject")),
        ("preheader", issue.preheader, where.field_range("preheader")),
        ("intro", issue.intro.source, where.field_range("intro")),
    ]
    if issue.outro is not None:
        texts.append(("outro", issue.outro.source, where.field_range("outro")))
    for i, entry in enumerate(issue.entries):
        for name in ("institution", "title", "link", "link_label", "status", "phase"):
            texts.append((f"entries[{i + 1}].{name}", getattr(entry, name) or "", where.entry_field_range(i, name)))
        texts.append((f"entries[{i + 1}].summary", entry.summary.source, where.entry_field_range(i, "summary")))
        texts += [(f"entries[{i + 1}].conditions", c, where.entry_field_range(i, "conditions")) for c in entry.conditions]
    findings = []
    for field, text, span in texts:
        for tag in allowed:
            text = text.replace(tag, "")
        for match in PLACEHOLDER.finditer(text):
            found = match.group(0)
            if found.lower() in _CASE_SENSITIVE and found != found.upper():
                continue
            findings.append(Finding("placeholder", ERROR, f"{found!r} left in the text: finish or remove it "
                                    "before sending", where.file, where.find(found, *span), field))
            break
    return findings


def check_entries(*, email, where: Locator, **_) -> list[Finding]:
    issue = email.issue
    if not issue.entries:
        return [Finding("no-entries", ERROR, "the issue has no entries: add at least one under 'entries:'",
                        where.file, issue.lines.get("entries"), "entries")]
    findings = []
    for key, what in (("title", "title"), ("link", "link")):
        first: dict[str, int] = {}
        for i, entry in enumerate(issue.entries):
            value = getattr(entry, key)
            norm = normalise(value).lower() if key == "title" else value
            if norm in first:
                findings.append(Finding(f"entry-duplicate-{key}", WARNING, f"same {what} as entry {first[norm] + 1} "
                                        f"(line {issue.entries[first[norm]].line}): is it the same news twice?",
                                        where.file, where.find(value, *where.entry_range(i)), f"entries[{i + 1}].{key}"))
            else:
                first[norm] = i
    return findings


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _short(url: str) -> str:
    return url if len(url) <= 70 else url[:67] + "..."
