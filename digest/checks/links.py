"""The addresses in the email, judged offline: links a reader can follow, images a mail program can load."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from digest.checks.base import of_url, short
from digest.inline import MERGE_TAG
from digest.markup import link_problem
from digest.model import ERROR, WARNING, Finding, Result
from digest.platforms import platform_tags

# Link texts that say nothing out of context (screen readers list links by their text alone).
GENERIC_LINK_TEXT = {
    "click here", "click", "here", "this", "this link", "link", "read more", "more", "learn more",
    "go", "continue", "details", "more info", "info", "find out more",
}
# The entry's button: "Find out more" sits under the entry's own heading, so it is allowed there.
BUTTON_LABEL = "Find out more"


def is_merge_tag(href: str, tags) -> bool:
    return bool(MERGE_TAG.fullmatch(href)) or href in tags.values


def check_images(result: Result) -> list[Finding]:
    from digest.assets import LARGE_IMAGE_BYTES
    from digest.files import size_text

    findings = []
    for image in result.images:  # files to upload (1 MB at most: the reader refuses bigger ones)
        size = image.source.stat().st_size if image.source.exists() else 0
        if size > LARGE_IMAGE_BYTES:
            findings.append(Finding("image-heavy", WARNING, f"the image {image.path} is {size_text(size)}: slow to "
                                    f"load on a phone; export it under {size_text(LARGE_IMAGE_BYTES)}",
                                    **of_url(result, image.url)))
    for img in result.page.images:
        src = img.attrs.get("src", "")
        here = of_url(result, src, img.line)
        shown = short(src)
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


def check_links(result: Result) -> list[Finding]:
    tags = platform_tags(result.platform)
    issue = result.issue
    buttons = {(e.link, BUTTON_LABEL) for e in issue.entries if e.link_label == BUTTON_LABEL}
    findings = []
    seen: Counter[str] = Counter()
    for link in result.page.links:
        if is_merge_tag(link.href, tags):
            continue  # the platform's own address, filled in when sent
        here = of_url(result, link.href, link.line)
        shown = short(link.href)
        if problem := link_problem(link.href):
            findings.append(Finding("link-scheme", ERROR, problem, **here))
            continue
        if not link.text:
            findings.append(Finding("link-text-empty", ERROR, f"the link to {shown} has no text: screen readers "
                                    "read out the bare address", **here))
        elif link.text.lower().strip(" .:!…") in GENERIC_LINK_TEXT and (link.href, link.text) not in buttons:
            findings.append(Finding("link-text-generic", WARNING, f"the link text {link.text!r} says nothing on its "
                                    f"own: name where it goes (screen readers list links by their text)", **here))
        # Once for an address: the source map keeps one place for it, so a second finding would repeat the first.
        if urlsplit(link.href).scheme.lower() == "http" and not seen[link.href]:
            findings.append(Finding("link-http", WARNING, f"the link {shown} uses http://: use https:// where "
                                    "the site has it (browsers warn, and some spam filters mark it down)", **here))
        seen[link.href] += 1
    for href, count in seen.items():
        # The footer repeats the website by design; the same link in two entries is reported as entry-duplicate-link.
        if count > 1 and href != result.newsletter.website and sum(e.link == href for e in issue.entries) < 2:
            findings.append(Finding("link-duplicate", WARNING, f"the link {short(href)} appears {count} times: "
                                    "readers click the first; link it once", **of_url(result, href)))
    return findings
