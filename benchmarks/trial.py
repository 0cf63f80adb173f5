"""How fast `digest trial` is: a cold fetch, a warm (offline) re-run, many ids at once, and a large issue.

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

from ctgov_server import Registry, fixture  # noqa: E402

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

if __name__ == "__main__":
    main()
