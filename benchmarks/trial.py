"""How fast `digest trial` is: a cold fetch, a warm (offline) re-run, many ids at once, a large issue, and the
monthly look for news: `--search … --new` through 1,000 studies on 10 pages, `--updates` over 100 trials.

Run: .venv/bin/python benchmarks/trial.py   (offline: a local server plays ClinicalTrials.gov)
"""

from __future__ import annotations

import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from ctgov_server import Registry, fixture, make_study  # noqa: E402

from digest import ctgov  # noqa: E402
from digest.issue_edit import append_entries, open_issue, render_entries  # noqa: E402

IDS = ["NCT03008590", "NCT02965768", "NCT02806440"]


def timed(fn, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    with tempfile.TemporaryDirectory() as tmp, Registry() as server:
        env = {**os.environ, "DIGEST_CTGOV_URL": server.url, "DIGEST_CACHE_DIR": tmp}
        command = [sys.executable, "-m", "digest", "trial", *IDS]

        def cold():
            subprocess.run([*command, "--refresh"], env=env, check=True, capture_output=True)

        def warm():
            subprocess.run(command, env=env, check=True, capture_output=True)

        def help_only():
            subprocess.run([sys.executable, "-m", "digest", "trial", "--help"], env=env, check=True, capture_output=True)

        print(f"digest trial --help (start-up)             {timed(help_only) * 1000:7.0f} ms")
        print(f"digest trial, 3 ids, fetched (local server) {timed(cold) * 1000:7.0f} ms")
        print(f"digest trial, 3 ids, from the cache        {timed(warm) * 1000:7.0f} ms")

    ids = [f"NCT0999{i:04d}" for i in range(12)]
    with tempfile.TemporaryDirectory() as tmp, Registry(delay=0.2) as slow:
        for nct_id in ids:
            study = copy.deepcopy(fixture("NCT03008590"))
            study["protocolSection"]["identificationModule"]["nctId"] = nct_id
            slow.study(study)

        def fetch_all():
            with ctgov.Client(slow.url, None) as client:
                client.studies(ids)

        took = timed(fetch_all, runs=3)
        print(f"12 ids, server answering in 200 ms each    {took * 1000:7.0f} ms (one at a time: {12 * 200} ms; "
              f"{ctgov.WORKERS} at once at most)")

    entry, _ = ctgov.entry_for(fixture("NCT03008590"))
    for count in (10, 300):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "issue.yaml"
            entries = [{**entry, "nct_id": f"NCT0888{i:04d}", "link": f"https://clinicaltrials.gov/study/NCT0888{i:04d}"}
                       for i in range(count)]
            path.write_text("subject: S\npreheader: P\ndate: 2024-06-04\nintro: I\nentries:\n" + render_entries(entries, gap=True),
                            encoding="utf-8")
            took = timed(lambda: append_entries(open_issue(path), [entry]))
            size = f"{count}-entry issue ({path.stat().st_size // 1024} KB)"
            print(f"append 1 entry to a {size:<23}{took * 1000:7.0f} ms (parse, insert, check)")

    news()


def news():
    """The whole commands in a newsletter folder, as an editor runs them: cold (every page and record fetched
    from a local server) and warm (the second run of the day: everything from the cache)."""
    studies = [make_study(f"NCT0777{i:04d}", "2024-01-02", f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                          title=f"Naltrexone study {i}", status="RECRUITING" if i % 3 else "COMPLETED") for i in range(1000)]
    with tempfile.TemporaryDirectory() as tmp, Registry(page_max=100) as server:
        root = Path(tmp)
        (root / "digest.toml").write_text('name = "N"\norganisation = "O"\nwebsite = "https://n.example/"\naddress = "A"\n')
        (root / "issues").mkdir()
        # 10 monthly issues of 10 entries each: the 100 trials --updates follows, each with the status readers got.
        for month in range(10):
            entries = "".join(f"  - institution: I\n    title: T\n    summary: S\n    link: https://clinicaltrials.gov/study/"
                              f"NCT0777{month * 10 + n:04d}\n    status: Recruiting\n" for n in range(10))
            (root / "issues" / f"2023-{month + 1:02d}.yaml").write_text(
                f"subject: S\npreheader: P\ndate: 2023-{month + 1:02d}-01\nintro: I\nentries:\n{entries}")
        server.add(*studies)
        env = {**os.environ, "DIGEST_CTGOV_URL": server.url, "DIGEST_CACHE_DIR": str(root / "cache")}

        def command(*args):
            done = subprocess.run([sys.executable, "-m", "digest", "trial", *args], cwd=root, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            return done

        for label, args, check in (
            ("--search … --new: 1,000 studies, 10 pages", ("--search", "naltrexone", "--new", "--since", "2024-01-01"),
             lambda out: out.stdout.count("\n") == 1000 - 100 + 1),  # less the 100 covered, plus the header
            ("--updates: 100 featured trials        ", ("--updates",), lambda out: out.stdout.count("\n") == 100),
        ):
            before = len(server.requests)
            start = time.perf_counter()
            cold = command(*args, "--refresh")
            cold_s = time.perf_counter() - start
            assert check(cold), cold.stdout[-500:]
            requests = len(server.requests) - before
            warm_s = timed(lambda: command(*args), runs=5)
            assert len(server.requests) - before == requests, "the warm runs asked the server"
            print(f"{label} cold {cold_s * 1000:6.0f} ms ({requests} requests), warm {warm_s * 1000:6.0f} ms (from the cache)")
        print(f"most requests in flight at once: {server.most_in_flight} (workers: {ctgov.WORKERS})")


if __name__ == "__main__":
    main()
