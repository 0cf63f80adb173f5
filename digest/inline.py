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
    """Import premailer with its network code left out, and cssutils' validation off.

    With the network off premailer never calls `requests`, nor cssutils its URL fetcher (which would fetch
    a theme's `@import url(http://…)`): stand-ins that refuse take their place, and save ~100 ms of imports.
    """
    global _premailer
    if _premailer is None:
        # cssutils imports urllib.request (http.client, email, ssl: ~30 ms) for what it seldom uses: it gets
        # a stand-in that imports the real module the first time something of it is asked for.
        # Its Google App Engine fetcher (tried first, for nothing here) imports the email package: skipped.
        stand_ins = {"requests": _NoNetwork("requests"), "cssutils._fetch": _NoNetwork("cssutils._fetch"),
                     "urllib.request": _OnFirstUse("urllib.request"), "cssutils._fetchgae": None}
        stand_ins["cssutils._fetch"]._defaultFetcher = _refuse_fetch
        added = [name for name in stand_ins if name not in sys.modules]
        sys.modules.update({name: stand_ins[name] for name in added})
        if "urllib.request" in added:
            import urllib

            urllib.request = stand_ins["urllib.request"]
        try:
            import premailer
        finally:
            for name in added:
                if name != "cssutils._fetch":  # cssutils keeps its stand-in fetcher
                    del sys.modules[name]
        # cssutils validates every inline style it parses, whatever premailer asks (its declarations
        # start out validating), and validation compiles ~140 regular expressions on first use: ~100 ms
        # a run, for warnings we silence anyway. Without profiles there is nothing to validate against.
        import cssutils

        cssutils.profile.removeProfile(all=True)
        premailer.Inliner = _inliner_class(premailer.Premailer)
        logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
        _premailer = premailer
    return _premailer


def _inliner_class(base):
    class Inliner(base):
        """premailer, minus one repeated cost: it turns the same theme CSS into the same rules on every run
        (~2 ms of a 10 ms rebuild). The rules depend only on the CSS and on options that digest never varies."""

        _rules: dict = {}

        def _parse_style_rules(self, css_body, ruleset_index):
            key = (css_body, ruleset_index)
            if key not in self._rules:
                if len(self._rules) > 64:
                    self._rules.clear()
                self._rules[key] = super()._parse_style_rules(css_body, ruleset_index)
            rules, leftover = self._rules[key]
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
    inliner = premailer.Inliner(
        body,
        allow_network=False,
        base_url=None,
        css_text=css,
        keep_style_tags=False,  # the <style> tags marked "ignore" are kept whole; this drops only `css` from <head>
        strip_important=False,
        remove_classes=False,
        disable_basic_attributes=["align", "valign", "bgcolor", "width", "height"],
        disable_validation=True,
        align_floating_images=False,  # it would add align="…" attributes, and parse every image's style to do it
        cssutils_logging_level=logging.CRITICAL,
        preserve_handlebar_syntax=False,  # we protect every platform's tags ourselves, not only {{ }}
    )
    out = inliner.transform(pretty_print=False)
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
