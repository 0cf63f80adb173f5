"""How long the platform work adds to a build: the sample issue built for each platform, the .eml made
from it, and the start-up of `digest send --help` (which must not import smtplib's users eagerly).

Run: .venv/bin/python benchmarks/platforms.py   (prints milliseconds; nothing is asserted)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"
RUNS = 7


def best_ms(fn) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    sys.path.insert(0, str(REPO))
    import digest
    from digest.eml import message_bytes
    from digest.platforms import PLATFORMS

    digest.build(SAMPLE)  # warm: imports, template compilation
    for name in PLATFORMS:
        low, mid = best_ms(lambda: digest.build(SAMPLE, platform=name))
        print(f"build sample for {name:17} best {low:6.1f} ms  median {mid:6.1f} ms")
    email = digest.build(SAMPLE, platform="mailchimp")
    low, mid = best_ms(lambda: message_bytes(email))
    print(f"email.eml from a built email       best {low:6.1f} ms  median {mid:6.1f} ms  ({len(message_bytes(email))} bytes)")
    for command in (["build", "--help"], ["send", "--help"]):
        low, mid = best_ms(lambda: subprocess.run([sys.executable, "-m", "digest", *command], capture_output=True, check=True))
        print(f"digest {' '.join(command):27} best {low:6.1f} ms  median {mid:6.1f} ms (whole process)")


if __name__ == "__main__":
    main()
