"""How long `digest check` takes: on the sample issue, and `--links` on 100 URLs served on this machine.

Run: python benchmarks/check.py   (prints numbers; asserts nothing)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"
sys.path.insert(0, str(REPO))


def median_ms(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def bench_offline() -> None:
    import digest
    from digest.checks import run_checks

    result = digest.build(SAMPLE)
    med, best = median_ms(lambda: run_checks(result), 50)
    print(f"checks only (sample, built once):         median {med:7.1f} ms   best {best:7.1f} ms   (50 runs)")
    med, best = median_ms(lambda: digest.build(SAMPLE), 10)
    print(f"build in memory + checks (sample):        median {med:7.1f} ms   best {best:7.1f} ms   (10 runs)")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "digest", "check", str(SAMPLE)], cwd=REPO, capture_output=True, check=False)
        times.append((time.perf_counter() - start) * 1000)
    print(f"`digest check SAMPLE`, new process:       median {statistics.median(times):7.1f} ms   best {min(times):7.1f} ms   (5 runs)")


class _Ok(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.server.count += 1
        time.sleep(0.005)  # a little server time, as a real site has
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(address: str) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer((address, 0), _Ok)
    httpd.daemon_threads = True
    httpd.count = 0
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def bench_links() -> None:
    from digest.links import DELAY, MAX_CONNECTIONS, PER_HOST, check_urls

    print(f"\n--links on 100 local URLs (defaults: {MAX_CONNECTIONS} connections, {PER_HOST} per host, {DELAY} s apart per host)")
    for hosts in (1, 10):
        servers = [serve(f"127.0.0.{i + 1}") for i in range(hosts)]
        urls = [f"http://{s.server_address[0]}:{s.server_address[1]}/page/{i}" for i in range(100 // hosts) for s in servers]
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder) / "links.json"
            start = time.perf_counter()
            results = check_urls(urls, cache_path=cache)
            first = time.perf_counter() - start
            requests = sum(s.count for s in servers)
            start = time.perf_counter()
            check_urls(urls, cache_path=cache)
            second = time.perf_counter() - start
        ok = sum(r.ok for r in results.values())
        print(f"  {hosts:2d} host(s): first run {first:6.2f} s ({ok}/100 ok, {requests} requests);"
              f" re-run from the cache {second * 1000:6.1f} ms ({sum(s.count for s in servers) - requests} requests)")
        for s in servers:
            s.shutdown()
            s.server_close()


if __name__ == "__main__":
    os.environ.setdefault("DIGEST_LINK_CACHE", os.path.join(tempfile.gettempdir(), "digest-bench-links.json"))
    bench_offline()
    bench_links()
