"""End to end: Debian's Chromium, driven by Playwright, on a real preview server, while the issue is edited."""

from __future__ import annotations

import shutil
import time

from conftest import needs_chromium

from digest.commands.preview import running
from digest.exceptions import where

FRAME = "document.querySelector('iframe.front')"
SURFACE = f"getComputedStyle({FRAME}.contentDocument.querySelector('.dm-surface')).backgroundColor"
LONG_SUMMARY = "".join(f"      Paragraph {n} of a summary long enough to scroll the email on a phone.\n\n" for n in range(12))

pytestmark = needs_chromium


def wait_until(page, expression: str, arg=None, timeout: float = 10.0):
    # Polled from Python: Playwright's own in-page polling evaluates strings, which the page's CSP forbids.
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expression, arg)):
        assert time.monotonic() < deadline, f"timed out waiting for {expression} ({arg})"
        time.sleep(0.02)
    return value


def frame_text_has(page, text: str) -> None:
    wait_until(page, f"t => {FRAME}?.contentDocument?.body?.innerText.includes(t)", text)


def test_edit_break_and_fix_an_issue_while_the_page_is_open(newsletter, browser, tmp_path):
    issue = newsletter.issue.read_text().replace("      Our words.\n", "      Our words.\n\n" + LONG_SUMMARY)
    newsletter.write_issue(issue)
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))  # CSP, 404s
        page.goto(server.url)
        frame_text_has(page, "A trial of something")

        # The inbox line, and the email's images, served by the preview from disk.
        assert page.inner_text("#sender") == "Test News"
        assert page.inner_text("#subject") == "A subject line that is long enough"
        assert page.inner_text("#preheader").startswith("A preheader")
        assert page.evaluate(f"[...{FRAME}.contentDocument.images].every(i => i.complete && i.naturalWidth > 0)")
        assert "Find out more" in page.inner_text("#links")

        # Width, with the keyboard: the radio group moves with the arrow keys.
        page.focus("input[name=width][value='600']")
        page.keyboard.press("ArrowRight")
        assert page.is_checked("input[name=width][value='375']")
        assert page.evaluate(f"{FRAME}.contentWindow.innerWidth") == 375

        # Theme: the email's own dark styles apply; the scroll position stays where the editor left it.
        assert page.evaluate(SURFACE) == "rgb(255, 255, 255)"
        page.evaluate(f"{FRAME}.contentWindow.scrollTo(0, 400)")
        page.focus("input[name=theme][value='light']")
        page.keyboard.press("ArrowRight")
        wait_until(page, "() => document.body.dataset.shown.endsWith('-dark')")
        assert page.evaluate(SURFACE) == "rgb(31, 35, 40)"  # colours.dark_surface, #1f2328
        assert page.evaluate(f"{FRAME}.contentWindow.scrollY") == 400

        # A save appears without a reload, in the same width, theme and place.
        newsletter.write_issue(issue.replace("A trial of something", "A trial of something new"))
        frame_text_has(page, "A trial of something new")
        assert page.evaluate(f"{FRAME}.contentWindow.innerWidth") == 375
        assert page.evaluate(SURFACE) == "rgb(31, 35, 40)"
        assert page.evaluate(f"{FRAME}.contentWindow.scrollY") == 400

        # A broken save: the error line shows, the last good email stays.
        newsletter.write_issue(issue.replace("date: 2024-05-14", "date: 14 May"))
        page.wait_for_selector("#error:not([hidden])")
        error = page.inner_text("#error")
        assert error.startswith(f"{where(newsletter.issue)}:3: date: '14 May' is not a date")
        assert "Showing the last good version" in error
        assert "A trial of something new" in page.evaluate(f"{FRAME}.contentDocument.body.innerText")
        page.screenshot(path=tmp_path / "preview-broken.png")

        # The next good save recovers.
        newsletter.write_issue(issue.replace("A trial of something", "A trial of something fixed"))
        frame_text_has(page, "A trial of something fixed")
        page.wait_for_selector("#error", state="hidden")

        # The plain-text part.
        page.check("input[name=view][value=text]")
        wait_until(page, "() => document.getElementById('text').innerText.includes('A trial of something fixed')")
        assert page.is_visible("#text")
        page.check("input[name=view][value=html]")
        page.screenshot(path=tmp_path / "preview.png")
        print(f"screenshots: {tmp_path / 'preview.png'}, {tmp_path / 'preview-broken.png'}")

        assert requests and all(url.startswith((server.url, "data:")) for url in requests), requests
        assert errors == []


def test_script_in_the_email_never_runs(newsletter, browser):
    # A theme is the only way to get a <script> into the email (issue text is escaped); the preview must
    # still not run it, neither in its frame nor when the frame's address is opened on its own.
    from digest.theme import DEFAULT_THEME

    theme = newsletter.root / "templates"
    shutil.copytree(DEFAULT_THEME, theme)
    template = theme / "email.mjml.j2"
    hostile = (
        "<mj-raw><script>document.title = 'pwned'; parent.document.body.dataset.pwned = 'script';</script>"
        "<img src=\"/nothing.png\" alt=\"\" onerror=\"parent.document.body.dataset.pwned = 'handler'\"></mj-raw>"
    )
    template.write_text(template.read_text().replace('css-class="dm-page">', 'css-class="dm-page">' + hostile, 1))
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        page = browser.new_page()
        html = page.request.get(server.url + "email.html").text()
        assert "<script>document.title = 'pwned'" in html and "onerror=" in html
        page.goto(server.url)
        frame_text_has(page, "A trial of something")
        page.wait_for_timeout(300)
        assert page.evaluate("document.body.dataset.pwned") is None
        assert page.evaluate(f"{FRAME}.contentDocument.title") != "pwned"
        page.goto(server.url + "email.html")
        page.wait_for_timeout(300)
        assert page.title() != "pwned"


def test_the_page_lists_the_findings_of_each_save_beside_the_email(newsletter, browser):
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url)
        frame_text_has(page, "A trial of something")
        # The test newsletter is built for "generic": one warning, the unsubscribe placeholder.
        wait_until(page, "() => document.getElementById('finding-count').innerText.includes('0 errors, 1 warning')")
        assert "unsubscribe-placeholder" in page.inner_text("#findings")

        # A TODO left in the intro: `digest build` would refuse the file; the page says why, and where.
        newsletter.write_issue(newsletter.issue.read_text().replace("Hello **readers**.", "Hello **readers**. TODO"))
        wait_until(page, "() => document.getElementById('finding-count').innerText.includes('1 error')")
        first = page.inner_text("#findings li.error")
        assert f"{where(newsletter.issue)}:5: intro" in first
        assert "'TODO' left in the text: finish or remove it before sending [placeholder]" in first
        assert "1 error" in page.inner_text("#status")
        # An error finding does not hide the email: it is the current save that shows.
        frame_text_has(page, "TODO")
        assert page.is_hidden("#error")

        newsletter.write_issue(newsletter.issue.read_text().replace(" TODO", ""))
        wait_until(page, "() => document.getElementById('finding-count').innerText.includes('0 errors')")
        assert page.query_selector("#findings li.error") is None

        # A save the build stops at: the file was saved ("Save failed" said otherwise), and nothing is checked.
        newsletter.write_issue(newsletter.issue.read_text().replace("date: 2024-05-14", "date: May"))
        wait_until(page, "() => !document.getElementById('error').hidden")
        assert page.inner_text("#status").startswith("Not built at ") and "Save failed" not in page.content()
        assert page.inner_text("#finding-count") == "(not checked until the mistake above is fixed)"


def test_many_tabs_of_one_preview_all_load_and_all_follow_a_save(newsletter, browser):
    # Each tab held an event stream of its own: a browser opens six connections to one server, so the sixth
    # tab never showed the email and the seventh never loaded.
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        context = browser.new_context()
        try:
            pages = [context.new_page() for _ in range(8)]
            for page in pages:
                page.goto(server.url, wait_until="commit")
            for page in pages:
                frame_text_has(page, "A trial of something")
            newsletter.write_issue(newsletter.issue.read_text().replace("A trial of something", "A renamed trial"))
            for page in pages:
                frame_text_has(page, "A renamed trial")
            pages[0].close()  # the tab that held the stream: another takes it over
            newsletter.write_issue(newsletter.issue.read_text().replace("A renamed trial", "A trial renamed again"))
            for page in pages[1:]:
                frame_text_has(page, "A trial renamed again")
        finally:
            context.close()
