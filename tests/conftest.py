"""Shared fixtures: a newsletter folder made fresh for each test, and the repository's own sample."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

# What digest keeps between runs (compiled templates and patterns, parsed CSS, fetched records) goes to a
# folder of the test run's own, for this process and every `digest` it starts: never the user's cache.
if "DIGEST_CACHE_DIR" not in os.environ:
    os.environ["DIGEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="digest-tests-cache-")
    atexit.register(shutil.rmtree, os.environ["DIGEST_CACHE_DIR"], True)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_ISSUE = REPO / "issues" / "2024-06-ldn-trials.yaml"
SAMPLE_CONFIG = REPO / "digest.toml"
# Debian's Chromium, driven by Playwright: browsers cannot be downloaded here.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
def on_a_terminal(command: list[str], **popen) -> bytes:
    """What `command` writes to its stderr when that is a terminal (a pty), once it has exited 0."""
    import os
    import pty
    import subprocess

    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower, **popen)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the pty's other end closed: Linux says EIO
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    return seen


def limit_file_size(size: int):
    """A preexec_fn for subprocess: the kernel refuses any file written past `size` bytes (EFBIG), as a full
    disk would refuse the rest of it."""
    import resource
    import signal

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)")

CONFIG = """\
name = "Test News"
organisation = "Test Org"
website = "https://www.testnews.example/"
address = "1 Test Street, Testville"
asset_base_url = "https://cdn.testnews.example/news/"

[[social]]
platform = "facebook"
url = "https://www.facebook.com/testnews"
"""

ISSUE = """\
subject: A subject line that is long enough
preheader: A preheader that is long enough to pass the checks we run.
date: 2024-05-14
intro: |
  Hello **readers**.
entries:
  - institution: Test University
    title: A trial of something
    logo: images/logo.png
    summary: |
      “A quote.”

      Our words.
    link: https://clinicaltrials.gov/study/NCT00000001
"""


class Newsletter:
    """A newsletter folder in tmp_path: digest.toml, issues/, one issue and its logo."""

    def __init__(self, root: Path):
        self.root = root
        self.config = root / "digest.toml"
        self.issue = root / "issues" / "test-issue.yaml"
        self.config.write_text(CONFIG, encoding="utf-8")
        (root / "issues" / "images").mkdir(parents=True)
        shutil.copyfile(REPO / "issues" / "images" / "uab.png", root / "issues" / "images" / "logo.png")
        self.issue.write_text(ISSUE, encoding="utf-8")

    def write_issue(self, text: str) -> Path:
        self.issue.write_text(textwrap.dedent(text), encoding="utf-8")
        return self.issue

    def write_config(self, text: str) -> Path:
        self.config.write_text(textwrap.dedent(text), encoding="utf-8")
        return self.config


@pytest.fixture
def newsletter(tmp_path) -> Newsletter:
    return Newsletter(tmp_path)


@pytest.fixture(scope="session")
def sample_email():
    """The sample issue, built once for the session through the real pipeline."""
    import digest

    return digest.build(SAMPLE_ISSUE)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one for each test module that asks for it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
