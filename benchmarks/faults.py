"""Bad input and faults, each met by a whole `digest` process: its wall time, its peak memory, and what it said.
Then timed races of `digest trial --issue` against an editor's save, and builds killed with SIGKILL.

    .venv/bin/python benchmarks/faults.py [--races 100] [--kills 100] [--checkout PATH] [--only WORDS]

Offline: a local server plays ClinicalTrials.gov and the misbehaving sites. Every child runs under a 4 GB
address-space limit and is killed after --limit seconds, so a checkout without the limits (--checkout PATH
runs `python -m digest` from PATH, e.g. an older commit) cannot take the machine down. Peak memory is the
child's own maximum resident set (wait4). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]

from ctgov_server import FIXTURES, RawServer, Registry  # noqa: E402

SAMPLE = REPO / "issues" / "2024-06-ldn-trials.yaml"
MEMORY_LIMIT = 4 * 1024**3
CLOSED = "http://127.0.0.1:9"  # a proxy nobody runs: any request for a real site fails at once, offline


@dataclass
class Run:
    seconds: float
    peak_mb: float
    code: int | None  # None: killed at the time limit
    stderr: str
    stdout: str

    def one_line(self) -> bool:
        return self.code == 1 and len(self.stderr.strip().splitlines()) == 1 and "Traceback" not in self.stderr


def _child_limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(args: list, cwd: Path, env: dict, limit: float) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "digest", *map(str, args)], cwd=cwd, env=env, stdout=out,
                                   stderr=err, stdin=subprocess.DEVNULL, preexec_fn=_child_limits)
        timer = threading.Timer(limit, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        out.seek(0), err.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, None if killed else process.returncode,
                   err.read().decode("utf-8", "replace"), out.read().decode("utf-8", "replace"))


def trickle():
    """Headers that never end, one byte at a time: every read gets a byte well within any per-read timeout."""
    yield from (bytes([b]) for b in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ")
    while True:
        yield b"x"


def flood():
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    for _ in range(1600):
        yield b" " * 65536


def chunks_for_ever():
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    while True:
        yield b"10000\r\n" + b" " * 0x10000 + b"\r\n"


class Letter:
    """A newsletter folder: the repository's digest.toml, the sample issue and its images."""

    def __init__(self, root: Path):
        self.root = root
        (root / "issues").mkdir(parents=True)
        shutil.copy(REPO / "digest.toml", root)
        shutil.copytree(REPO / "issues" / "images", root / "issues" / "images")
        self.issue = root / "issues" / "issue.yaml"
        self.text = SAMPLE.read_text(encoding="utf-8")
        self.issue.write_text(self.text, encoding="utf-8")


def bad_inputs(work: Path, api: Registry):
    """(name, command, set-up) for every bad input: set-up makes the newsletter folder bad and returns the args."""
    entry = "  - institution: A\n    title: T\n    summary: " + "x" * 100_000 + "\n    link: https://example.org/\n"

    def issue(text: str | bytes):
        def make(letter: Letter):
            data = text.encode() if isinstance(text, str) else text
            letter.issue.write_bytes(data)
            return ["build", "issues/issue.yaml"]
        return make

    def head(letter: Letter) -> str:
        return letter.text.split("entries:\n")[0]

    def fifo_issue(letter):
        letter.issue.unlink()
        os.mkfifo(letter.issue)
        return ["build", "issues/issue.yaml"]

    def fifo_config(letter):
        os.mkfifo(letter.root / "fifo.toml")
        return ["build", "issues/issue.yaml", "--config", "fifo.toml"]

    def zero_config(letter):
        return ["build", "issues/issue.yaml", "--config", "/dev/zero"]

    def huge_issue(letter):
        one = letter.text.split("entries:\n")[1]
        with open(letter.issue, "w", encoding="utf-8") as handle:
            handle.write(head(letter) + "entries:\n")
            while handle.tell() < 50 * 1024**2:
                handle.write(one)
        return ["build", "issues/issue.yaml"]

    def huge_config(letter):
        with open(letter.root / "digest.toml", "ab") as handle:
            handle.truncate(3 * 1024**3)
        return ["build", "issues/issue.yaml"]

    def aliases(letter):
        letter.issue.write_text(head(letter) + "entries:\n" + entry.replace("- institution", "- &e\n    institution")
                                + "  - *e\n" * 3000)
        return ["build", "issues/issue.yaml"]

    def laughs(letter):
        text = "subject: &a lol\n" + "".join(
            f"s{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
        letter.issue.write_text(text)
        return ["build", "issues/issue.yaml"]

    def alias_trial(letter):  # 9 levels of 9 aliases: 387 million conditions once expanded
        letter.issue.write_text(head(letter) + "entries:\n" + entry + "    conditions:\n      - &c0 x\n" + "".join(
            f"      - &c{i} [{', '.join([f'*c{i - 1}'] * 9)}]\n" for i in range(1, 10))
            + "  - institution: B\n    title: T\n    summary: s\n    link: https://example.org/\n    conditions: *c9\n")
        return ["trial", "NCT03008590", "--issue", "issues/issue.yaml"]

    def deep_yaml(letter):
        letter.issue.write_text(head(letter) + "entries:\n  - " + "- " * 3000 + "x\n")
        return ["build", "issues/issue.yaml"]

    def deep_yaml_trial(letter):
        letter.issue.write_text(letter.text + "    conditions:\n      - " + "- " * 3000 + "x\n")
        return ["trial", "NCT03008590", "--issue", "issues/issue.yaml"]

    def deep_toml(letter):
        (letter.root / "digest.toml").write_text("name = " + "[" * 5000 + "]" * 5000 + "\n")
        return ["build", "issues/issue.yaml"]

    def logo(content: bytes | None, name="bad.png", link_to: str | None = None):
        def make(letter):
            path = letter.root / "issues" / "images" / name
            if link_to:
                (letter.root / link_to).write_text("PASSWORD=hunter2\n")
                path.symlink_to(letter.root / link_to)
            elif content == b"FIFO":
                os.mkfifo(path)
            elif content is not None:
                path.write_bytes(content)
            src = "issue.yaml" if content is None and not link_to else f"images/{name}"
            letter.issue.write_text(letter.text.replace("images/va-boston.png", src, 1))
            return ["build", "issues/issue.yaml"]
        return make

    def study(answers: list[tuple[int, bytes, dict]], *extra):
        def make(letter):
            api.queued.clear()
            for status, body, headers in answers:
                api.queue("/api/v2/studies/NCT03008590", status, body, headers)
            return ["trial", "NCT03008590", "--refresh", *extra]
        return make

    json_type = {"Content-Type": "application/json"}
    untitled = json.loads((FIXTURES / "NCT03008590.json").read_text())
    del untitled["protocolSection"]["identificationModule"]["briefTitle"]
    del untitled["protocolSection"]["identificationModule"]["officialTitle"]
    port = api.url.rsplit(":", 1)[1]
    return [
        ("issue: a FIFO", fifo_issue),
        ("digest.toml: a FIFO", fifo_config),
        ("digest.toml: /dev/zero", zero_config),
        ("issue: 50 MB of entries", huge_issue),
        ("digest.toml: 3 GB (sparse)", huge_config),
        ("issue: 3,000 aliases of a 100 KB entry", aliases),
        ("issue: billion laughs (9 levels of 9 aliases)", laughs),
        ("trial --issue: alias bomb under conditions", alias_trial),
        ("issue: nested 3,000 deep", deep_yaml),
        ("trial --issue: issue nested 3,000 deep", deep_yaml_trial),
        ("digest.toml: nested 5,000 deep", deep_toml),
        ("issue: UTF-16", issue(SAMPLE.read_text(encoding="utf-8").encode("utf-16"))),
        ("issue: date 20240514", lambda letter: issue(letter.text.replace("2024-06-04", "20240514"))(letter)),
        ("issue: date 2024-W20-2", lambda letter: issue(letter.text.replace("2024-06-04", "2024-W20-2"))(letter)),
        ("logo: a text file", logo(b"just words\n", "notes.txt")),
        ("logo: the issue itself", logo(None)),
        ("logo: .env through a link in the folder", logo(b"", "env.png", link_to=".env")),
        ("logo: an empty file", logo(b"")),
        ("logo: 50 MB", logo(b"\x89PNG\r\n\x1a\n" + b"\0" * 50 * 1024**2)),
        ("logo: an SVG", logo(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo.svg")),
        ("logo: a FIFO", logo(b"FIFO", "pipe.png")),
        ("trial: study JSON nested 100,000 deep", study([(200, b'{"protocolSection": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", json_type)])),
        ("trial: Retry-After of 400 digits", study([(429, b"slow down", {"Retry-After": "9" * 400})])),
        ("trial: redirect to another host", study([(301, b"", {"Location": f"http://127.0.0.2:{port}/api/v2/studies/NCT03008590"})])),
        ("trial: a record with no title", study([(200, json.dumps(untitled).encode(), json_type)])),
        ("trial: 500 page of HTML", study([(500, b"<!DOCTYPE html>\n<html><body>Oops</body></html>", {"Content-Type": "text/html"})])),
    ]


def fault_cases(work: Path, api: Registry, trickling: RawServer, flooding: RawServer, endless: RawServer):
    def links(letter):
        letter.issue.write_text(letter.text.replace("https://clinicaltrials.gov/study/NCT03008590", "http://256.1.1.1/", 1)
                                .replace("https://clinicaltrials.gov/study/NCT02965768", "http://0177.0.0.1/", 1)
                                .replace("https://clinicaltrials.gov/study/NCT02806440", "https://xn--a.example/", 1))
        return ["check", "--links", "issues/issue.yaml"]

    def slow_link(letter):
        letter.issue.write_text(letter.text.replace("https://clinicaltrials.gov/study/NCT03008590", trickling.url + "/", 1))
        return ["check", "--links", "issues/issue.yaml"]

    def busy(header: str):
        def make(letter):
            api.queued.clear()
            api.queue("/api/v2/studies/NCT03008590", 503, "down", {"Retry-After": header})
            api.queue("/api/v2/studies/NCT03008590", 200, (FIXTURES / "NCT03008590.json").read_bytes(),
                      {"Content-Type": "application/json"})
            return ["trial", "NCT03008590", "--refresh"]
        return make

    return [
        ("trial: 503 with Retry-After '²', then 200", busy("²"), {}),
        ("trial: 503 with Retry-After 8, then 200", busy("8"), {}),
        ("check --links: 3 invalid addresses", links, {}),
        ("check --links: a site sending a byte every 0.5 s", slow_link, {}),
        ("trial: a server sending a byte every 0.5 s", lambda letter: ["trial", "NCT03008590", "--refresh"],
         {"DIGEST_CTGOV_URL": trickling.url}),
        ("trial: an answer of 100 MB (Content-Length)", lambda letter: ["trial", "NCT03008590", "--refresh"],
         {"DIGEST_CTGOV_URL": flooding.url}),
        ("trial: an endless answer (chunked)", lambda letter: ["trial", "NCT03008590", "--refresh"],
         {"DIGEST_CTGOV_URL": endless.url}),
    ]


def show(name: str, result: Run, work: Path) -> None:
    said = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "(nothing on stderr)"
    if name.startswith("check"):  # the findings go to stdout: the broken links, and the summary
        said = "; ".join(line for line in result.stdout.splitlines()
                         if "Checked" in line or ("link-broken" in line and "social[" not in line and "website" not in line))
    said = said.replace(str(work), "…")
    if result.code is None:
        verdict = "KILLED at the time limit"
    else:
        verdict = f"exit {result.code}, {len(result.stderr.strip().splitlines())} line(s)" + (
            ", TRACEBACK" if "Traceback" in result.stderr else "")
    print(f"{name:48s} {result.seconds:6.2f} s {result.peak_mb:7.0f} MB  {verdict}\n{'':48s} {said[:600]}")


def _bytes_read(pid: int) -> int:
    """What the process has read so far (Linux: rchar of /proc/PID/io), or -1 once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/io").read_text().split("rchar: ")[1].split()[0])
    except (OSError, IndexError):
        return -1


def save_races(count: int, work: Path, api: Registry, env: dict, limit: float) -> None:
    """The editor saves 0-250 ms after `digest trial` has read the issue again, once the study arrived: the
    moment a plain write-after-read loses the save."""
    letter = Letter(work / "races")
    entries = "".join(f"  - institution: Uni {i}\n    title: Trial {i}\n    summary: Words.\n"
                      f"    link: https://example.org/{i}\n" for i in range(1000))
    base = letter.text.split("entries:\n")[0] + "entries:\n" + entries  # without the sample's trials: one gets added
    api.queued.clear()
    lost = failed = running = 0
    times = []
    rng = random.Random(11)
    for race in range(count):
        letter.issue.write_text(base)
        api.requests.clear()
        api.hold.clear()
        api.answered.clear()
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--refresh", "--issue",
                                    letter.issue], cwd=letter.root, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, preexec_fn=_child_limits)
        while not api.requests and process.poll() is None:
            time.sleep(0.002)
        before = _bytes_read(process.pid)
        api.hold.set()
        if not api.answered.wait(limit):
            raise SystemExit(f"race {race}: the study was never asked for: {process.communicate()[1]}")
        while 0 <= _bytes_read(process.pid) < before + len(base) and process.poll() is None:
            time.sleep(0.0005)  # until it has read the issue again
        time.sleep(rng.uniform(0, 0.25))
        running += process.poll() is None
        note = f"# the editor's save in race {race}\n"
        letter.issue.write_text(letter.issue.read_text() + note)
        try:
            _, stderr = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        times.append(time.monotonic() - started)
        text = letter.issue.read_text()
        lost += note not in text
        failed += process.returncode != 0 or text.count("nct_id: NCT03008590") != 1
    print(f"{count} timed save races (a 1,000-entry issue, saved 0-250 ms after trial read it again; {running} saves "
          f"while trial still ran): {lost} saves lost, {failed} runs without exactly one new entry; "
          f"median {statistics.median(times):.2f} s a race")


def files_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def hidden(build: Path) -> list[str]:
    """What builds left in build/ under a hidden name: a staging folder, an old build."""
    return sorted(p.name for p in build.iterdir() if p.name.startswith("."))


def kills(count: int, work: Path, env: dict, limit: float) -> None:
    """Each build is killed a random 0-30 ms after its hidden staging folder appears: inside the writer."""
    letter = Letter(work / "kills")
    build = letter.root / "build"
    command = [sys.executable, "-m", "digest", "build", "issues/issue.yaml"]
    subprocess.run(command, cwd=letter.root, env=env, capture_output=True)
    expected = files_of(build / "issue")
    missing = incomplete = inside = finished = 0
    rng = random.Random(11)
    for _ in range(count):
        process = subprocess.Popen(command, cwd=letter.root, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, preexec_fn=_child_limits)
        while process.poll() is None and not hidden(build):
            time.sleep(0.0002)
        time.sleep(rng.uniform(0, 0.03))
        process.kill()
        finished += process.wait(limit) == 0
        inside += bool(hidden(build))  # the killed build left its hidden folder
        if not (build / "issue").is_dir():
            missing += 1
            continue
        found = files_of(build / "issue")
        incomplete += found != expected
    subprocess.run(command, cwd=letter.root, env=env, capture_output=True)
    strays = hidden(build)
    print(f"{count} builds killed with SIGKILL 0-30 ms after their staging folder appeared ({finished} had finished "
          f"first, {inside} left a hidden folder): {missing} without build/issue/, {incomplete} with it incomplete; "
          f"the next build left {len(strays)} hidden folder(s){': ' + ', '.join(strays) if strays else ''}")


def swap_kills(count: int, work: Path, env: dict, limit: float) -> None:
    """Each build is killed right after the first rename of its swap: strace, attached to it, holds every
    rename 0.3 s on its way back, and the build is killed as soon as build/issue/ is moved or replaced."""
    if not shutil.which("strace"):
        print("strace not found: the kills between the swap's steps are skipped")
        return
    letter = Letter(work / "swap-kills")
    build = letter.root / "build"
    command = [sys.executable, "-m", "digest", "build", "issues/issue.yaml"]
    subprocess.run(command, cwd=letter.root, env=env, capture_output=True)
    expected = files_of(build / "issue")
    missing = incomplete = caught = 0
    renames = "rename,renameat,renameat2"
    for _ in range(count):
        before = (build / "issue").stat().st_ino
        process = subprocess.Popen(command, cwd=letter.root, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, preexec_fn=_child_limits)
        tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", os.devnull, "-p", str(process.pid), "-e",
                                   f"trace={renames}", "-e", f"inject={renames}:delay_exit=300000"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None:
            try:
                if (build / "issue").stat().st_ino != before:
                    break
            except FileNotFoundError:
                break
            time.sleep(0.0005)
        caught += process.poll() is None
        process.kill()
        process.wait(limit)
        tracer.wait(limit)
        if not (build / "issue").is_dir():
            missing += 1
            subprocess.run(command, cwd=letter.root, env=env, capture_output=True)  # for the next round
            continue
        found = files_of(build / "issue")
        incomplete += found != expected
    subprocess.run(command, cwd=letter.root, env=env, capture_output=True)
    strays = hidden(build)
    print(f"{count} builds killed with SIGKILL right after the first rename of the swap ({caught} caught there, "
          f"before they ended): {missing} without build/issue/, {incomplete} with it incomplete; the next build "
          f"left {len(strays)} hidden folder(s){': ' + ', '.join(strays[:3]) if strays else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=100)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a child is killed")
    parser.add_argument("--checkout", help="run `python -m digest` from this folder instead of this repository")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digest-faults-"))
    trickling, flooding, endless = RawServer(trickle, 0.5), RawServer(flood, 0), RawServer(chunks_for_ever, 0)
    try:
        with Registry() as api:
            env = {**os.environ, "DIGEST_CTGOV_URL": api.url, "DIGEST_CACHE_DIR": str(work / "cache"),
                   "DIGEST_LINK_CACHE": str(work / "links.json"), "HTTP_PROXY": CLOSED, "HTTPS_PROXY": CLOSED,
                   "NO_PROXY": "127.0.0.1", "PYTHONPATH": args.checkout or str(REPO)}
            print(f"digest from {args.checkout or REPO}; each case a whole process (limit {args.limit:g} s, 4 GB)\n")
            print("Bad input (each must be: exit 1, one line, <= 5 s, <= 300 MB)")
            worst = []
            for number, (name, make) in enumerate(bad_inputs(work, api)):
                if args.only and args.only not in name:
                    continue
                letter = Letter(work / f"case-{number}")
                result = run(make(letter), letter.root, env, args.limit)
                show(name, result, work)
                worst.append((result.seconds, result.peak_mb, result.one_line(), name))
            if worst:
                ok = [w for w in worst if w[2] and w[0] <= 5 and w[1] <= 300]
                print(f"\n{len(ok)} of {len(worst)} bad inputs answered with one line and exit 1 within 5 s and 300 MB; "
                      f"slowest {max(w[0] for w in worst):.2f} s, most memory {max(w[1] for w in worst):.0f} MB")
            print("\nFaults of the network")
            for number, (name, make, extra) in enumerate(fault_cases(work, api, trickling, flooding, endless)):
                if args.only and args.only not in name:
                    continue
                letter = Letter(work / f"fault-{number}")
                show(name, run(make(letter), letter.root, {**env, **extra}, args.limit), work)
            if not args.only:
                print()
                save_races(args.races, work, api, env, args.limit)
                kills(args.kills, work, env, args.limit)
                swap_kills(args.kills, work, env, args.limit)
    finally:
        for server in (trickling, flooding, endless):
            server.__exit__()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
