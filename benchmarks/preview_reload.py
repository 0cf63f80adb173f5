"""How fast `digest preview` shows a save, and how long a warm rebuild of the sample takes.

    python benchmarks/preview_reload.py [SAVES]

Copies the sample newsletter to a temporary folder, serves it, opens the page in Debian's Chromium
(Playwright), then saves the issue SAVES times (default 20), each with a new word in the intro, and times
from the write to that word being in the frame on show. Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import digest  # noqa: E402
from digest.commands.preview import running  # noqa: E402

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INTRO = "  Low dose naltrexone, an inexpensive therapy"


def summary(name: str, values_ms: list[float]) -> str:
    values = sorted(values_ms)
    p90 = values[max(0, round(0.9 * len(values)) - 1)]
    return (f"{name}: median {statistics.median(values):.0f} ms, p90 {p90:.0f} ms, "
            f"min {values[0]:.0f} ms, max {values[-1]:.0f} ms ({len(values)} runs)")


def warm_rebuild(issue: Path, runs: int = 30) -> list[float]:
    digest.build(issue)  # the first build imports and compiles everything: not "warm"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        digest.build(issue)
        times.append((time.perf_counter() - start) * 1000)
    return times


def save_to_refresh(issue: Path, saves: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    original = issue.read_text(encoding="utf-8")
    built_at: list[float] = []
    total, to_build = [], []
    with running(issue, port=0, report=lambda ok, line: built_at.append(time.perf_counter())) as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        # The benchmark's own probe needs eval in the page; the preview's CSP forbids it, so only here it is off.
        page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
        page.goto(server.url)
        page.wait_for_function("document.body.dataset.shown")
        for n in range(saves):
            word = f"Benchmark{n}x{time.time_ns()}"
            builds = len(built_at)
            start = time.perf_counter()
            issue.write_text(original.replace(INTRO, f"  {word}. {INTRO.strip()}", 1), encoding="utf-8")
            page.wait_for_function(
                "w => document.querySelector('iframe.front').contentDocument.body.innerText.includes(w)",
                arg=word, polling="raf", timeout=10_000,
            )
            total.append((time.perf_counter() - start) * 1000)
            to_build.append((built_at[builds] - start) * 1000)
            time.sleep(0.2)
        browser.close()
    return total, to_build


def main() -> None:
    saves = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copy(REPO / "digest.toml", root / "digest.toml")
        shutil.copytree(REPO / "issues", root / "issues")
        issue = root / "issues" / "2024-06-ldn-trials.yaml"
        print(summary("warm rebuild of the sample (digest.build, in process)", warm_rebuild(issue)))
        total, to_build = save_to_refresh(issue, saves)
        print(summary("save -> rebuilt (watch + build)", to_build))
        print(summary("save -> new email in the browser frame", total))


if __name__ == "__main__":
    main()
