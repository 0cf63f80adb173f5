"""How fast `digest build` is: cold as a whole process against the official MJML CLI, warm in-process,
and how it scales with the number of entries. Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/build.py [--runs 15] [--mjml PATH/TO/node_modules/.bin/mjml]

The official MJML CLI is the npm package `mjml` (not a dependency of digest): install it anywhere with
`npm install mjml` and pass its `node_modules/.bin/mjml`, or let the script look in ./node_modules and in
the email-audit tool's cache (/tmp/email-audit).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"


def timed_runs(command: list[str], runs: int, cwd: Path) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.1f} ms   min {min(times) * 1000:7.1f} ms"


def find_mjml(given: str | None) -> str | None:
    for candidate in filter(None, [given, REPO / "node_modules/.bin/mjml", "/tmp/email-audit/node_modules/.bin/mjml"]):
        if Path(candidate).exists():
            return str(candidate)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--mjml", help="the official MJML CLI (node_modules/.bin/mjml)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    try:
        digest = [sys.executable, "-m", "digest", "build", str(SAMPLE), "--out", str(work / "out")]
        subprocess.run(digest, check=True, capture_output=True)  # bytecode and template caches, as after any first run
        ours = timed_runs(digest, args.runs, work)
        print(f"cold `digest build` of the sample, whole process ({args.runs} runs): {summary(ours)}")
        mjml = find_mjml(args.mjml)
        if mjml:
            source = work / "out" / SAMPLE.stem / "email.mjml"
            theirs = timed_runs([mjml, str(source), "-o", str(work / "mjml.html")], args.runs, work)
            print(f"official MJML CLI compiling the same email.mjml ({args.runs} runs):   {summary(theirs)}")
            ratio = statistics.median(theirs) / statistics.median(ours)
            print(f"digest is {ratio:.2f}x as fast ({(1 - 1 / ratio) * 100:.0f} % less time), and it also inlines the CSS")
        else:
            print("official MJML CLI not found: pass --mjml node_modules/.bin/mjml to compare")

        sys.path.insert(0, str(REPO))
        from digest.commands.build import build_email

        build_email(SAMPLE)
        warm = []
        for _ in range(50):
            start = time.perf_counter()
            build_email(SAMPLE)
            warm.append(time.perf_counter() - start)
        print(f"warm in-process rebuild of the sample (50 runs): {summary(warm)}")

        newsletter = work / "letter"
        (newsletter / "issues").mkdir(parents=True)
        shutil.copy(REPO / "digest.toml", newsletter)
        shutil.copytree(REPO / "issues" / "images", newsletter / "issues" / "images")
        text = SAMPLE.read_text(encoding="utf-8")
        head, entries = text.split("entries:\n")
        one = entries.split("\n\n  - ")[0] + "\n"
        for count in (10, 100, 800):  # 800 of the sample's entries: as many as fit in the 1 MB an issue may be
            issue = newsletter / "issues" / f"entries-{count}.yaml"
            # Every entry's words differ, so no cache answers for another entry.
            issue.write_text(head + "entries:\n" + "".join(
                one.replace("Low-Dose Naltrexone for Chronic Pain", f"Trial {i} of").replace("over 100 million", f"over {i} million")
                for i in range(count)), encoding="utf-8")
            start = time.perf_counter()
            email = build_email(issue)
            first = time.perf_counter() - start
            runs = 10 if count < 800 else 3
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                email = build_email(issue)
                times.append(time.perf_counter() - start)
            per = statistics.median(times) / count * 1000
            print(f"{count:4d} entries: first build {first * 1000:7.1f} ms, rebuild {summary(times)}   "
                  f"{per:.2f} ms per entry   HTML {len(email.html.encode()) / 1024:,.0f} KB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
