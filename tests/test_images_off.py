"""With images off (many mail programs block them until the reader allows), every image still says what it is:
the "Find us on:" icons show each network's name whole, in the email's font and colours, and the logos'
alt texts read in the email's font. Checked in Chromium with every image request refused."""

from __future__ import annotations

import re

import pytest

import digest
from conftest import SAMPLE_ISSUE, needs_chromium

pytestmark = needs_chromium


def luminance(rgb: str) -> float:
    values = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))


MEASURE = """() => [...document.querySelectorAll('img')].map(img => {
    const style = getComputedStyle(img), ctx = document.createElement('canvas').getContext('2d');
    ctx.font = style.fontSize + ' ' + style.fontFamily;
    const box = img.getBoundingClientRect();
    return {alt: img.alt, loaded: img.naturalWidth > 0, width: box.width, height: box.height,
            text: ctx.measureText(img.alt).width, family: style.fontFamily, size: parseFloat(style.fontSize),
            colour: style.color, social: !!img.closest('.social')};
})"""


def images_off(browser, html: str, scheme: str, width: int) -> list[dict]:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
        page.set_content(html, wait_until="load")
        return page.evaluate(MEASURE)
    finally:
        page.close()


@pytest.mark.parametrize("scheme, width", [("light", 600), ("dark", 375)])
def test_the_social_icons_show_each_network_s_name_whole_when_images_are_off(browser, scheme, width):
    result = digest.build(SAMPLE_ISSUE)
    images = images_off(browser, result.html, scheme, width)
    colours = result.newsletter.colours
    surface = hex_rgb(colours.surface if scheme == "light" else colours.dark_surface)
    social = [image for image in images if image["social"]]
    assert [image["alt"] for image in social] == ["Facebook", "X", "Instagram", "YouTube"]
    for image in images:
        assert not image["loaded"]  # really off
        assert image["family"] == "Helvetica, Arial, sans-serif", image  # the email's font, logos too
    for image in social:
        assert image["width"] >= image["text"], image  # the name whole, not cut to the icon's 32 px
        assert image["size"] >= 12
        assert contrast(image["colour"], surface) >= 4.5, image
    for image in images:
        if not image["social"]:  # a logo: its box holds the alt text, wrapped to its width if need be
            assert image["width"] >= min(image["text"], 200) and image["height"] >= image["size"], image


def test_the_plain_theme_s_logo_reads_in_the_email_s_font(browser, newsletter):
    newsletter.write_config(newsletter.config.read_text().replace(
        "\n\n[[social]]", '\ntheme = "plain"\nlogo = { src = "issues/images/logo.png", alt = "Test News logo" }\n\n[[social]]', 1))
    result = digest.build(newsletter.issue)
    [logo] = images_off(browser, result.html, "light", 600)
    assert logo["alt"] == "Test News logo" and logo["family"] == "Helvetica, Arial, sans-serif"
    assert logo["width"] >= logo["text"]
