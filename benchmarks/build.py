"""How fast `digest build` is: cold as a whole process against the official MJML CLI (with the cache folder
an earlier run filled, and as a first run with it empty), warm in-process, and how it scales with the number
of entries. Prints numbers; asserts nothing. Every cache it fills is in a temporary folder of its own.

    .venv/bin/python benchmarks/build.py [--runs 15] [--mjml PATH/TO/node_modules/.bin/mjml]

The official MJML CLI is the npm package `mjml` (not a dependency of digest): the tests' npm packages
(`npm ci --prefix .ci --ignore-scripts`) hold it in .ci/node_modules, where the script looks by default;
or pass another `node_modules/.bin/mjml`. The two run in turn (digest, MJML, digest, MJML …) and the
ratio is taken pair by pair, so a machine that slows down during the run moves both sides alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"


# As on an editor's machine, Python keeps the bytecode of digest's modules: where the environment says not
# to write it (some containers do), every run would compile the whole package again.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.1f} ms   min {min(times) * 1000:7.1f} ms"


def find_mjml(given: str | None) -> str | None:
    for candidate in filter(None, [given, REPO / ".ci/node_modules/.bin/mjml"]):
        if Path(candidate).exists():
            return str(candidate)
    return None


def digest_command(out: Path) -> list[str]:
    script = Path(sys.executable).with_name("digest")  # the console script an editor runs, where installed
    start = [str(script)] if script.exists() else [sys.executable, "-m", "digest"]
    return [*start, "build", str(SAMPLE), "--out", str(out)]


def cold(runs: int, mjml: str | None, work: Path) -> None:
    """A whole `digest build` against the official MJML CLI, in turn. Twice: as every run after an editor's
    first finds its cache folder (compiled templates and patterns, parsed CSS), and as the first run ever."""
    ours_command = digest_command(work / "out")
    filled = {**ENV, "DIGEST_CACHE_DIR": str(work / "cache")}
    subprocess.run(ours_command, check=True, capture_output=True, env=filled)  # bytecode and caches, as after any first run
    theirs_command = [mjml, str(work / "out" / SAMPLE.stem / "email.mjml"), "-o", str(work / "mjml.html")] if mjml else None
    if theirs_command:
        subprocess.run(theirs_command, check=True, capture_output=True)
    for label, env_of in (("cache folder filled by an earlier run", lambda run: filled),
                          ("first run (empty cache folder)", lambda run: {**ENV, "DIGEST_CACHE_DIR": str(work / f"empty-{run}")})):
        ours, theirs, ratios = [], [], []
        for run in range(runs):
            ours.append(run_once(ours_command, work, env_of(run)))
            if theirs_command:
                theirs.append(run_once(theirs_command, work, ENV))
                ratios.append(ours[-1] / theirs[-1])
        print(f"cold `digest build` of the sample, whole process, {label} ({runs} runs): {summary(ours)}")
        if not theirs_command:
            print("official MJML CLI not found: pass --mjml node_modules/.bin/mjml to compare")
            continue
        print(f"  official MJML CLI compiling the same email.mjml, in turn:   {summary(theirs)}")
        print(f"  digest / MJML CLI, pair by pair: median {statistics.median(ratios):.2f}x the CLI's time "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f}), and digest also inlines the CSS and runs the checks")


def timed(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def warm(work: Path) -> None:
    os.environ["DIGEST_CACHE_DIR"] = str(work / "cache")  # the benchmark's own, not the user's
    sys.path.insert(0, str(REPO))
    import digest

    digest.build(SAMPLE)
    print(f"warm in-process rebuild + checks of the sample (100 runs): {summary(timed(lambda: digest.build(SAMPLE), 100))}")

    newsletter = work / "letter"
    (newsletter / "issues").mkdir(parents=True)
    shutil.copy(REPO / "digest.toml", newsletter)
    shutil.copytree(REPO / "issues" / "images", newsletter / "issues" / "images")
    text = SAMPLE.read_text(encoding="utf-8")
    # As the preview rebuilds after a save: one word of the first entry changed each time, so nothing
    # remembered from the build before (wrapped paragraphs, merged styles) answers for it.
    edited = newsletter / "issues" / SAMPLE.name
    edits = iter(range(10**6))

    def edit_and_build():
        edited.write_text(text.replace("chronic pain", f"chronic pain {next(edits)}", 1), encoding="utf-8")
        return digest.build(edited)

    edit_and_build()
    print(f"  the same after a one-word edit, the file's write included (100 runs): {summary(timed(edit_and_build, 100))}")
    head, entries = text.split("entries:\n")
    one = entries.split("\n\n  - ")[0] + "\n"
    for count in (10, 100, 800):  # 800 of the sample's entries: as many as fit in the 1 MB an issue may be
        issue = newsletter / "issues" / f"entries-{count}.yaml"
        # Every entry's words differ, so no cache answers for another entry.
        issue.write_text(head + "entries:\n" + "".join(
            one.replace("Low-Dose Naltrexone for Chronic Pain", f"Trial {i} of").replace("over 100 million", f"over {i} million")
            for i in range(count)), encoding="utf-8")
        start = time.perf_counter()
        result = digest.build(issue)
        first = time.perf_counter() - start
        times = timed(lambda: digest.build(issue), 10 if count < 800 else 3)
        per = statistics.median(times) / count * 1000
        print(f"{count:4d} entries: first build {first * 1000:7.1f} ms, rebuild {summary(times)}   "
              f"{per:.2f} ms per entry   HTML {len(result.html.encode()) / 1024:,.0f} KB")
    stages(SAMPLE, 300)
    stages(newsletter / "issues" / "entries-100.yaml", 30)


def stages(issue: Path, runs: int) -> None:
    """Where a rebuild's time goes, stage by stage (the fastest of `runs`), and the part of it that only the
    required libraries spend: libyaml reading the file, Jinja2, MRML, premailer inlining into lxml's tree
    and lxml writing it out. No rebuild that does all of those again can take less."""
    import yaml
    from lxml import etree

    from digest import checks, config, inline, page, reader, render

    newsletter = config.settings_for(issue)
    found = reader.read_issue(issue, newsletter)
    env = render.environment(newsletter.theme.dirs)
    context = render.template_context(found, newsletter)
    mjml = render.render_template(env, render.HTML_TEMPLATE, context)
    html, css = render.compile_mjml(mjml, env)
    result = render.render_email(found, newsletter)
    text = issue.read_text(encoding="utf-8")
    tree = etree.fromstring(result.html.encode(), etree.HTMLParser(encoding="utf-8"))

    def fastest(function) -> float:
        return min(timed(function, runs)) * 1000

    times = {
        "settings: digest.toml read and checked": fastest(lambda: config.settings_for(issue)),
        "the issue read: YAML, fields, Markdown, source map": fastest(lambda: reader.read_issue(issue, newsletter)),
        "  of which libyaml's C loader alone": fastest(lambda: yaml.load(text, Loader=yaml.CSafeLoader)),
        "Jinja2: the email's and the text's templates": fastest(lambda: (render.render_template(env, render.HTML_TEMPLATE, context),
                                                                       render.render_template(env, render.TEXT_TEMPLATE, context))),
        "MRML": fastest(lambda: render.compile_mjml(mjml, env)),
        "lxml parse, premailer, lxml write, the page": fastest(lambda: inline.inline_with_page(html, css)),
        "  of which the page (links, images, words)": fastest(lambda: page.page_of(tree)),
        "checks": fastest(lambda: checks.run_checks(result)),
    }
    libraries = sum(times[name] for name in times if name.startswith(("  of which libyaml", "Jinja2", "MRML", "lxml"))) \
        - times["  of which the page (links, images, words)"]
    print(f"stages of a rebuild of {issue.name} (fastest of {runs}):")
    for name, ms in times.items():
        print(f"  {name:55s} {ms:7.2f} ms")
    print(f"  {'the required libraries alone (no checks, no settings)':55s} {libraries:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--mjml", help="the official MJML CLI (node_modules/.bin/mjml)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    try:
        cold(args.runs, find_mjml(args.mjml), work)
        warm(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
