"""How heavy each built-in theme's email is: the sample, and the sample's three entries ten times over (30
entries), against Gmail's 102 KB clip. Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/theme_sizes.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"
CLIP = 102 * 1024


def thirty_entries(text: str) -> str:
    """The sample with its three entries ten times, each copy's words and links its own."""
    head, entries = text.split("entries:\n")
    entries, outro = entries.split("\noutro:", 1) if "\noutro:" in entries else (entries, None)
    copies = "".join(entries.replace("NCT0", f"NCT{i}").replace("Naltrexone for", f"Naltrexone (study {i}) for")
                     for i in range(10))
    return head + "entries:\n" + copies + (f"\noutro:{outro}" if outro is not None else "")


def main() -> None:
    sys.path.insert(0, str(REPO))
    import digest
    from digest.theme import builtin_themes

    work = Path(tempfile.mkdtemp(prefix="digest-sizes-"))
    try:
        print(f"{'theme':8} {'sample':>10} {'30 entries':>12} {'of the clip':>12} {'build (30)':>11}")
        for name in builtin_themes():
            letter = work / name
            shutil.copytree(REPO / "issues", letter / "issues")
            config = (REPO / "digest.toml").read_text(encoding="utf-8")
            (letter / "digest.toml").write_text(f'theme = "{name}"\n' + config, encoding="utf-8")
            sample = digest.build(letter / "issues" / SAMPLE.name)
            issue = letter / "issues" / "thirty.yaml"
            issue.write_text(thirty_entries(SAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
            digest.build(issue)
            start = time.perf_counter()
            big = digest.build(issue)
            elapsed = time.perf_counter() - start
            assert len(big.issue.entries) == 30
            size, big_size = len(sample.html.encode()), len(big.html.encode())
            print(f"{name:8} {size / 1024:8.1f} KB {big_size / 1024:10.1f} KB {big_size / CLIP:11.0%} {elapsed * 1000:8.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
