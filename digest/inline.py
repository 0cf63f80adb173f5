"""CSS inlining with premailer, kept honest: it may add inline styles and nothing else.

premailer's defaults would rewrite MJML's image widths to 100 %, strip `!important` (which the mobile
media queries need), drop a lower-case doctype, URL-encode merge tags such as `{{ unsubscribe_url }}` in
links, fetch remote CSS and print cssutils warnings. Each setting below turns one of those off; the tests
in tests/test_inline.py check each on real output.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import threading
import types

# Merge tags of the mail platforms: they must reach the platform exactly as typed, in text and in links.
MERGE_TAG = re.compile(
    r"\*\|[^|<>]{1,100}\|\*"  # Mailchimp: *|UNSUB|*, *|FNAME|*
    r"|\{\{\{?[^{}]{1,200}\}?\}\}"  # Brevo, Buttondown, Listmonk, SendGrid: {{ unsubscribe_url }}, {{{unsubscribe}}}
    r"|\{%[^{}]{1,200}%\}"  # Liquid / Jinja-style blocks
    r"|\{\$[^{}]{1,100}\}"  # MailerLite: {$unsubscribe}
    r"|\[(?:unsubscribe|webversion|firstname|lastname|fullname|email|preferences)\b[^\]<>]{0,100}\]"  # Campaign Monitor
    r"|</?(?:unsubscribe|webversion|forwardtoafriend)>"  # Campaign Monitor's link elements, which lxml would not know
    r"|<%[^%<>]{1,100}%>"  # SendGrid: <%asm_group_unsubscribe_raw_url%>
    r"|&lt;%[^%]{1,100}%&gt;"  # the same, once escaped by the template
)
# premailer would copy these CSS properties into HTML attributes over MRML's own (an image's width="600"
# would become "100%"): it sets no other attribute.
_BASIC_ATTRIBUTES = ("align", "valign", "bgcolor", "width", "height")
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>\s*", re.IGNORECASE)

_premailer = None
_LOCK = threading.RLock()  # a program building from several threads: one import, and no thread sees half of it


def _load_premailer():
    """Import premailer with its network code left out, and cssutils and cssselect imported only for CSS
    the memo below has not seen: on a theme built before, never.

    With the network off premailer never calls `requests`: a stand-in that refuses takes its place. Once
    loaded, premailer parses through the memo for every caller in the process.
    """
    global _premailer
    with _LOCK:
        if _premailer is None:
            _premailer = _imported_premailer()
    return _premailer


def _imported_premailer():
    stand_ins = {"requests": _NoNetwork("requests"), "cssutils": _Deferred("cssutils"),
                 "lxml.cssselect": _CalledLater("lxml.cssselect")}
    added = [name for name in stand_ins if name not in sys.modules]
    sys.modules.update({name: stand_ins[name] for name in added})
    try:
        import premailer
        import premailer.merge_style
    finally:
        for name in added:
            del sys.modules[name]
    # premailer calls csstext_to_pairs from two modules: both get the memo's.
    premailer.premailer.csstext_to_pairs = premailer.merge_style.csstext_to_pairs = _memo.pairs_of(
        premailer.merge_style.csstext_to_pairs)
    premailer.premailer._create_cssselector = _memo.selector
    premailer.premailer.merge_styles = _merged(premailer.merge_style.merge_styles)
    premailer.Inliner = _inliner_class(premailer.Premailer)
    if "cssutils" not in added:  # imported before digest, and perhaps set up otherwise: not kept on disk
        _memo.persist = False
        _import_cssutils()
    return premailer


def _import_cssutils():
    """cssutils, without what it would import for nothing here, and with its validation off."""
    with _LOCK:
        if "cssutils" in sys.modules:  # imported before digest: only configured
            return _configured(sys.modules["cssutils"])
        # cssutils imports urllib.request (http.client, email, ssl: ~30 ms) for what it seldom uses: it gets
        # a stand-in that imports the real module the first time something of it is asked for. Its fetcher
        # refuses (it would fetch a theme's `@import url(http://…)`); its Google App Engine fetcher (tried
        # first, for nothing here) imports the email package: skipped.
        stand_ins = {"cssutils._fetch": _NoNetwork("cssutils._fetch"), "urllib.request": _OnFirstUse("urllib.request"),
                     "cssutils._fetchgae": None}
        stand_ins["cssutils._fetch"]._defaultFetcher = _refuse_fetch
        added = [name for name in stand_ins if name not in sys.modules]
        sys.modules.update({name: stand_ins[name] for name in added})
        if "urllib.request" in added:
            import urllib

            urllib.request = stand_ins["urllib.request"]
        try:
            import cssutils
        finally:
            for name in added:
                if name != "cssutils._fetch":  # cssutils keeps its stand-in fetcher
                    del sys.modules[name]
        return _configured(cssutils)


def _configured(cssutils):
    # cssutils validates every inline style it parses, whatever premailer asks (its declarations start out
    # validating), and validation compiles ~140 regular expressions on first use: ~100 ms a run, for
    # warnings digest silences anyway. Without profiles there is nothing to validate against.
    cssutils.profile.removeProfile(all=True)
    cssutils.log.setLevel(logging.CRITICAL)
    return cssutils


class _Memo:
    """What cssutils and cssselect made of CSS, kept between runs in the cache folder: the theme's rules to
    inline, the declarations of each style attribute MRML writes, and the XPath of each selector. Importing
    them and their first parses are a quarter of a cold build; a theme's CSS and MRML's styles hardly change
    from one build to the next.

    Only plain data is kept, checked field by field when read back; a ruleset that leaves rules for a <style>
    tag is not kept (those are cssutils objects), nor a style holding a merge tag's placeholder (new each
    run). The file is named after the versions of everything that makes what it holds, and FORMAT, to be
    raised when digest changes how it calls premailer.
    """

    FORMAT = 1
    LIMIT = 5000  # entries: past this the memo starts afresh, so it cannot grow without end

    def __init__(self):
        self.rules: dict = {}
        self.pairs: dict = {}
        self.xpaths: dict = {}
        self.loaded = False
        self.changed = False
        self.persist = True

    @functools.cached_property
    def path(self):
        """The memo's file (None: no cache folder), worked out once: it looks up two packages' files."""
        from importlib.util import find_spec

        from lxml import etree

        from digest.caches import cache_folder

        folder = cache_folder("css")
        if folder is None:
            return None
        stamps = []
        for name in ("cssutils", "cssselect"):  # without importing them: their files' size and time
            spec = find_spec(name)
            stat = os.stat(spec.origin) if spec and spec.origin else None
            stamps.append(f"{stat.st_size}.{stat.st_mtime_ns}" if stat else "none")
        lxml = ".".join(map(str, etree.LXML_VERSION))
        return folder / f"memo{self.FORMAT}-premailer{_premailer.__version__}-lxml{lxml}-{'-'.join(stamps)}.json"

    def load(self):
        with _LOCK:
            if self.loaded or not self.persist:
                return
            self.loaded = True
            import json

            from digest.caches import read_kept

            try:
                saved = json.loads(read_kept(self.path) or b"null")
                rules, pairs, xpaths = _checked(saved)
            except (ValueError, TypeError, KeyError):
                return  # none yet, or damaged: made again as it goes
            self.rules.update(rules)
            self.pairs.update(pairs)
            self.xpaths.update(xpaths)

    def save(self):
        with _LOCK:
            if not self.changed or not self.persist:
                return
            self.changed = False
            import json

            from digest.caches import keep

            keep(self.path, json.dumps({
                "rules": [[index, css, found] for (index, css), (found, _) in self.rules.items()],
                "pairs": list(self.pairs.items()), "xpaths": list(self.xpaths.items())}, separators=(",", ":")).encode())

    def remember(self, table: dict, key, value):
        with _LOCK:
            if len(self.rules) + len(self.pairs) + len(self.xpaths) >= self.LIMIT:
                self.rules.clear()
                self.pairs.clear()
                self.xpaths.clear()
            table[key] = value
            self.changed = True

    def selector(self, css: str):
        """premailer's CSS selector, as the XPath that lxml.cssselect makes of it."""
        path = self.xpaths.get(css)
        if path is None:
            from lxml.cssselect import CSSSelector  # the real one, with cssselect under it

            path = CSSSelector(css).path
            self.remember(self.xpaths, css, path)
        return _xpath(path)

    def pairs_of(self, parse):
        # Keyed by the text alone: with cssutils' profiles removed, validating changes nothing it returns.
        def csstext_to_pairs(csstext, validate=True):
            found = self.pairs.get(csstext)
            if found is None:
                found = [tuple(pair) for pair in parse(csstext, validate=validate)]
                if "digest-merge-tag-" not in csstext:
                    self.remember(self.pairs, csstext, found)
            return found

        csstext_to_pairs._lock = parse._lock  # premailer's own takes its lock through the module's name, now this
        return csstext_to_pairs


def _checked(saved) -> tuple[dict, dict, dict]:
    """The memo's tables from its file, every field of the type premailer gave it (TypeError if not)."""

    def text(value):
        if type(value) is not str:
            raise TypeError(value)
        return value

    def pair(value):
        name, declared = value
        return text(name), text(declared)

    def rule(value):
        specificity, selector, bulk = value
        if not all(type(number) is int for number in specificity):
            raise TypeError(specificity)
        return tuple(specificity), text(selector), text(bulk)

    rules = {}
    for index, css, found in saved["rules"]:
        if type(index) is not int:
            raise TypeError(index)
        rules[(index, text(css))] = ([rule(each) for each in found], [])
    pairs = {text(style): [pair(each) for each in found] for style, found in saved["pairs"]}
    xpaths = {text(css): text(path) for css, path in saved["xpaths"]}
    return rules, pairs, xpaths


_memo = _Memo()


def _inliner_class(base):
    class Inliner(base):
        """premailer, minus one repeated cost: it turns the same theme CSS into the same rules on every run.
        The rules depend only on the CSS and on options that digest never varies."""

        def _parse_style_rules(self, css_body, ruleset_index):
            key = (ruleset_index, css_body)
            found = _memo.rules.get(key)
            if found is None:
                found = super()._parse_style_rules(css_body, ruleset_index)
                if found[1]:  # rules left for a <style> tag, as cssutils objects: parsed again each time
                    return found
                _memo.remember(_memo.rules, key, found)
            rules, leftover = found
            return list(rules), list(leftover)

        def _style_to_basic_html_attributes(self, element, style_content, force=False):
            if not set(_BASIC_ATTRIBUTES) <= set(self.disable_basic_attributes):
                super()._style_to_basic_html_attributes(element, style_content, force)
            # else: each attribute it could set is one digest turns off; it would parse every style for nothing

    return Inliner


def _merged(merge_styles):
    """premailer's merge_styles, remembered: MRML writes a few styles over and over, and the same rules match
    them, so a long issue merges the same few combinations thousands of times."""

    @functools.lru_cache(maxsize=4096)
    def merged(inline_style, new_styles, classes, remove_unset_properties):
        return merge_styles(inline_style, new_styles, classes, remove_unset_properties)

    def merge(inline_style, new_styles, classes, remove_unset_properties=False):
        return merged(inline_style, tuple(map(tuple, new_styles)), tuple(classes), remove_unset_properties)

    return merge


class _NoNetwork(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):  # the import system probing the module, not premailer using it
            raise AttributeError(name)
        raise RuntimeError(f"digest never fetches remote CSS ({self.__name__}.{name} was asked for)")


class _OnFirstUse(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        import importlib

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


class _Deferred(types.ModuleType):
    """cssutils as premailer's modules hold it: the real one is imported when something of it is first used,
    and takes the stand-in's place in premailer."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        real = _import_cssutils()
        for module in (_premailer.premailer, _premailer.merge_style):
            if module.cssutils is self:
                module.cssutils = real
        return getattr(real, name)


class _CalledLater(types.ModuleType):
    """lxml.cssselect as premailer imports it (`from lxml.cssselect import CSSSelector`, a name taken at its
    import): each name is a function that imports the real module when called."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def called(*args, **kwargs):
            import lxml.cssselect

            return getattr(lxml.cssselect, name)(*args, **kwargs)

        return called


@functools.lru_cache(maxsize=256)
def _xpath(path: str):
    from lxml import etree

    if "__lxml_internal_css:" in path:  # :contains(), whose function lxml.cssselect registers
        import lxml.cssselect
    return etree.XPath(faster_xpath(path))


def faster_xpath(path: str) -> str:
    """cssselect's XPath with each step `*[class test]` asked through the class attributes instead: the same
    elements, in the same order, at a third of the time. libxml2 evaluates a step's predicate on every
    element of the page, and a class test is three calls; through `@class` it looks at the few hundred
    elements that have a class. A class selector (.kicker) was ~1.7 ms of a 100-entry email each."""
    if '"' in path:  # a string literal, which might hold text that looks like a step: left as it is
        return path
    return _CLASS_STEP.sub(r"*/@class[contains(., '\1') and contains(concat(' ', normalize-space(.), ' '), ' \1 ')]/..", path)


# A step whose node test is * and whose one predicate is cssselect's test of one class, followed by the
# next step or the end (a step with a position or another test is left as it is).
_CLASS_STEP = re.compile(r"(?:(?<=::)|(?<=/)|^)\*\[@class and contains\(@class, '([^']*)'\) and "
                         r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' \1 '\)\](?=/|$)")


def _refuse_fetch(url):
    return None  # to cssutils: "could not fetch"; the @import stays in the CSS for the client to judge


def inline_css(html: str, css: str) -> str:
    """Inline `css` (the theme's `mj-style inline="inline"`) into `html`; every <style> already there stays as is."""
    return inline_with_page(html, css)[0]


def inline_with_page(html: str, css: str):
    """`inline_css`, and the `digest.page.Page` of its result, read from the tree premailer worked on rather
    than from a second parse of the HTML (a parse is a tenth of a long issue's build)."""
    premailer = _load_premailer()
    doctype_match = _DOCTYPE.match(html)
    doctype = doctype_match.group(0).strip() if doctype_match else "<!doctype html>"
    body = html[doctype_match.end() :] if doctype_match else html

    tags: list[str] = []
    in_tag: list[bool] = []  # whether each stands inside a start tag (an attribute) rather than in text
    # A fresh nonce each run: a placeholder typed into an issue can never be taken for one of ours.
    nonce = os.urandom(8).hex()

    def protect(match: re.Match) -> str:
        tags.append(match.group(0))
        text, start = match.string, match.start()
        in_tag.append(text.rfind("<", 0, start) > text.rfind(">", 0, start))
        return f"digest-merge-tag-{nonce}-{len(tags) - 1}-"

    body = MERGE_TAG.sub(protect, body)
    from lxml import etree

    # Parsed here rather than by premailer: from UTF-8 bytes lxml parses a third faster than from a str, and
    # premailer, given a tree, leaves serialising it to us (once, straight to a str).
    root = etree.fromstring(body.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
    # MRML's own <style> blocks (resets, media queries, dark mode) are for the client to apply, not to inline.
    styles = list(root.iter("style"))
    for style in styles:
        style.set("data-premailer", "ignore")
    inliner = premailer.Inliner(
        root,
        allow_network=False,
        base_url=None,
        css_text=css,
        keep_style_tags=False,  # the <style> tags marked "ignore" are kept whole; this drops only `css` from <head>
        strip_important=False,
        remove_classes=False,
        disable_basic_attributes=list(_BASIC_ATTRIBUTES),
        disable_validation=True,
        align_floating_images=False,  # it would add align="…" attributes, and parse every image's style to do it
        preserve_handlebar_syntax=False,  # we protect every platform's tags ourselves, not only {{ }}
    )
    _memo.load()
    inliner.transform()
    _memo.save()
    for style in styles:  # premailer leaves the mark on those it skips for their media attribute
        style.attrib.pop("data-premailer", None)
    out = etree.tostring(root, method="html", encoding="unicode")
    quoted = {index for index, (tag, inside) in enumerate(zip(tags, in_tag)) if inside and "'" in tag}
    if quoted:
        out = _double_quoted(out, nonce, quoted)
    out = _filled(out, nonce, tags)
    html = f"{doctype}\n{_collapse_style_whitespace(out)}"
    return html, _page(root, body, html, [_as_parsed(tag, inside) for tag, inside in zip(tags, in_tag)], nonce)


def _double_quoted(out: str, nonce: str, indices: set[int]) -> str:
    """Each attribute holding the placeholder of one of `indices` (tags with a ' in them, such as Brevo's
    `default:'there'`), quoted with " rather than the ' lxml chose for a value holding ": else the tag, put
    back, would end the attribute. Its " are written &quot;, which reads the same."""
    pieces, done = [], 0
    for placeholder in _PLACEHOLDER.finditer(out):
        if placeholder.group(1) != nonce or int(placeholder.group(2)) not in indices or placeholder.start() < done:
            continue
        # lxml writes < and > in an attribute as &lt; and &gt;: the last < is the start of this tag.
        for attribute in _ATTRIBUTE.finditer(out, out.rfind("<", 0, placeholder.start())):
            if attribute.start(1) > placeholder.start():
                break
            value = attribute.group(1)
            if value[0] == "'" and placeholder.end() < attribute.end(1):
                pieces += [out[done:attribute.start(1)], '"', value[1:-1].replace('"', "&quot;"), '"']
                done = attribute.end(1)
                break
    return "".join(pieces) + out[done:]


_ATTRIBUTE = re.compile(r"""\s[^\s=>]+=("[^"]*"|'[^']*')""")


def _page(root, parsed: str, html: str, read: list[str | None], nonce: str):
    """The page of the sent `html`, read from the tree lxml made of `parsed` where that is sure to give the
    same, else from a parse of `html`. `read`: what a parser of `html` reads where each merge tag stands.
    Not sure:
    - a merge tag whose reading is not sure (see _as_parsed);
    - an address lxml writes otherwise than it holds it (in href, src, action and <a name> it escapes
      spaces and non-ASCII, and some versions more);
    - an element whose text a parser keeps raw and lxml writes escaped (iframe, xmp …: only a theme's);
    - a body that gained or lost a line break, or a <body that is not the only one (in a comment, say).
    The tree's lines are `parsed`'s: in the body, the sent HTML's shifted by what precedes <body>."""
    from digest.page import page_of, parse_html

    body = root.find("body")
    if None in read or body is None or parsed.count("<body") != 1 or html.count("<body") != 1 \
            or parsed.count("\n", parsed.find("<body")) != html.count("\n", html.find("<body")) \
            or next(root.iter(*_RAW_TEXT), None) is not None \
            or not all(_URI_AS_IS.fullmatch(value) for value in root.xpath("//@href|//@src|//@action|//a/@name")):
        return parse_html(html)

    offset = html.count("\n", 0, html.find("<body")) + 1 - body.sourceline
    return page_of(root, lambda text: _filled(text, nonce, read), offset)


def _filled(text: str, nonce: str, values: list) -> str:
    """`text` with each of this run's placeholders replaced by its value (a merge tag, or how it reads)."""
    return _PLACEHOLDER.sub(lambda m: values[int(m.group(2))] if m.group(1) == nonce else m.group(0), text)


def _as_parsed(tag: str, in_attribute: bool) -> str | None:
    """What a parser of the sent HTML reads where a merge tag stands; None where that is not sure: a tag
    holding markup, an entity or a line break anywhere, and in an attribute one holding a quote (lxml
    may have quoted the value with it) or one of Campaign Monitor's elements. Campaign Monitor's
    <unsubscribe> in text is an element, with no text of its own; SendGrid's &lt;%…%&gt;, escaped by a
    template, reads as <%…%>."""
    if _ELEMENT_TAG.fullmatch(tag):
        return None if in_attribute else ""
    escaped = _ESCAPED_TAG.fullmatch(tag)
    if escaped:
        return f"<{escaped.group(1)}>"
    unsure = "&<>\r\n\"'" if in_attribute else "&<>\r\n"
    return tag if _RAW_TAG.fullmatch(tag) or not any(c in tag for c in unsure) else None


_RAW_TEXT = ("iframe", "noembed", "noframes", "xmp", "plaintext")
_ELEMENT_TAG = re.compile(r"</?(?:unsubscribe|webversion|forwardtoafriend)>")
_ESCAPED_TAG = re.compile(r"&lt;(%[^%&<>\"'\r\n]{1,100}%)&gt;")
_RAW_TAG = re.compile(r"<%[^%&<>\"'\r\n]{1,100}%>")
# What lxml writes as it is in a URI attribute, in every version: RFC 3986's unreserved and reserved
# characters (the newest escapes only spaces, control characters and non-ASCII; older ones `$`, `[`, `]` too).
_URI_AS_IS = re.compile(r"[A-Za-z0-9\-_.!~*'()@/:=?;#%&,+]*")
_PLACEHOLDER = re.compile(r"digest-merge-tag-([0-9a-f]{16})-(\d+)-")


@functools.lru_cache(maxsize=64)  # the theme's <style> blocks are the same from one rebuild to the next
def _collapsed(css: str) -> str:
    return re.sub(r"\s*([{};,])\s*", r"\1", re.sub(r"\s+", " ", css)).strip()


_COMMENT = re.compile(r"(<!--.*?-->)", re.DOTALL)
_STYLE_BLOCK = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL | re.IGNORECASE)


def _collapse_style_whitespace(html: str) -> str:
    """Drop the indentation inside <style> blocks (every byte counts against Gmail's clipping).

    Outlook's conditional comments are left exactly as MRML wrote them.
    """

    def collapse(match: re.Match) -> str:
        return match.group(1) + _collapsed(match.group(2)) + match.group(3)

    end = html.find("</head>")  # MRML writes every <style> into <head>: the body is left as it is
    end = len(html) if end < 0 else end
    parts = _COMMENT.split(html[:end])
    return "".join(part if part.startswith("<!--") else _STYLE_BLOCK.sub(collapse, part) for part in parts) + html[end:]
