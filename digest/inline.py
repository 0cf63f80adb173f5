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
_STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>\s*", re.IGNORECASE)

_premailer = None


def _load_premailer():
    """Import premailer with its network code left out, and cssutils imported only when something is not in
    the memo of what it made (below): on a theme built before, never.

    With the network off premailer never calls `requests`: a stand-in that refuses takes its place.
    """
    global _premailer
    if _premailer is None:
        stand_ins = {"requests": _NoNetwork("requests"), "cssutils": _Deferred("cssutils"),
                     "lxml.cssselect": _NoSelectors("lxml.cssselect")}
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
        premailer.Inliner = _inliner_class(premailer.Premailer)
        _premailer = premailer
        if "cssutils" not in added:  # premailer holds the real one, imported before digest
            _import_cssutils()
    return _premailer


def _import_cssutils():
    """cssutils, without what it would import for nothing here, and with its validation off."""
    if "cssutils" in sys.modules:  # imported before digest: only configured
        return _configured(sys.modules["cssutils"])
    # cssutils imports urllib.request (http.client, email, ssl: ~30 ms) for what it seldom uses: it gets
    # a stand-in that imports the real module the first time something of it is asked for. Its fetcher
    # refuses (it would fetch a theme's `@import url(http://…)`); its Google App Engine fetcher (tried first,
    # for nothing here) imports the email package: skipped.
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
    """What cssutils made of CSS, kept between runs in the cache folder: the theme's rules to inline, and
    the declarations of each style attribute MRML writes. Importing cssutils and its first parses are a
    quarter of a cold build; a theme's CSS and MRML's styles hardly change from one build to the next.

    Only plain data is kept (selectors, specificities, property names and values); a ruleset that leaves
    rules for a <style> tag is not kept, as those are cssutils objects. The file is keyed by the versions of
    premailer and cssutils, so an upgrade starts it afresh.
    """

    LIMIT = 5000  # entries: past this the memo starts afresh, so it cannot grow without end

    def __init__(self):
        self.rules: dict = {}
        self.pairs: dict = {}
        self.xpaths: dict = {}
        self.loaded = False
        self.changed = False

    def path(self):
        from importlib.util import find_spec

        from digest.caches import cache_folder

        spec = find_spec("cssutils")
        stamp = os.stat(spec.origin) if spec and spec.origin else None
        version = f"{_premailer.__version__}-{stamp.st_size}-{stamp.st_mtime_ns}" if stamp else _premailer.__version__
        return cache_folder("css") / f"premailer-{version}.json"

    def load(self):
        if self.loaded:
            return
        self.loaded = True
        import json

        try:
            saved = json.loads(self.path().read_bytes())
            rules = {(index, css): ([tuple(map(_tuples, rule)) for rule in found], [])
                     for index, css, found in saved["rules"]}
            pairs = {style: [tuple(pair) for pair in found] for style, found in saved["pairs"]}
            xpaths = dict(saved["xpaths"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # none yet, or not one this version wrote: made again as it goes
        self.rules.update(rules)
        self.pairs.update(pairs)
        self.xpaths.update(xpaths)

    def save(self):
        if not self.changed:
            return
        self.changed = False
        import json

        data = json.dumps({"rules": [[index, css, found] for (index, css), (found, _) in self.rules.items()],
                           "pairs": list(self.pairs.items()), "xpaths": list(self.xpaths.items())}, separators=(",", ":")).encode()
        path = self.path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(f".{path.name}.{os.getpid()}")
            staging.write_bytes(data)
            os.replace(staging, path)
        except OSError:
            pass  # a read-only home: the next run parses again

    def remember(self, table: dict, key, value):
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
                self.remember(self.pairs, csstext, found)
            return found

        csstext_to_pairs._lock = parse._lock  # premailer's own takes its lock through the module's name, now this
        return csstext_to_pairs


@functools.lru_cache(maxsize=256)
def _xpath(path: str):
    from lxml import etree

    if "__lxml_internal_css:" in path:  # :contains(), whose function lxml.cssselect registers
        import lxml.cssselect
    return etree.XPath(path)


def _tuples(value):
    return tuple(value) if isinstance(value, list) else value


_memo = _Memo()


def _inliner_class(base):
    class Inliner(base):
        """premailer, minus one repeated cost: it turns the same theme CSS into the same rules on every run.
        The rules depend only on the CSS and on options that digest never varies."""

        def _parse_style_rules(self, css_body, ruleset_index):
            key = (ruleset_index, css_body)
            if key not in _memo.rules:
                rules, leftover = super()._parse_style_rules(css_body, ruleset_index)
                if leftover:  # cssutils objects, for a <style> tag: parsed again each time
                    return rules, leftover
                _memo.remember(_memo.rules, key, (rules, leftover))
            rules, leftover = _memo.rules[key]
            return list(rules), list(leftover)

    return Inliner


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


class _NoSelectors(types.ModuleType):
    """lxml.cssselect as premailer imports it: premailer's one use of it is the memo's `selector`, which
    imports the real one (and cssselect, ~10 ms) only for a selector it has not seen."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _refuse


def _refuse(*args, **kwargs):
    raise RuntimeError("premailer's CSS selectors are made by digest.inline._memo.selector")


class _Deferred(types.ModuleType):
    """cssutils as premailer's modules hold it: the real one is imported when first asked for."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        real = _import_cssutils()
        for module in (_premailer.premailer, _premailer.merge_style):
            if module.cssutils is self:
                module.cssutils = real
        return getattr(real, name)


def _refuse_fetch(url):
    return None  # to cssutils: "could not fetch"; the @import stays in the CSS for the client to judge


def inline_css(html: str, css: str) -> str:
    """Inline `css` (the theme's `mj-style inline="inline"`) into `html`; every <style> already there stays as is."""
    premailer = _load_premailer()
    doctype_match = _DOCTYPE.match(html)
    doctype = doctype_match.group(0).strip() if doctype_match else "<!doctype html>"
    body = html[doctype_match.end() :] if doctype_match else html

    tags: list[str] = []
    # A fresh nonce each run: a placeholder typed into an issue can never be taken for one of ours.
    nonce = os.urandom(8).hex()

    def protect(match: re.Match) -> str:
        tags.append(match.group(0))
        return f"digest-merge-tag-{nonce}-{len(tags) - 1}-"

    body = MERGE_TAG.sub(protect, body)
    # MRML's own <style> blocks (resets, media queries, dark mode) are for the client to apply, not to inline.
    body = _STYLE_TAG.sub(r'\g<0> data-premailer="ignore"', body)
    from lxml import etree

    # Parsed here rather than by premailer: from UTF-8 bytes lxml parses a third faster than from a str, and
    # premailer, given a tree, leaves serialising it to us (once, straight to a str).
    root = etree.fromstring(body.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
    inliner = premailer.Inliner(
        root,
        allow_network=False,
        base_url=None,
        css_text=css,
        keep_style_tags=False,  # the <style> tags marked "ignore" are kept whole; this drops only `css` from <head>
        strip_important=False,
        remove_classes=False,
        disable_basic_attributes=["align", "valign", "bgcolor", "width", "height"],
        disable_validation=True,
        align_floating_images=False,  # it would add align="…" attributes, and parse every image's style to do it
        preserve_handlebar_syntax=False,  # we protect every platform's tags ourselves, not only {{ }}
    )
    _memo.load()
    inliner.transform()
    _memo.save()
    out = etree.tostring(root, method="html", encoding="unicode")
    # premailer leaves the mark on tags it skips for their media attribute, and on those inside Outlook comments.
    out = out.replace(' data-premailer="ignore"', "")
    out = _PLACEHOLDER.sub(lambda m: tags[int(m.group(2))] if m.group(1) == nonce else m.group(0), out)
    return f"{doctype}\n{_collapse_style_whitespace(out)}"


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
