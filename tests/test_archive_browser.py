"""The archive judged by tools written elsewhere: the W3C Nu HTML Checker, axe-core in Chromium, and a reader
clicking through it in Chromium. The checker and axe-core are the npm packages of .ci/package.json
(`npm ci --prefix .ci --ignore-scripts`, which .ci/run does); each test is skipped, saying why, where its tool is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, needs_chromium
from test_archive import ASSETS, make_sample, pages

from digest.archive import build_site

VNU = REPO / ".ci" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = REPO / ".ci" / "node_modules" / "axe-core" / "axe.min.js"
NPM = "run `npm ci --prefix .ci --ignore-scripts` (.ci/run does)"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = make_sample(tmp_path_factory.mktemp("sample"))
    return build_site(root / "site", config=root / "digest.toml").folder


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java for the Nu HTML Checker (apt-get install default-jre-headless)")
@pytest.mark.skipif(not VNU.is_file(), reason=f"needs the Nu HTML Checker (npm vnu-jar): {NPM}")
def test_every_page_and_the_style_sheet_are_valid(site):
    files = [str(p) for p in pages(site)] + [str(site / "style.css")]
    # One Java start for every file: it is most of the time this takes.
    run = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--also-check-css", *files],
                         capture_output=True, text=True, timeout=120)
    messages = json.loads(run.stderr)["messages"]
    assert messages == [], json.dumps(messages, indent=1)  # no error, and no warning either
    assert run.returncode == 0


@needs_chromium
@pytest.mark.skipif(not AXE.is_file(), reason=f"needs axe-core: {NPM}")
@pytest.mark.parametrize("scheme, width", [("light", 1024), ("dark", 375)])
def test_axe_finds_no_wcag_violation(site, browser, scheme, width):
    axe = AXE.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    for page_file in pages(site):
        page.goto(page_file.as_uri())
        page.add_script_tag(content=axe)
        result = page.evaluate("""axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}).then(r => ({
            passes: r.passes.map(rule => rule.id),
            violations: r.violations.map(rule => [rule.id, rule.nodes.map(node => node.html.slice(0, 120))]),
        }))""")
        assert result["violations"] == [], (page_file, scheme)  # WCAG 2.1 A and AA, and axe's best practices too
        assert "color-contrast" in result["passes"] and "html-has-lang" in result["passes"]  # axe did run its rules
    page.close()


@needs_chromium
def test_a_reader_clicks_through_the_archive_opened_from_disk(site, browser):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    elsewhere, errors = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (elsewhere.append(route.request.url), route.abort()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((site / "index.html").as_uri())
    assert page.title() == "LDN Trials News"

    page.get_by_role("link", name="LDN trials in July: first patients enrolled").click()
    page.wait_for_url("**/2024-07-first-patients/index.html")
    assert page.locator("h1").inner_text() == "LDN trials in July: first patients enrolled"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(238, 241, 245)"  # style.css loaded

    page.get_by_role("link", name="Previous issue Low dose naltrexone is making news again").click()
    page.wait_for_url("**/2024-06-ldn-trials/index.html")
    assert page.locator("h1").inner_text() == "Low dose naltrexone is making news again"
    assert page.locator("a[rel=prev]").count() == 0  # the oldest

    page.get_by_role("link", name="Next issue LDN trials in July: first patients enrolled").click()
    page.wait_for_url("**/2024-07-first-patients/index.html")
    page.get_by_role("link", name="Next issue LDN in August: what a placebo-controlled trial is").click()
    page.wait_for_url("**/2024-08-placebo/index.html")

    page.go_back()
    page.wait_for_url("**/2024-07-first-patients/index.html")
    page.go_back()
    page.wait_for_url("**/2024-06-ldn-trials/index.html")
    page.get_by_role("link", name="All issues").click()
    page.wait_for_url("**/index.html")
    assert page.url == (site / "index.html").as_uri()
    page.go_back()
    page.wait_for_url("**/2024-06-ldn-trials/index.html")
    assert page.locator("h1").inner_text() == "Low dose naltrexone is making news again"

    assert errors == []
    # The only addresses a page asked for beyond its own files are the logos under asset_base_url.
    assert elsewhere and all(url.startswith(ASSETS) for url in elsewhere), elsewhere
    page.close()


@needs_chromium
def test_dark_mode_uses_the_dark_colours(site, browser):
    page = browser.new_page(color_scheme="dark")
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto((site / "2024-06-ldn-trials" / "index.html").as_uri())
    surface = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    heading = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
    assert (surface, heading) == ("rgb(31, 35, 40)", "rgb(138, 180, 248)")  # dark_surface, dark_brand
    page.close()
