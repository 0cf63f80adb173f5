"""Hostile and broken input, each answered by a real `digest` process with one line and exit 1, in seconds:
FIFOs, devices, huge files, YAML alias bombs, deep nesting (YAML, TOML, JSON), files that are not what they
claim. And the editor's own file under `digest trial --issue`: a save is never lost, a symlink stays one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from ctgov_server import FIXTURES, RawServer, Registry, fixture

SECONDS = 10  # far beyond what any case takes: past it, the case hung


def digest(*args, cwd, env=None):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "digest", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=SECONDS)
    done.seconds = time.monotonic() - started
    return done


def in_process(*args, cwd):
    """`digest ARGS` run by Click in this process: for the cases where a hang or a crash is not what is tested."""
    from click.testing import CliRunner

    from digest.cli import cli

    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, [str(a) for a in args])
    finally:
        os.chdir(old)
    result.returncode = result.exit_code
    return result


def one_line(done, expected: str) -> None:
    """Exit 1 and exactly `expected` (the one line, without its newline) on stderr."""
    assert (done.returncode, done.stderr) == (1, expected + "\n"), done.stderr[-2000:]


# --- issue and digest.toml ------------------------------------------------------------------------------------

def test_an_issue_that_is_a_fifo_is_not_read_and_does_not_hang(newsletter):
    os.mkfifo(newsletter.root / "issues" / "fifo.yaml")
    one_line(digest("build", "issues/fifo.yaml", cwd=newsletter.root), "issues/fifo.yaml: is not a regular file (a pipe or a device?)")
    done = digest("check", "issues/fifo.yaml", cwd=newsletter.root)
    assert (done.returncode, done.stdout.splitlines()[0]) == (
        1, "issues/fifo.yaml: error: is not a regular file (a pipe or a device?) [build-error]")


@pytest.mark.parametrize("command", [("build",), ("archive", "--no-feed")])
@pytest.mark.parametrize("make", ["fifo", "device", "huge"])
def test_a_config_that_is_a_fifo_a_device_or_huge_is_one_line(newsletter, make, command):
    config = newsletter.root / "odd.toml"
    if make == "fifo":
        os.mkfifo(config)
        expected = "odd.toml: is not a regular file (a pipe or a device?)"
    elif make == "device":
        config = "/dev/zero"
        expected = "/dev/zero: is not a regular file (a pipe or a device?)"
    else:
        with open(config, "wb") as handle:
            handle.truncate(3 * 1024**3)  # sparse: 3 GB that take no disk
        expected = "odd.toml: is 3072 MB: digest reads files of at most 1 MB"
    one_line(digest(*command, "issues/test-issue.yaml", "--config", config, cwd=newsletter.root), expected)
    assert not (newsletter.root / "site").exists()


def test_the_archive_of_an_issue_that_is_a_fifo_or_huge_says_so_and_does_not_hang(newsletter):
    # The archive fingerprints its inputs before it reads them as issues: that read is bounded too.
    os.mkfifo(newsletter.root / "issues" / "fifo.yaml")
    with open(newsletter.root / "issues" / "huge.yaml", "wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: 3 GB that take no disk
    done = digest("archive", "--no-feed", "issues/fifo.yaml", "issues/huge.yaml", cwd=newsletter.root)
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        "issues/fifo.yaml: is not a regular file (a pipe or a device?)",
        "issues/huge.yaml: is 3072 MB: digest reads files of at most 1 MB",
        "2 of 2 issues could not be read, so nothing was written",
    ]), done.stderr[-2000:]
    assert not (newsletter.root / "site").exists()


def test_a_huge_issue_is_refused_before_it_is_read(newsletter):
    with open(newsletter.issue, "ab") as handle:
        handle.truncate(50 * 1024**2)
    one_line(digest("build", "issues/test-issue.yaml", cwd=newsletter.root), "issues/test-issue.yaml: is 50 MB: digest reads files of at most 1 MB")


LAUGHS = "subject: &a lol\n" + "".join(f"s{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))


@pytest.mark.parametrize("text, line, problem", [
    (LAUGHS, 2, "YAML syntax: '*a' repeats another part of the file (a YAML alias), which an issue may not do: write the text out"),
    ("subject: s\nentries:\n  - " + "- " * 3000 + "x\n", 3, "YAML syntax: nested more than 32 levels deep"),
    ("subject: " + "[" * 100 + "]" * 100 + "\n", 1, "YAML syntax: nested more than 32 levels deep"),
])
def test_yaml_alias_bombs_and_deep_nesting_are_one_line(newsletter, text, line, problem):
    newsletter.issue.write_text(text, encoding="utf-8")
    one_line(digest("build", "issues/test-issue.yaml", cwd=newsletter.root), f"issues/test-issue.yaml:{line}: {problem}")


def test_toml_nested_deep_is_one_line(newsletter):
    newsletter.config.write_text("name = " + "[" * 5000 + "]" * 5000 + "\n")
    one_line(digest("build", "issues/test-issue.yaml", cwd=newsletter.root),
             "digest.toml: is not valid TOML: lists or tables nested too deep")


@pytest.mark.parametrize("make, problem", [
    ("fifo", "is not a regular file (a pipe or a device?)"),
    ("device", "is not a regular file (a pipe or a device?)"),
    ("deep", "is not valid TOML: lists or tables nested too deep"),
])
def test_the_preview_shows_a_config_that_is_a_fifo_a_device_or_nested_deep_and_does_not_hang(newsletter, make, problem):
    # The preview looks for the theme in digest.toml before it builds: that read must be bounded too.
    import selectors

    config = newsletter.root / "odd.toml"
    if make == "fifo":
        os.mkfifo(config)
    elif make == "device":
        config = Path("/dev/zero")
    else:
        config.write_text("name = " + "[" * 5000 + "]" * 5000 + "\n")
    process = subprocess.Popen([sys.executable, "-m", "digest", "preview", "issues/test-issue.yaml", "--no-open",
                                "--port", "0", "--config", str(config)], cwd=newsletter.root, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=SECONDS), "the preview never started"
        assert " at http://127.0.0.1:" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=SECONDS)
        except subprocess.TimeoutExpired:  # stuck in a read that Ctrl-C does not end: the failure this test is for
            process.kill()
            _, err = process.communicate()
    shown = config.name if make != "device" else str(config)
    assert "Traceback" not in err
    assert f"{shown}: {problem}  (shown in the page too; fix it and save again)" in err


@pytest.mark.parametrize("opening", ["", "# An issue … made by digest new\n"])
def test_a_utf16_issue_is_named_as_utf16(newsletter, opening):
    # The starter's first line has a '…': its second byte is not zero, and the file was "binary data".
    newsletter.issue.write_bytes((opening + newsletter.issue.read_text()).encode("utf-16"))
    one_line(in_process("build", "issues/test-issue.yaml", cwd=newsletter.root),
             "issues/test-issue.yaml: is UTF-16 text: save it as UTF-8 in your editor")


@pytest.mark.parametrize("date, problem", [("2024-11-31", "November 2024 has 30 days"), ("2023-02-29", "February 2023 has 28 days"),
                                           ("2024-13-01", "there is no month 13 (write it as YYYY-MM-DD)"),
                                           ("2024-11-00", "days start at 1 (write it as YYYY-MM-DD)")])
def test_a_date_written_as_asked_that_is_no_day_says_why(newsletter, date, problem):
    from digest.config import load_config
    from digest.exceptions import IssueError
    from digest.reader import read_issue

    newsletter.issue.write_text(newsletter.issue.read_text().replace("2024-05-14", date))
    with pytest.raises(IssueError) as info:
        read_issue(newsletter.issue, load_config(newsletter.config))
    assert info.value.__str__().endswith(f":3: date: '{date}' is not a date: {problem}")


def test_an_issue_named_without_yaml_asks_if_the_file_with_it_was_meant(newsletter):
    one_line(in_process("build", "issues/test-issue", cwd=newsletter.root),
             "issues/test-issue: no such issue file: did you mean issues/test-issue.yaml?")


@pytest.mark.parametrize("date", ["20240514", "2024-W20-2", "2024-05-14T00:00"])
def test_a_date_is_yyyy_mm_dd_only(newsletter, date):
    from digest.config import load_config
    from digest.exceptions import IssueError
    from digest.reader import read_issue

    newsletter.issue.write_text(newsletter.issue.read_text().replace("2024-05-14", date))
    with pytest.raises(IssueError) as info:
        read_issue(newsletter.issue, load_config(newsletter.config))
    assert info.value.__str__().endswith(f":3: date: '{date}' is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14")


# --- logos ------------------------------------------------------------------------------------------------------

PNG = (REPO / "issues" / "images" / "uab.png").read_bytes()


@pytest.mark.parametrize("name, content, problem", [
    ("notes.txt", b"just some words\n", "is not a PNG, JPEG, GIF or WebP image"),
    ("secrets.txt", b"API_KEY=sk-123\n", "is not a PNG, JPEG, GIF or WebP image"),
    ("empty.png", b"", "is an empty file"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "is an SVG, which most email programs do not show: export it as a PNG"),
    ("sneaky.png", b'<?xml version="1.0"?><svg/>', "is an SVG, which most email programs do not show: export it as a PNG"),
    ("huge.png", PNG + b"\0" * (2 * 1024 * 1024), "is 2 MB: an image in an email may be at most 1 MB (under 200 KB is best: export it smaller)"),
    ("just-over.png", PNG + b"\0" * (1024 * 1024), "is 1,054,996 bytes: an image in an email may be at most 1 MB (under 200 KB is best: export it smaller)"),
    ("test-issue.yaml", None, "is not a PNG, JPEG, GIF or WebP image"),  # the issue itself
])
def test_only_a_real_image_of_at_most_1_mb_is_a_logo(newsletter, name, content, problem):
    src = name if content is None else f"images/{name}"
    if content is not None:
        (newsletter.root / "issues" / src).write_bytes(content)
    newsletter.issue.write_text(newsletter.issue.read_text().replace("images/logo.png", src))
    done = in_process("build", "issues/test-issue.yaml", cwd=newsletter.root)
    one_line(done, f"issues/test-issue.yaml:9: entries[1].logo: the image '{src}' {problem}")
    assert not (newsletter.root / "build").exists()


def test_a_link_inside_the_folder_to_a_secret_is_not_a_logo(newsletter):
    (newsletter.root / ".env").write_text("PASSWORD=hunter2\n")
    (newsletter.root / "issues" / "images" / "logo.png").unlink()
    (newsletter.root / "issues" / "images" / "logo.png").symlink_to(newsletter.root / ".env")
    one_line(in_process("build", "issues/test-issue.yaml", cwd=newsletter.root),
             "issues/test-issue.yaml:9: entries[1].logo: the image 'images/logo.png' is not a PNG, JPEG, GIF or WebP image")


def test_a_logo_that_is_a_fifo_does_not_hang(newsletter):
    os.mkfifo(newsletter.root / "issues" / "images" / "pipe.png")
    newsletter.issue.write_text(newsletter.issue.read_text().replace("images/logo.png", "images/pipe.png"))
    one_line(digest("build", "issues/test-issue.yaml", cwd=newsletter.root),
             "issues/test-issue.yaml:9: entries[1].logo: the image 'images/pipe.png' is not a regular file")


def test_the_config_logo_is_held_to_the_same_rule(newsletter):
    (newsletter.root / "notes.txt").write_text("words")
    newsletter.config.write_text(newsletter.config.read_text().replace(
        'asset_base_url', 'logo = { src = "notes.txt", alt = "Logo" }\nasset_base_url'))
    one_line(in_process("build", "issues/test-issue.yaml", cwd=newsletter.root),
             "digest.toml:5: logo.src: the image 'notes.txt' is not a PNG, JPEG, GIF or WebP image")


@pytest.mark.parametrize("header", [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 "])
def test_png_jpeg_gif_and_webp_are_logos_and_past_200_kb_check_warns(newsletter, header):
    from click.testing import CliRunner

    from digest.cli import cli

    (newsletter.root / "issues" / "images" / "logo.png").write_bytes(header + b"\0" * 300 * 1024)
    result = CliRunner().invoke(cli, ["check", str(newsletter.issue)])
    assert result.exit_code == 0, result.output
    assert (f"{newsletter.issue}:9: entries[1].logo: warning: the image issues/images/logo.png is 300 KB: slow to load on "
            "a phone; export it under 200 KB [image-heavy]") in result.output.splitlines()


# --- digest trial --issue: the editor's file ---------------------------------------------------------------------

@pytest.fixture
def registry(tmp_path):
    with Registry() as server:
        server.env = {"DIGEST_CTGOV_URL": server.url, "DIGEST_CACHE_DIR": str(tmp_path / "cache")}
        yield server


EDITOR_LINE = "# the editor's own note, saved while digest trial ran\n"


def _stopped(process: subprocess.Popen) -> None:
    """Wait until `process` has stopped itself (SIGSTOP at its DIGEST_STOP_AT point)."""
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "digest never reached the point the test stops it at"


def test_a_save_between_reading_and_replacing_the_issue_is_kept_and_the_entry_added(newsletter, registry):
    process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                               env={**os.environ, **registry.env, "DIGEST_STOP_AT": "edit-swap"}, text=True,
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    _stopped(process)  # the entry is staged, the issue not yet replaced: now the editor saves
    newsletter.issue.write_text(newsletter.issue.read_text() + EDITOR_LINE)
    os.kill(process.pid, signal.SIGCONT)
    _stopped(process)  # the merge: read again, entries appended to the saved text, stopped at the same point
    os.kill(process.pid, signal.SIGCONT)
    _, stderr = process.communicate(timeout=SECONDS)
    assert process.returncode == 0, stderr
    text = newsletter.issue.read_text()
    assert EDITOR_LINE in text and "nct_id: NCT03008590" in text
    assert [e.get("nct_id") for e in yaml.safe_load(text)["entries"]] == [None, "NCT03008590"]


def test_a_second_save_while_the_first_is_swapped_back_is_the_one_kept(newsletter, registry):
    # Save 1 lands before the exchange, save 2 on digest's text after it: swapping save 1 back took out save
    # 2, which was then deleted, and digest said all was well.
    process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                               env={**os.environ, **registry.env, "DIGEST_STOP_AT": "edit-compared,edit-exchanged"},
                               text=True, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    first = newsletter.issue.read_text()

    def save(line: str) -> None:  # as editors save: a whole new file renamed over the old one
        saved = newsletter.issue.with_name(".saved-by-the-editor")
        saved.write_text(first + line)
        saved.rename(newsletter.issue)

    _stopped(process)  # compared, not yet exchanged
    save("# save 1\n")
    os.kill(process.pid, signal.SIGCONT)
    _stopped(process)  # exchanged: save 1 is out, digest's text in
    save("# save 1\n# save 2\n")
    os.kill(process.pid, signal.SIGCONT)
    while process.poll() is None:  # the merge into save 2 goes through the same two points
        try:
            _, status = os.waitpid(process.pid, os.WUNTRACED)
        except ChildProcessError:
            break
        if os.WIFSTOPPED(status):
            os.kill(process.pid, signal.SIGCONT)
        else:
            process.returncode = os.waitstatus_to_exitcode(status)
            break
    _, stderr = process.communicate(timeout=SECONDS)
    assert process.returncode == 0, stderr
    text = newsletter.issue.read_text()
    assert "# save 2" in text and "nct_id: NCT03008590" in text, text


def test_a_save_between_the_last_look_and_the_swap_is_swapped_back_and_the_entry_added(newsletter, registry):
    # The narrowest window: digest has compared the file with what it read, and not yet swapped it. A save
    # there was overwritten; now the swap takes it out, sees it is not what was read, and puts it back.
    process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                               env={**os.environ, **registry.env, "DIGEST_STOP_AT": "edit-compared"}, text=True,
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    _stopped(process)
    saved = newsletter.issue.with_name(".saved-by-the-editor")
    saved.write_text(newsletter.issue.read_text() + EDITOR_LINE)
    os.replace(saved, newsletter.issue)  # as editors save: a new file renamed over the old
    os.kill(process.pid, signal.SIGCONT)
    _stopped(process)  # swapped back, read again, the entries added to the save: at the same point again
    os.kill(process.pid, signal.SIGCONT)
    _, stderr = process.communicate(timeout=SECONDS)
    assert process.returncode == 0, stderr
    text = newsletter.issue.read_text()
    assert EDITOR_LINE in text and text.count("nct_id: NCT03008590") == 1
    assert [p.name for p in newsletter.issue.parent.iterdir() if p.name.startswith(".")] == []


def test_two_trials_added_to_one_issue_at_once_are_both_kept(newsletter, registry):
    # Each read the issue, added its entry and swapped it in: the second's swap replaced the first's entry.
    first = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                             env={**os.environ, **registry.env, "DIGEST_STOP_AT": "edit-compared"}, text=True,
                             stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    _stopped(first)  # holding its turn, about to swap
    second = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT02806440", "--issue", newsletter.issue],
                              env={**os.environ, **registry.env}, text=True, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    time.sleep(1)  # the second has its study and waits for its turn
    assert second.poll() is None
    os.kill(first.pid, signal.SIGCONT)
    for process in (first, second):
        _, stderr = process.communicate(timeout=SECONDS)
        assert process.returncode == 0, stderr
    assert [e.get("nct_id") for e in yaml.safe_load(newsletter.issue.read_text())["entries"]] == [None, "NCT03008590", "NCT02806440"]


def test_a_file_just_past_the_limit_says_by_how_much(newsletter):
    from digest.files import MAX_INPUT_BYTES

    newsletter.issue.write_bytes(b"#" * (MAX_INPUT_BYTES + 1000))  # "is 1 MB: … at most 1 MB" said nothing
    one_line(digest("build", "issues/test-issue.yaml", cwd=newsletter.root),
             "issues/test-issue.yaml: is 1,049,576 bytes: digest reads files of at most 1 MB")


def test_what_a_killed_edit_left_is_cleared_by_a_later_one(newsletter, registry):
    process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                               env={**os.environ, **registry.env, "DIGEST_STOP_AT": "edit-swap"})
    _stopped(process)
    process.kill()
    process.wait()
    [left] = [p for p in newsletter.issue.parent.iterdir() if p.name.startswith(f".{newsletter.issue.name}.")]
    os.utime(left, (time.time() - 7200,) * 2)  # two hours on: no digest is still writing it
    mine = newsletter.issue.with_name(f".{newsletter.issue.name}.original")  # the editor's, eight letters too
    mine.write_text("the editor's\n")
    os.utime(mine, (time.time() - 7200,) * 2)
    result = subprocess.run([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                            env={**os.environ, **registry.env}, capture_output=True, text=True, timeout=SECONDS)
    assert result.returncode == 0, result.stderr
    assert not left.exists() and mine.read_text() == "the editor's\n"


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root reads any folder; setpriv drops that")
def test_an_issue_in_a_folder_that_cannot_be_listed_is_still_edited(newsletter, registry):
    # Taking a turn opens the folder, which a folder of mode 0333 (written, not read) refused: a traceback.
    as_user = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    folder = newsletter.issue.parent
    folder.chmod(0o333)
    try:
        result = subprocess.run([*as_user, sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue",
                                 newsletter.issue], env={**os.environ, **registry.env}, capture_output=True, text=True,
                                timeout=SECONDS)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "nct_id: NCT03008590" in newsletter.issue.read_text()


def test_a_read_only_issue_is_not_changed(newsletter, registry):
    newsletter.issue.chmod(0o444)  # an issue already sent, kept as it went out
    before = newsletter.issue.read_bytes()
    result = subprocess.run([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                            env={**os.environ, **registry.env}, capture_output=True, text=True, timeout=SECONDS)
    assert result.returncode == 1
    assert result.stderr == (f"{newsletter.issue}: is read-only: nothing was written (make it writable first, if "
                             "digest may change it)\n")
    assert newsletter.issue.read_bytes() == before


def test_an_issue_is_never_grown_past_what_digest_reads(newsletter, registry):
    from digest.files import MAX_INPUT_BYTES

    text = newsletter.issue.read_text()
    newsletter.issue.write_text(text + "#" * (MAX_INPUT_BYTES - len(text.encode()) - 200) + "\n")
    before = newsletter.issue.read_bytes()
    result = subprocess.run([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                            env={**os.environ, **registry.env}, capture_output=True, text=True, timeout=SECONDS)
    assert result.returncode == 1, result.stderr
    assert "past the 1 MB digest reads: nothing was written; start a new issue for the rest" in result.stderr
    assert newsletter.issue.read_bytes() == before


def test_an_issue_that_keeps_changing_is_left_as_the_editor_saved_it(newsletter, registry):
    process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--issue", newsletter.issue],
                               env={**os.environ, **registry.env, "DIGEST_STOP_AT": "edit-swap"}, text=True,
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    for save in range(5):
        _stopped(process)
        newsletter.issue.write_text(newsletter.issue.read_text() + f"# save {save}\n")
        os.kill(process.pid, signal.SIGCONT)
    _, stderr = process.communicate(timeout=SECONDS)
    assert process.returncode == 1
    assert stderr == (f"{newsletter.issue}: changed 5 times while digest was adding the trials; nothing was written: "
                      "run digest trial again\n")
    assert newsletter.issue.read_text().endswith("# save 3\n# save 4\n") and "NCT03008590" not in newsletter.issue.read_text()


def _bytes_read(pid: int) -> int:
    """What the process has read so far (rchar of /proc/PID/io), or -1 once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/io").read_text().split("rchar: ")[1].split()[0])
    except (OSError, IndexError):
        return -1


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="watches the process's reads in Linux's /proc")
def test_a_save_right_after_the_study_arrives_is_never_lost(newsletter, registry):
    """The timed race of the bug report: the server holds its answer, lets it go, and the editor saves just after
    trial has read the issue again, while it works on its entries."""
    entries = "".join(f"  - institution: Uni {i}\n    title: Trial {i}\n    summary: Words.\n"
                      f"    link: https://example.org/{i}\n" for i in range(300))  # a long issue: a longer window
    newsletter.issue.write_text(newsletter.issue.read_text() + entries)
    for delay in (0.0, 0.02, 0.05):
        before = newsletter.issue.read_text()
        registry.hold.clear()
        registry.answered.clear()
        process = subprocess.Popen([sys.executable, "-m", "digest", "trial", "NCT03008590", "--refresh", "--issue",
                                    newsletter.issue], cwd=newsletter.root, env={**os.environ, **registry.env},
                                   stderr=subprocess.PIPE, text=True)
        while not registry.requests:
            time.sleep(0.005)
        read = _bytes_read(process.pid)
        registry.hold.set()
        assert registry.answered.wait(SECONDS)
        while 0 <= _bytes_read(process.pid) < read + len(before) and process.poll() is None:
            time.sleep(0.0005)  # until trial has read the issue again
        time.sleep(delay)
        note = f"# saved {delay} s after trial read the issue again\n"
        newsletter.issue.write_text(newsletter.issue.read_text() + note)
        _, stderr = process.communicate(timeout=SECONDS)
        assert process.returncode == 0, stderr
        text = newsletter.issue.read_text()
        assert note in text, f"the save {delay} s after trial read the issue was lost"
        assert text.count("nct_id: NCT03008590") == 1
        newsletter.issue.write_text(before)  # without the entry, for the next race
        registry.requests.clear()


def test_a_symlinked_issue_stays_a_link_and_its_file_keeps_mode_and_owner(newsletter, registry, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from digest.cli import cli

    real = tmp_path / "elsewhere" / "real.yaml"
    real.parent.mkdir()
    newsletter.issue.rename(real)
    newsletter.issue.symlink_to(real)
    os.chmod(real, 0o640)
    if os.geteuid() == 0:
        os.chown(real, 4321, 4322)
    for name, value in registry.env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["trial", "NCT03008590", "--issue", str(newsletter.issue)])
    assert result.exit_code == 0, result.output
    assert newsletter.issue.is_symlink() and newsletter.issue.readlink() == real
    assert "nct_id: NCT03008590" in real.read_text()
    info = real.stat()
    assert oct(info.st_mode & 0o777) == "0o640"
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (4321, 4322)
    assert [p.name for p in real.parent.iterdir()] == ["real.yaml"]  # no staging file left beside it


@pytest.mark.parametrize("where", ["conditions", "summary"])
def test_trial_refuses_an_alias_bomb_before_fetching(newsletter, registry, where):
    bomb = LAUGHS.replace("subject", "x-subject") + newsletter.issue.read_text()
    if where == "conditions":
        bomb += "    conditions: *j\n"
    newsletter.issue.write_text(bomb)
    done = digest("trial", "NCT03008590", "--issue", newsletter.issue, cwd=newsletter.root, env=registry.env)
    one_line(done, "issues/test-issue.yaml:2: YAML syntax: '*a' repeats another part of the file (a YAML alias), which an "
                   "issue may not do: write the text out; fix it before adding trials")
    assert registry.requests == []


def test_trial_refuses_an_issue_nested_3000_deep(newsletter, registry):
    newsletter.issue.write_text(newsletter.issue.read_text() + "    conditions:\n      - " + "- " * 3000 + "x\n")
    done = digest("trial", "NCT03008590", "--issue", newsletter.issue, cwd=newsletter.root, env=registry.env)
    one_line(done, "issues/test-issue.yaml:16: YAML syntax: nested more than 32 levels deep; fix it before adding trials")


def test_trial_on_a_fifo_issue_is_one_line(tmp_path, registry):
    os.mkfifo(tmp_path / "fifo.yaml")
    done = digest("trial", "NCT03008590", "--issue", tmp_path / "fifo.yaml", cwd=tmp_path, env=registry.env)
    one_line(done, "fifo.yaml: is not a regular file (a pipe or a device?)")


# --- study records --------------------------------------------------------------------------------------------

def test_a_study_nested_deep_is_one_line_from_the_server_and_from_the_cache(tmp_path, registry):
    deep = '{"protocolSection": ' + "[" * 100_000 + "]" * 100_000 + "}"
    registry.queue("/api/v2/studies/NCT03008590", 200, deep, {"Content-Type": "application/json"})
    done = digest("trial", "NCT03008590", cwd=tmp_path, env=registry.env)
    one_line(done, "ClinicalTrials.gov sent something that is not a study record for NCT03008590; try again later")
    cache = tmp_path / "cache" / "ctgov"
    assert not cache.exists() or not list(cache.iterdir())
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "NCT02965768.json").write_text(deep)  # a damaged copy is fetched again
    done = digest("trial", "NCT02965768", cwd=tmp_path, env=registry.env)
    assert done.returncode == 0, done.stderr
    assert json.loads((cache / "NCT02965768.json").read_text()) == fixture("NCT02965768")


# --- HTTP: answers that trickle, flood, redirect away or ask to wait ------------------------------------------

def byte_by_byte(data: bytes):
    return lambda: (data[i:i + 1] for i in range(len(data)))


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60000\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n"


@pytest.mark.parametrize("chunks", [byte_by_byte(HEAD), lambda: iter([HEAD, *byte_by_byte(b'{"a": 1' + b" " * 60000)()])],
                         ids=["headers", "body"])
def test_a_study_that_trickles_in_ends_at_the_deadline(tmp_path, chunks):
    from digest import ctgov
    from digest.exceptions import TrialError

    with RawServer(chunks, gap=0.02) as server, ctgov.Client(server.url, tmp_path, timeout=0.3, deadline=0.6) as client:
        started = time.monotonic()
        with pytest.raises(TrialError) as info:
            client.study("NCT03008590")
        elapsed = time.monotonic() - started
    assert info.value.__str__() == f"ClinicalTrials.gov ({server.url}) did not answer within 0.6 seconds; try again later"
    assert 0.6 <= elapsed < 1.5  # each read came within 0.3 s: only the deadline can end it


def test_trial_ends_a_trickle_at_its_deadline_in_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from digest import ctgov
    from digest.cli import cli

    monkeypatch.setattr(ctgov, "DEADLINE", 0.5)
    with RawServer(byte_by_byte(HEAD), gap=0.02) as server:
        monkeypatch.setenv("DIGEST_CTGOV_URL", server.url)
        monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path))
        result = CliRunner().invoke(cli, ["trial", "NCT03008590"])
    assert (result.exit_code, result.stderr) == (1, f"ClinicalTrials.gov ({server.url}) did not answer within 0.5 seconds; try again later\n")


def test_an_answer_past_10_mb_is_refused_as_it_streams_and_not_cached(tmp_path):
    from digest import ctgov
    from digest.exceptions import TrialError

    def endless():  # chunked, no length: only counting tells it is too much
        yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        while True:
            yield b"10000\r\n" + b" " * 0x10000 + b"\r\n"

    with RawServer(endless, gap=0) as server, ctgov.Client(server.url, tmp_path / "cache") as client:
        with pytest.raises(TrialError) as info:
            client.study("NCT03008590")
    assert info.value.__str__() == (f"ClinicalTrials.gov ({server.url}) sent more than 10 MB, which no study "
                                           "record is; try again later")
    assert not (tmp_path / "cache").exists()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A certificate for 127.0.0.1 that this test's clients trust (SSL_CERT_FILE), and the server's context."""
    import shutil
    import ssl

    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", folder / "key.pem", "-out", folder / "cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    context.cert = folder / "cert.pem"
    return context


def test_over_https_a_trickle_still_ends_at_the_deadline_and_https_never_turns_to_http(tmp_path, tls, monkeypatch):
    from digest import ctgov
    from digest.exceptions import TrialError

    monkeypatch.setenv("SSL_CERT_FILE", str(tls.cert))
    with RawServer(byte_by_byte(HEAD), gap=0.02, tls=tls) as server, \
            ctgov.Client(server.url, tmp_path, timeout=0.3, deadline=0.6) as client:
        started = time.monotonic()
        with pytest.raises(TrialError, match=r"did not answer within 0\.6 seconds"):
            client.study("NCT03008590")
        assert time.monotonic() - started < 1.5
    insecure = "http://127.0.0.1:9/api/v2/studies/NCT03008590"
    moved = f"HTTP/1.1 301 Moved Permanently\r\nLocation: {insecure}\r\nContent-Length: 0\r\n\r\n".encode()
    with RawServer(lambda: iter([moved]), gap=0, tls=tls) as server, ctgov.Client(server.url, tmp_path) as client:
        with pytest.raises(TrialError) as info:
            client.study("NCT03008590")
    assert info.value.__str__() == (f"ClinicalTrials.gov ({server.url}) redirects to {insecure}, which is "
                                           "http, not https: not followed")


@pytest.fixture
def api(tmp_path):
    with Registry() as server:
        yield server


def _other_site(api, where: str) -> str:
    port = api.url.rsplit(":", 1)[1]
    return {"another host": f"http://127.0.0.2:{port}", "another port": "http://127.0.0.1:9",
            "https": f"https://127.0.0.1:{port}"}[where]


@pytest.mark.parametrize("where", ["another host", "another port", "https"])
def test_a_redirect_off_the_site_is_reported_not_followed(tmp_path, api, where):
    from digest import ctgov
    from digest.exceptions import TrialError

    target = _other_site(api, where) + "/api/v2/studies/NCT03008590"
    api.queue("/api/v2/studies/NCT00000099", 301, "", {"Location": target})
    with ctgov.Client(api.url, tmp_path) as client, pytest.raises(TrialError) as info:
        client.study("NCT00000099")
    why = "https, not http" if where == "https" else "another site"
    assert info.value.__str__() == f"ClinicalTrials.gov ({api.url}) redirects to {target}, which is {why}: not followed"
    assert api.paths() == ["/api/v2/studies/NCT00000099"]


@pytest.mark.parametrize("header, seconds", [
    ("9" * 400, 365 * 86400), ("²", 1), ("-5", 1), ("1.5", 1), (" 7 ", 7), ("", 1), ("0", 0),
    ("Thu, 01 Jan 99999 00:00:00 GMT", 1), ("Wed, 21 Oct 2015 07:28:00", 0), ("not a date at all", 1),
])
def test_retry_after_is_read_defensively(header, seconds):
    from digest import ctgov

    assert ctgov.retry_delay(header, 0) == seconds


def test_retry_after_of_400_digits_or_a_superscript_is_no_traceback(tmp_path, api):
    from digest import ctgov
    from digest.exceptions import TrialError

    api.queue("/api/v2/studies/NCT03008590", 429, "slow down", {"Retry-After": "9" * 400})
    with ctgov.Client(api.url, tmp_path) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == "ClinicalTrials.gov is busy (429 Too Many Requests); try again another day"
    api.queued.clear(), api.requests.clear()
    api.queue("/api/v2/studies/NCT02965768", 503, "down", {"Retry-After": "²"})
    api.queue("/api/v2/studies/NCT02965768", 200, (FIXTURES / "NCT02965768.json").read_bytes())
    with ctgov.Client(api.url, tmp_path) as client:
        assert client.study("NCT02965768") == fixture("NCT02965768")  # waited the default second, then again


def test_a_long_wait_is_announced(tmp_path, api, monkeypatch):
    from click.testing import CliRunner

    from digest import ctgov
    from digest.cli import cli

    monkeypatch.setattr(ctgov, "SAY_WAIT", 0.5)  # over 5 s in earnest; 1 s here, to keep the test short
    monkeypatch.setenv("DIGEST_CTGOV_URL", api.url)
    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path))
    api.queue("/api/v2/studies/NCT03008590", 429, "slow down", {"Retry-After": "1"})
    api.queue("/api/v2/studies/NCT03008590", 200, (FIXTURES / "NCT03008590.json").read_bytes())
    result = CliRunner().invoke(cli, ["trial", "NCT03008590"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "ClinicalTrials.gov is busy (429 Too Many Requests): waiting 1 second before trying again, as it asks\n"


def test_a_500_page_of_html_is_summarised_by_its_status(tmp_path, api):
    from digest import ctgov
    from digest.exceptions import TrialError

    api.queue("/api/v2/studies/NCT03008590", 500, "<!DOCTYPE html>\n<html><body>Oops</body></html>", {"Content-Type": "text/html"})
    with ctgov.Client(api.url, tmp_path) as client, pytest.raises(TrialError) as info:
        client.study("NCT03008590")
    assert info.value.__str__() == "ClinicalTrials.gov answered 500 for NCT03008590 (Internal Server Error); try again later"


def _untitled() -> dict:
    study = fixture("NCT03008590")
    del study["protocolSection"]["identificationModule"]["briefTitle"]
    del study["protocolSection"]["identificationModule"]["officialTitle"]
    return study


def test_a_record_that_cannot_make_an_entry_is_not_cached(tmp_path, api, monkeypatch):
    from click.testing import CliRunner

    from digest.cli import cli

    monkeypatch.setenv("DIGEST_CTGOV_URL", api.url)
    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path))
    api.study(_untitled())
    result = CliRunner().invoke(cli, ["trial", "NCT03008590"])
    assert (result.exit_code, result.stderr) == (1, "NCT03008590: the study record has no title; add this trial by hand\n")
    assert not (tmp_path / "ctgov" / "NCT03008590.json").exists()
    api.queued.clear()  # the registry fixed the record: the next run gets it, no --refresh needed
    assert CliRunner().invoke(cli, ["trial", "NCT03008590"]).exit_code == 0
    assert (tmp_path / "ctgov" / "NCT03008590.json").exists()


def test_a_cached_record_that_cannot_make_an_entry_says_refresh(tmp_path, api, monkeypatch):
    from click.testing import CliRunner

    from digest.cli import cli

    monkeypatch.setenv("DIGEST_CTGOV_URL", api.url)
    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path))
    (tmp_path / "ctgov").mkdir()
    (tmp_path / "ctgov" / "NCT03008590.json").write_text(json.dumps(_untitled()))  # saved by an older digest
    result = CliRunner().invoke(cli, ["trial", "NCT03008590"])
    assert result.exit_code == 1 and api.requests == []
    assert result.stderr.endswith(": --refresh fetches it again)\n") and "has no title" in result.stderr
    assert CliRunner().invoke(cli, ["trial", "NCT03008590", "--refresh"]).exit_code == 0


# --- check --links --------------------------------------------------------------------------------------------

def test_invalid_addresses_are_broken_links_and_every_other_result_is_kept(tmp_path, monkeypatch, api):
    from digest.links import check_urls

    monkeypatch.setenv("DIGEST_LINK_CACHE", str(tmp_path / "links.json"))
    bad = ["http://256.1.1.1/", "http://0177.0.0.1/", "https://xn--a.example/", "http://[::1/"]
    good = f"{api.url}/api/v2/studies/NCT03008590"
    results = check_urls([*bad, good], timeout=2, delay=0)
    assert results[good].ok
    for url in bad:
        assert not results[url].ok and results[url].problem.startswith("is not a valid web address"), results[url]


def test_check_links_reports_an_invalid_address_on_its_line(newsletter, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGEST_LINK_CACHE", str(tmp_path / "links.json"))
    newsletter.issue.write_text(newsletter.issue.read_text().replace(
        "link: https://clinicaltrials.gov/study/NCT00000001", "link: http://256.1.1.1/"))
    done = digest("check", "--links", "--format", "json", "issues/test-issue.yaml", cwd=newsletter.root,
                  env={"DIGEST_LINK_CACHE": str(tmp_path / "links.json"), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    findings = json.loads(done.stdout)["issues"][0]["findings"]
    broken = [f for f in findings if f["id"] == "link-broken"]
    (invalid,) = [f for f in broken if "256.1.1.1" in f["message"]]
    assert (invalid["line"], invalid["field"]) == (14, "entries[1].link") and "is not a valid web address" in invalid["message"]
    assert "Traceback" not in done.stderr
    assert len({f["message"] for f in broken}) == len(broken) >= 3  # the other links were checked, each its own result


def test_a_link_that_trickles_is_broken_at_its_deadline(tmp_path, monkeypatch):
    from digest.links import check_urls

    monkeypatch.setenv("DIGEST_LINK_CACHE", str(tmp_path / "links.json"))
    with RawServer(byte_by_byte(HEAD), gap=0.02) as server:
        started = time.monotonic()
        result = check_urls([server.url + "/"], timeout=0.5, delay=0)[server.url + "/"]
        elapsed = time.monotonic() - started
    assert not result.ok and result.problem == "did not answer within 0.5 seconds"
    assert elapsed < 1.5  # every byte came within 0.5 s: only the deadline for the link ends it


def test_ctrl_c_while_the_registry_asks_to_wait_ends_the_run_at_once(newsletter, registry):
    # The pool waited for every queued id, each sleeping out the registry's Retry-After: one Ctrl-C was
    # ignored for a minute (for an hour with 100 ids and 60 s waits), and more of them ended in a traceback.
    ids = [f"NCT0300{n:04d}" for n in range(12)]
    for nct_id in ids:
        registry.queue(f"/api/v2/studies/{nct_id}", 429, "slow down", {"Retry-After": "5"})
    process = subprocess.Popen([sys.executable, "-m", "digest", "trial", *ids], cwd=newsletter.root,
                               env={**os.environ, **registry.env}, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while len(registry.requests) < 4 and time.monotonic() < deadline:  # each worker asked once, and now waits
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("Ctrl-C did not end the run")
    assert process.returncode != 0 and "Traceback" not in err, err
    assert len(registry.requests) <= 4
