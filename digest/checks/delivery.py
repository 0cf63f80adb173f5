"""Will the email arrive whole and lawful: its size against Gmail's clipping, the unsubscribe link, the address."""

from __future__ import annotations

import html

from digest.checks.base import in_config, normalise
from digest.model import ERROR, HTML_PART, TEXT_PART, WARNING, Finding, Result
from digest.platforms import platform_tags

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail hides everything past this behind "[Message clipped]", footer included
WARN_BYTES = 90 * 1024


def check_size(result: Result) -> list[Finding]:
    size = len(result.html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        return [Finding("size-clipped", ERROR, f"the email is {size / 1024:.0f} KB: Gmail cuts off emails over 102 KB, "
                        "footer and unsubscribe link included; shorten the issue", HTML_PART)]
    if size > WARN_BYTES:
        return [Finding("size-large", WARNING, f"the email is {size / 1024:.0f} KB, close to the 102 KB at which "
                        "Gmail cuts it off; keep it shorter", HTML_PART)]
    return []


def check_unsubscribe(result: Result) -> list[Finding]:
    platform = result.platform
    tags = platform_tags(platform)
    tag = tags.unsubscribe
    if tag is None:
        return []  # the platform adds its own unsubscribe footer to every email
    # Campaign Monitor's HTML wraps the link text in its own <unsubscribe> element instead of a URL.
    html_needles = ("<unsubscribe",) if tags.link_elements else (tag, html.escape(tag))
    missing = [part for part, body, needles in ((HTML_PART, result.html, html_needles), (TEXT_PART, result.text, (tag, html.escape(tag))))
               if not any(needle in body for needle in needles)]
    if missing:
        return [Finding("unsubscribe-missing", ERROR, f"no unsubscribe link ({tag}) in {' and '.join(missing)}: "
                        "the law and every mail platform require one; the theme must keep it", missing[0])]
    if platform == "generic":
        return [Finding("unsubscribe-placeholder", WARNING, f"the unsubscribe link is the placeholder {tag}: set "
                        "platform in digest.toml to your mail platform so it becomes a real link",
                        **in_config(result, "platform"))]
    return []


def check_address(result: Result) -> list[Finding]:
    # Where the platform fills in the list's address, its tag stands for the address.
    tags = platform_tags(result.platform)
    address = normalise(result.newsletter.address)
    # The address is normalised: where the text holds it as it is, the normalised text does too, made only when not.
    text_part = result.text if address in result.text else normalise(result.text)
    missing = [part for part, text, tag in ((HTML_PART, result.page.visible, tags.address), (TEXT_PART, text_part, tags.address_text))
               if address not in text and not (tag and tag in text)]
    if missing:
        return [Finding("address-missing", ERROR, f"the postal address ({address}) is not in "
                        f"{' and '.join(missing)}: the law (CAN-SPAM) requires it in every email", missing[0])]
    return []
