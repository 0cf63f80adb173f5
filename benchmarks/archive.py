"""How fast `digest archive` is on a newsletter of many issues: a cold build into an empty folder, an
unchanged rebuild, and a rebuild after one issue changed, each as a whole process. Prints numbers and the
sizes of the pages; asserts nothing.

    .venv/bin/python benchmarks/archive.py [--issues 100] [--runs 5]

The issues are the sample issue (three entries with logos) under other dates, subjects and paragraphs.
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"


def newsletter(folder: Path, count: int) -> list[Path]:
    shutil.copyfile(REPO / "digest.toml", folder / "digest.toml")
    shutil.copytree(REPO / "issues" / "images", folder / "issues" / "images")
    text = SAMPLE.read_text(encoding="utf-8")
    paths = []
    for n in range(count):
        day = datetime.date(2016, 1, 5) + datetime.timedelta(weeks=4 * n)
        path = folder / "issues" / f"{day}-issue-{n}.yaml"
        issue = (text.replace("date: 2024-06-04", f"date: {day}")
                 .replace("subject: Low dose naltrexone is making news again", f"subject: LDN news, issue {n} of the archive"))
        # Each paragraph its own, as in a real archive (the Markdown renderer remembers paragraphs it has seen).
        issue = re.sub(r"(?m)^(  |      )(?=[^\s-])", rf"\g<1>({n}) ", issue)
        path.write_text(issue, encoding="utf-8")
        paths.append(path)
    return paths


def timed(command: list[str], cwd: Path, before=None, runs: int = 5) -> list[float]:
    times = []
    for run in range(runs):
        if before:
            before(run)
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.1f} ms   min {min(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digest-bench-archive-"))
    try:
        paths = newsletter(work, args.issues)
        site = work / "site"
        command = [sys.executable, "-m", "digest", "archive", "--out", str(site)]
        subprocess.run(command, cwd=work, check=True, capture_output=True)  # bytecode and template caches, as after any first run

        cold = timed(command, work, lambda run: shutil.rmtree(site, ignore_errors=True), args.runs)
        print(f"{args.issues} issues, cold into an empty folder, whole process ({args.runs} runs): {summary(cold)}")
        unchanged = timed(command, work, None, args.runs)
        print(f"{args.issues} issues, unchanged rebuild, whole process ({args.runs} runs):   {summary(unchanged)}")

        def edit(run: int) -> None:
            path = paths[len(paths) // 2]
            path.write_text(path.read_text(encoding="utf-8").replace("intro: |\n", f"intro: |\n  Edit {run}.\n", 1), encoding="utf-8")

        one = timed(command, work, edit, args.runs)
        print(f"{args.issues} issues, one issue edited, whole process ({args.runs} runs):   {summary(one)}")
        empty = timed([sys.executable, "-c", "pass"], work, None, args.runs)
        print(f"(Python starting and doing nothing:                      {summary(empty)})")

        pages = sorted(site.rglob("*.html"))
        issue_pages = [p for p in pages if p.parent.name.startswith(("20", "19"))]
        print(f"site: {len(list(site.rglob('*')))} files and folders, {sum(p.stat().st_size for p in site.rglob('*') if p.is_file()) // 1024} KB")
        print(f"  index.html {(site / 'index.html').stat().st_size / 1024:.1f} KB; an issue page "
              f"{statistics.median(p.stat().st_size for p in issue_pages) / 1024:.1f} KB; style.css "
              f"{(site / 'style.css').stat().st_size / 1024:.1f} KB; feed.xml {(site / 'feed.xml').stat().st_size / 1024:.0f} KB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
