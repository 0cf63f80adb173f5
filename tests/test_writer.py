"""digest/writer.py under faults made for real: a build killed at each step of the swap, builds racing each
other, a write that fails for lack of room. build/<slug>/ is always the old build or the new one, whole."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import limit_file_size
from digest import build as build_email
from digest.exceptions import BuildError
from digest.writer import FILES, write_email

SECONDS = 20


def start(newsletter, stop_at: str | None = None, **options) -> subprocess.Popen:
    env = {**os.environ, **({"DIGEST_STOP_AT": stop_at} if stop_at else {})}
    return subprocess.Popen([sys.executable, "-m", "digest", "build", "issues/test-issue.yaml"], cwd=newsletter.root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def stopped(process: subprocess.Popen) -> None:
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "the build never reached the point the test stops it at"


def folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def leftovers(build: Path) -> list[str]:
    return sorted(p.name for p in build.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("point, survivor", [("build-swap", "old"), ("build-swapped", "new")])
def test_a_build_killed_during_the_swap_leaves_a_whole_folder_and_the_next_clears_up(newsletter, point, survivor):
    build = newsletter.root / "build"
    first = start(newsletter)
    assert first.wait(SECONDS) == 0, first.stderr.read()
    old = folder(build / "test-issue")
    newsletter.issue.write_text(newsletter.issue.read_text().replace("A trial of something", "A trial of everything"))

    process = start(newsletter, stop_at=point)
    stopped(process)
    process.kill()  # SIGKILL of a stopped process: no handler, no cleanup
    process.wait(SECONDS)
    process.stdout.close(), process.stderr.close()
    now = folder(build / "test-issue")
    assert set(now) >= set(FILES) | {"issues/images/logo.png"}
    assert (now == old) == (survivor == "old")
    assert (b"A trial of everything" in now["email.html"]) == (survivor == "new")
    assert leftovers(build)  # what the killed build left: the next one clears it

    again = start(newsletter)
    assert again.wait(SECONDS) == 0, again.stderr.read()
    assert leftovers(build) == []
    assert b"A trial of everything" in (build / "test-issue" / "email.html").read_bytes()


def test_builds_of_one_issue_at_once_end_with_one_whole_folder_and_no_error(newsletter):
    build = newsletter.root / "build"
    for _ in range(2):
        processes = [start(newsletter) for _ in range(4)]
        for process in processes:
            _, stderr = process.communicate(timeout=SECONDS)
            assert process.returncode == 0, stderr
        assert sorted(p.name for p in build.iterdir()) == ["test-issue"]
        assert set(folder(build / "test-issue")) == set(FILES) | {"issues/images/logo.png", "icons/facebook.png"}


@pytest.mark.skipif(not shutil.which("strace"), reason="strace holds the renames so that two swaps overlap")
def test_two_builds_whose_swaps_overlap_end_with_one_whole_folder(newsletter):
    build = newsletter.root / "build"
    assert start(newsletter).wait(SECONDS) == 0
    renames = "rename,renameat,renameat2"
    held = ["strace", "-f", "-qq", "-o", os.devnull, "-e", f"trace={renames}", "-e", f"inject={renames}:delay_exit=300000"]
    processes = [subprocess.Popen([*held, sys.executable, "-m", "digest", "build", "issues/test-issue.yaml"],
                                  cwd=newsletter.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    for process in processes:
        _, stderr = process.communicate(timeout=SECONDS)
        assert process.returncode == 0, stderr
    assert sorted(p.name for p in build.iterdir()) == ["test-issue"]
    assert set(folder(build / "test-issue")) == set(FILES) | {"issues/images/logo.png", "icons/facebook.png"}


def test_a_second_build_waits_for_the_first_then_replaces_its_folder(newsletter):
    build = newsletter.root / "build"
    first = start(newsletter, stop_at="build-swap")
    stopped(first)  # it holds the output folder, mid-build
    newsletter.issue.write_text(newsletter.issue.read_text().replace("A trial of something", "A trial of everything"))
    second = start(newsletter)
    with pytest.raises(subprocess.TimeoutExpired):
        second.wait(0.8)  # waiting its turn
    os.kill(first.pid, signal.SIGCONT)
    assert first.wait(SECONDS) == 0 and second.wait(SECONDS) == 0
    first.stdout.close(), first.stderr.close(), second.stdout.close(), second.stderr.close()
    assert b"A trial of everything" in (build / "test-issue" / "email.html").read_bytes()
    assert leftovers(build) == []


def test_without_an_atomic_exchange_the_swap_still_replaces_the_folder(newsletter, monkeypatch):
    import digest.writer

    monkeypatch.setattr(digest.writer, "exchange", lambda a, b: False)  # as on a system without RENAME_EXCHANGE
    out = newsletter.root / "out"
    email = build_email(newsletter.issue)
    write_email(email, out)
    newsletter.issue.write_text(newsletter.issue.read_text().replace("A trial of something", "A trial of everything"))
    write_email(build_email(newsletter.issue), out)
    assert b"A trial of everything" in (out / "test-issue" / "email.html").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["test-issue"]


def test_a_write_that_fails_names_the_output_file_and_leaves_the_old_build(newsletter):
    png = (newsletter.root / "issues" / "images" / "logo.png").read_bytes()
    (newsletter.root / "issues" / "images" / "logo.png").write_bytes(png + b"\0" * 600 * 1024)
    build = newsletter.root / "build"
    first = start(newsletter)
    assert first.wait(SECONDS) == 0, first.stderr.read()
    old = folder(build / "test-issue")
    # The kernel refuses any file past 300 KB: the email's parts fit, the 600 KB logo does not.
    process = start(newsletter, preexec_fn=limit_file_size(300 * 1024))
    _, stderr = process.communicate(timeout=SECONDS)
    assert process.returncode == 1
    assert stderr.splitlines()[-1] == "build/test-issue/issues/images/logo.png: cannot write the output (File too large)"
    assert folder(build / "test-issue") == old
    assert leftovers(build) == []


def test_a_file_where_the_build_folder_goes_is_left_alone_and_named(newsletter):
    # The swap replaced whatever stood at out/<slug> and deleted it: an editor's file, without a word.
    out = newsletter.root / "out"
    email = build_email(newsletter.issue)
    out.mkdir()
    (out / "test-issue").write_text("a file where the folder goes")
    with pytest.raises(BuildError, match="is a file, not a folder a build made: move it away") as caught:
        write_email(email, out)
    assert Path(caught.value.path) == out / "test-issue"
    assert (out / "test-issue").read_text() == "a file where the folder goes" and leftovers(out) == []
    with pytest.raises(BuildError, match="cannot write the output folder"):
        write_email(email, out / "test-issue" / "email.html")


def test_a_folder_holding_the_editor_s_own_files_is_left_alone(newsletter):
    out = newsletter.root / "build"
    email = build_email(newsletter.issue)
    write_email(email, out)
    (out / "test-issue" / "notes.txt").write_text("mine\n")
    with pytest.raises(BuildError, match=r"holds files a build does not write \(notes.txt\), and each build replaces"):
        write_email(email, out)
    assert (out / "test-issue" / "notes.txt").read_text() == "mine\n" and (out / "test-issue" / "email.html").is_file()
    # What builds write (an .eml, images under any name) is theirs to replace, and what Finder and Explorer
    # write into a folder opened in them.
    (out / "test-issue" / "notes.txt").unlink()
    (out / "test-issue" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (out / "test-issue" / "issues" / "Thumbs.db").write_bytes(b"\xd0\xcf")
    (out / "test-issue" / "email.eml").write_text("an earlier --eml build\n")
    shutil.copyfile(newsletter.root / "issues" / "images" / "logo.png", out / "test-issue" / "issues" / "images" / "renamed")
    write_email(email, out)
    assert "email.eml" not in folder(out / "test-issue")


def test_a_build_folder_that_is_a_link_is_written_through_and_stays_a_link(newsletter, tmp_path):
    # An editor who links build/<slug> into a web server's folder: replacing the link with a folder of its
    # own would leave the served copy stale without a word.
    served = tmp_path / "www" / "issue"
    served.mkdir(parents=True)
    (newsletter.root / "build").mkdir()
    link = newsletter.root / "build" / "test-issue"
    link.symlink_to(served, target_is_directory=True)
    for _ in range(2):  # into the empty folder, then over the build before
        written = write_email(build_email(newsletter.issue), newsletter.root / "build")
        assert written == link and link.is_symlink() and link.resolve() == served.resolve()
        assert set(FILES) <= set(folder(served))  # the new build, where the link points
    assert leftovers(served.parent) == [] and leftovers(link.parent) == []
    # A served folder holding more than a build is not replaced: its other files were deleted with it.
    (served / "index.html").write_text("the site's own page\n")
    with pytest.raises(BuildError, match=r"holds files a build does not write \(index.html\)"):
        write_email(build_email(newsletter.issue), newsletter.root / "build")
    assert (served / "index.html").read_text() == "the site's own page\n"


def test_a_build_folder_that_is_a_loop_of_links_is_one_line(newsletter):
    (newsletter.root / "build").mkdir()
    (newsletter.root / "build" / "test-issue").symlink_to("loop")
    (newsletter.root / "build" / "loop").symlink_to("test-issue")
    with pytest.raises(BuildError, match="is a link that leads back to itself"):
        write_email(build_email(newsletter.issue), newsletter.root / "build")


def test_a_build_folder_the_editor_closed_stays_closed(newsletter):
    # Swapped in whole, the new folder came back 755: open to everyone, where the editor had made it 700.
    out = newsletter.root / "build"
    folder = write_email(build_email(newsletter.issue), out, {})
    os.chmod(folder, 0o700)
    write_email(build_email(newsletter.issue), out, {})
    assert (os.stat(folder).st_mode & 0o7777) == 0o700
