"""Make the guide's screenshot of the preview, docs/preview.png, again: after a change to the preview's page.

    .venv/bin/python docs/screenshots.py

It copies the sample newsletter into a temporary folder, turns the first entry's link into http:// so that
the Checks panel has a finding to show, runs `digest preview` on it, and photographs it in Debian's Chromium
at phone width in dark mode.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, SAMPLE_ISSUE  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(SAMPLE_ISSUE.parent, root / "issues")
        shutil.copyfile(REPO / "digest.toml", root / "digest.toml")
        issue = root / "issues" / SAMPLE_ISSUE.name
        text = issue.read_text(encoding="utf-8")
        issue.write_text(text.replace("link: https://clinicaltrials.gov/study/NCT03008590",
                                      "link: http://clinicaltrials.gov/study/NCT03008590"), encoding="utf-8")
        digest = Path(sys.executable).parent / "digest"
        server = subprocess.Popen([str(digest), "preview", "--no-open", "--port", "0", f"issues/{SAMPLE_ISSUE.name}"],
                                  cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = re.search(r"http://\S+", server.stdout.readline()).group(0)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 720})
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url) else route.abort())
                page.goto(url)
                page.get_by_label("Phone 375 px").check()
                page.get_by_label("Dark").check()
                page.wait_for_function("document.querySelector('#findings li') !== null")
                page.wait_for_timeout(500)  # the frame's swap and the images from disk
                page.screenshot(path=str(REPO / "docs" / "preview.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
