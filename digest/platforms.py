"""Merge tags per mail platform: what the email says where the platform fills in a subscriber's details."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformTags:
    unsubscribe: str  # the unsubscribe URL, used in href="…" and in the text part
    view_online: str | None = None  # the web-version URL, where the platform has one
    first_name: str | None = None  # the subscriber's first name, with a fallback where supported
    address: str | None = None  # the postal / list address, where the platform fills it in
    preheader: str | None = None  # where the platform inserts the preview text itself


# generic: a visible placeholder the editor (and `digest check`) will notice before sending.
PLATFORMS = {
    "generic": PlatformTags(unsubscribe="{{ unsubscribe_url }}"),
}


def platform_tags(name: str) -> PlatformTags:
    return PLATFORMS[name]
