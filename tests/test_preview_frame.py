"""The preview frame's view of a built email: local images, the pinned colour scheme, the list of links."""

from __future__ import annotations

import re

from digest.preview.frame import frame_html


def test_every_local_image_points_at_the_preview(sample_email):
    out = frame_html(sample_email, "light")
    assert sample_email.images, "the sample has local images"
    for image in sample_email.images:
        assert image.url not in out
        assert f'src="/assets/{image.path}?v={image.source.stat().st_mtime_ns}"' in out
    assert "https://www.ldn-news.example/newsletter/" not in out


def test_dark_pins_the_emails_own_dark_styles_on(sample_email):
    dark = frame_html(sample_email, "dark")
    light = frame_html(sample_email, "light")
    assert "prefers-color-scheme" in sample_email.html
    assert "prefers-color-scheme" not in dark and "prefers-color-scheme" not in light
    # The block that held the dark colours now always applies in dark, and never in light.
    dark_surface = sample_email.newsletter.colours.dark_surface
    assert re.search(r"@media \(min-width: 0px\)\{[^@]*" + dark_surface, dark)
    assert re.search(r"@media \(max-width: 0px\)\{[^@]*" + dark_surface, light)
    assert "color-scheme: dark !important" in dark and "color-scheme: light !important" in light


def test_body_text_that_mentions_the_media_feature_is_left_alone(newsletter):
    import digest

    newsletter.write_issue(newsletter.issue.read_text().replace("Hello **readers**.", "Hello (prefers-color-scheme: dark) readers."))
    out = frame_html(digest.build(newsletter.issue), "light")
    assert "Hello (prefers-color-scheme: dark) readers." in out


def test_links_are_listed_in_reading_order_with_their_text(sample_email):
    # The one parse of the build (Result.page) is what the preview lists.
    found = [{"href": link.href, "text": link.text} for link in sample_email.page.links]
    hrefs = [link["href"] for link in found]
    assert hrefs[:4] == [
        "https://www.facebook.com/example",
        "https://x.com/example",
        "https://www.instagram.com/example",
        "https://www.youtube.com/@example",
    ]
    assert found[0]["text"] == "Facebook"  # an icon link is named by its image's alt text
    trials = [link for link in found if link["href"].startswith("https://clinicaltrials.gov/")]
    assert [link["text"] for link in trials] == ["Find out more"] * 3
    # Outlook's conditional comments repeat no link: each entry's button is listed once.
    assert len(trials) == len(set(link["href"] for link in trials)) == 3
    assert any(link["text"] == "Unsubscribe" for link in found)
