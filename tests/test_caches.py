"""What digest keeps between runs (compiled patterns, what cssutils made of the theme's CSS): the same email
with them as without, and nothing lost when their files are missing, damaged or cannot be written.

Each case runs digest in a process of its own, as an editor does, with a cache folder of the test's own.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys

import pytest

from conftest import REPO, SAMPLE_ISSUE, limit_file_size

PATTERN = r"digest-(?P<n>\d+)-test"


def compiling(pattern: str) -> str:
    """Code that compiles `pattern` the way a library would, and says whether re's parser had to read it."""
    return f"""
import re
from re import _parser
read = []
parse = _parser.parse
_parser.parse = lambda pattern, flags=0: (read.append(pattern), parse(pattern, flags))[1]
match = re.compile({pattern!r}, re.IGNORECASE).match("DIGEST-42-test" + {pattern[len(PATTERN):]!r})
print(match["n"], match.re.groupindex["n"], {pattern!r} in read)
"""


COMPILE = compiling(PATTERN)
BUILD = f"""
import sys
import digest
result = digest.build({str(SAMPLE_ISSUE)!r})
sys.stdout.write(result.html)
print("imported:", sorted(name for name in ("cssutils", "cssselect") if name in sys.modules), file=sys.stderr)
"""


def run(code: str, cache, cli: bool = True) -> subprocess.CompletedProcess:
    """`code` in a new Python, after the command line's start (`import digest.cli`) unless `cli` is False."""
    prelude = "import digest.cli\n" if cli else ""
    result = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "DIGEST_CACHE_DIR": str(cache)}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def regex_file(cache):
    files = list((cache / "regex").iterdir())
    assert len(files) == 1, files
    return files[0]


def kept_table(cache) -> dict:
    """The file's patterns: (is bytes, pattern, flags) -> what re's compiler handed to _sre."""
    from digest.caches import read_kept

    return {key: made for key, (_, made) in marshal.loads(read_kept(regex_file(cache)))["patterns"].items()}


def keep_table(cache, table: dict) -> None:
    from digest.caches import keep

    keep(regex_file(cache), marshal.dumps({"generation": 1, "patterns": {key: (1, made) for key, made in table.items()}}))


def test_a_pattern_compiled_in_one_run_is_not_compiled_again_in_the_next(tmp_path):
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "True"]  # compiled, and kept at exit
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "False"]  # from the file, the same answer
    assert run(COMPILE, tmp_path, cli=False).stdout.split() == ["42", "1", "True"]  # the library alone never uses it


def test_every_kept_pattern_is_exactly_what_re_compiles(tmp_path):
    subprocess.run([sys.executable, "-m", "digest", "build", str(SAMPLE_ISSUE), "--out", str(tmp_path / "out")],
                   check=True, capture_output=True, env={**os.environ, "DIGEST_CACHE_DIR": str(tmp_path)}, timeout=120)
    table = kept_table(tmp_path)
    assert len(table) > 150  # a build's patterns: YAML's, Markdown's, Jinja's, click's, premailer's, ours
    # In a Python that never installed the cache: the kept form, given to _sre, against a fresh compile.
    # Pattern objects are equal when their pattern, flags and compiled code are; groups and names besides.
    check = f"""
import _sre, marshal, re
from re import _compiler
from digest.caches import read_kept
table = marshal.loads(read_kept(__import__("pathlib").Path({str(regex_file(tmp_path))!r})))["patterns"]
different = []
for (is_bytes, pattern, flags), (_, made) in table.items():
    kept, fresh = _sre.compile(pattern, *made), _compiler.compile(pattern, flags)
    if (kept, kept.groups, kept.groupindex, type(pattern) is bytes) != (fresh, fresh.groups, fresh.groupindex, is_bytes):
        different.append(pattern)
print(len(table), different)
"""
    assert run(check, tmp_path, cli=False).stdout.split(maxsplit=1) == [str(len(table)), "[]\n"]


def test_a_str_and_a_bytes_pattern_of_the_same_text_are_kept_apart(tmp_path):
    code = "import re\nprint(re.compile('dig(est)').groups, re.compile(b'dig(est)').match(b'digest')[1].decode())"
    assert run(code, tmp_path).stdout.split() == ["1", "est"]
    assert run("import warnings\nwarnings.simplefilter('error', BytesWarning)\n" + code, tmp_path).stdout.split() == ["1", "est"]
    assert {(False, "dig(est)", 0), (True, b"dig(est)", 0)} <= set(kept_table(tmp_path))


@pytest.mark.parametrize("damage", ["zeros", "a length that lies", "one bit flipped", "not a table", "wrong code"])
def test_a_damaged_file_of_patterns_is_compiled_around(tmp_path, damage):
    from digest.caches import keep

    run(COMPILE, tmp_path)
    path = regex_file(tmp_path)
    data = path.read_bytes()
    if damage == "zeros":
        path.write_bytes(bytes(64))
    elif damage == "a length that lies":  # marshal would believe a length: the seal is checked first
        path.write_bytes(data[:15] + (2**40).to_bytes(8, "big") + data[23:])
    elif damage == "one bit flipped":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])
    elif damage == "not a table":
        keep(path, marshal.dumps([1, 2, 3]))
    else:  # sealed, but a kept form this Python's _sre does not accept: it checks the code it is given
        table = kept_table(tmp_path)
        table[(False, PATTERN, 2)] = (34, [1, 2, 3], 1, {"n": 1}, (None, "n"))
        keep_table(tmp_path, table)
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "True"]
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "False"]  # and the file is whole again


def test_the_file_of_patterns_cannot_grow_without_end(tmp_path):
    many = "import re\nfor n in range(40): re.compile(f'digest-many-{n}-(x)')\n"
    run(many, tmp_path)
    assert len(kept_table(tmp_path)) >= 40
    # A run records at most LIMIT new patterns; past LIMIT the file keeps only what that run used.
    code = ("import digest.caches\ndigest.caches.LIMIT = 10\nimport digest.cli\nimport re\n"
            "for n in range(30): re.compile(f'digest-more-{n}-(x)')\n" + compiling(PATTERN + "-2"))
    assert run(code, tmp_path, cli=False).stdout.split() == ["42", "1", "True"]
    patterns = [key[1] for key in kept_table(tmp_path) if not key[0]]
    assert len([p for p in patterns if p.startswith("digest-more-")]) == 10
    assert not [p for p in patterns if p.startswith("digest-many-")] and PATTERN + "-2" not in patterns


def test_a_pattern_new_in_every_run_does_not_pile_up(tmp_path):
    # As markdown-it's set of terminator characters, joined in the order of each run's string hashes.
    code = ("import digest.caches\ndigest.caches.RUNS = 3\nimport digest.cli\nimport os, re\n"
            "re.compile('digest-every-run-' + os.urandom(4).hex())\n" + COMPILE)
    for _ in range(6):
        assert run(code, tmp_path, cli=False).stdout.split()[:2] == ["42", "1"]
    patterns = [key[1] for key in kept_table(tmp_path) if not key[0]]
    assert len([p for p in patterns if p.startswith("digest-every-run-")]) == 3
    assert PATTERN in patterns  # used in every run: kept


def test_installing_twice_keeps_each_pattern_once_and_right(tmp_path):
    code = ("import importlib, re, digest.caches\nimportlib.reload(digest.caches).keep_compiled_regexes()\n"
            "re.compile('apple'); print(bool(re.compile('banana').match('banana')), bool(re.compile('banana').match('apple')))")
    assert run(code, tmp_path).stdout.split() == ["True", "False"]
    assert run(code, tmp_path).stdout.split() == ["True", "False"]
    assert (False, "banana", 0) in kept_table(tmp_path)


DATACLASS = """
import builtins, dataclasses
compiled = []
builtins_compile = builtins.compile
def spy(source, *args, **kwargs):
    if isinstance(source, str) and "__create_fn__" in source:
        compiled.append(source)
    return builtins_compile(source, *args, **kwargs)
builtins.compile = spy
@dataclasses.dataclass(frozen=True)
class Trial:
    nct_id: str
    phase: int = 2
    sites: tuple = dataclasses.field(default_factory=tuple)
t = Trial("NCT0001")
try:
    t.phase = 3
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(repr(t), t == Trial("NCT0001"), hash(t) == hash(Trial("NCT0001")), frozen,
      Trial.__init__.__annotations__ == {"nct_id": str, "phase": int, "sites": tuple, "return": None},
      Trial.__init__.__name__, Trial.__init__.__qualname__, len(compiled) > 0)
"""


def code_file(cache):
    files = list((cache / "code").iterdir())
    assert len(files) == 1, files
    return files[0]


def test_a_dataclass_written_in_one_run_is_not_compiled_again_in_the_next(tmp_path):
    # exec compiles a str without calling builtins.compile; the cache compiles through it, so the spy sees
    # the cache compile and nothing when the code comes from the file.
    first, second = run(DATACLASS, tmp_path).stdout.split(), run(DATACLASS, tmp_path).stdout.split()
    alone = run(DATACLASS, tmp_path, cli=False).stdout.split()  # the library alone never uses it
    assert first[:-1] == second[:-1] == alone[:-1]
    assert first[:-1] == ["Trial(nct_id='NCT0001',", "phase=2,", "sites=())", "True", "True", "True", "True",
                          "__init__", "Trial.__init__"]
    assert (first[-1], second[-1], alone[-1]) == ("True", "False", "False")


@pytest.mark.parametrize("damage", ["one bit flipped", "not a table"])
def test_a_damaged_file_of_dataclass_code_is_compiled_around(tmp_path, damage):
    from digest.caches import keep

    run(DATACLASS, tmp_path)
    path = code_file(tmp_path)
    data = path.read_bytes()
    if damage == "one bit flipped":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])
    else:
        keep(path, marshal.dumps([1, 2, 3]))
    assert run(DATACLASS, tmp_path).stdout.split()[-1] == "True"
    assert run(DATACLASS, tmp_path).stdout.split()[-1] == "False"  # and the file is whole again


def test_the_command_line_builds_the_same_email_with_kept_dataclass_code(tmp_path):
    out = [run(BUILD, tmp_path).stdout for _ in range(2)]
    assert out[0] == out[1] == run(BUILD, tmp_path / "none", cli=False).stdout
    assert len(code_file(tmp_path).read_bytes()) > 1000


def test_a_key_added_while_the_tables_are_copied_at_exit_is_kept(tmp_path, monkeypatch):
    """A thread may put a key in the table and not yet in the used set when the process exits."""
    import atexit

    from digest import caches

    saves = []
    monkeypatch.setattr(atexit, "register", saves.append)
    path = tmp_path / "kept.marshal"
    kept = caches._Kept(path, "code")
    kept.table, kept.used, kept.added = {"a": 1, "b": 2}, {"a"}, {"a"}
    saves[0]()
    assert marshal.loads(caches.read_kept(path))["code"] == {"a": (1, 1), "b": (1, 2)}


def test_without_a_home_folder_nothing_is_kept(tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in ("HOME", "DIGEST_CACHE_DIR", "XDG_CACHE_HOME")}
    env["HOME"] = "~"  # as expanduser leaves it for a user with no home entry
    code = f"import digest.cli, sys, digest\nsys.stdout.write(digest.build({str(SAMPLE_ISSUE)!r}).html[:15])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "<!doctype html>" and list(tmp_path.iterdir()) == []  # no ./~/.cache made


def test_a_cache_folder_that_cannot_be_written_costs_only_speed(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # every folder under it fails to be made
    assert run(COMPILE, blocked).stdout.split() == ["42", "1", "True"]
    assert run(COMPILE, blocked).stdout.split() == ["42", "1", "True"]
    out = run(BUILD, blocked)
    assert out.stdout.startswith("<!doctype html>") and blocked.read_text() == "not a folder"


def test_the_css_memo_gives_the_same_email_without_cssutils(tmp_path):
    first = run(BUILD, tmp_path, cli=False)
    assert "imported: ['cssselect', 'cssutils']" in first.stderr
    second = run(BUILD, tmp_path, cli=False)
    assert "imported: []" in second.stderr  # premailer ran on what the first run's cssutils made
    assert second.stdout == first.stdout



@pytest.mark.parametrize("damage", ["not sealed", "an XPath that is a number", "a declaration without a value",
                                    "a specificity that is text"])
def test_a_damaged_css_memo_is_made_again(tmp_path, damage):
    from digest.caches import keep, read_kept

    first = run(BUILD, tmp_path, cli=False)
    (memo,) = (tmp_path / "css").iterdir()
    saved = json.loads(read_kept(memo))
    if damage == "not sealed":
        memo.write_text(json.dumps(saved))
    elif damage == "an XPath that is a number":
        saved["xpaths"][0][1] = 7
    elif damage == "a declaration without a value":
        saved["pairs"][0][1][0] = ["color"]
    else:
        saved["rules"][0][2][0][0][0] = "1"
    if damage != "not sealed":
        keep(memo, json.dumps(saved).encode())
    again = run(BUILD, tmp_path, cli=False)
    assert "imported: ['cssselect', 'cssutils']" in again.stderr and again.stdout == first.stdout
    from digest.inline import _checked

    assert all(_checked(json.loads(read_kept(memo))))  # and written whole again


def test_a_program_that_imported_cssutils_first_keeps_its_memo_in_memory(tmp_path):
    # It may have set cssutils up otherwise (its serializer's preferences, say): what cssutils makes then
    # is not digest's to keep for the next run.
    result = run("import cssutils\n" + BUILD, tmp_path, cli=False)
    assert result.stdout.startswith("<!doctype html>") and not (tmp_path / "css").exists()


def test_a_style_holding_a_merge_tag_is_not_kept(tmp_path):
    # The tag's placeholder is new each run: kept, it would only fill the memo.
    from digest.inline import _memo, inline_css

    before = len(_memo.pairs)
    html = inline_css('<!doctype html><html><head></head><body><p style="color: *|BRAND|*">x</p></body></html>',
                      "p { margin: 0; }")
    assert 'style="margin:0; color:*|BRAND|*"' in html.replace("margin: 0", "margin:0")
    assert not any("digest-merge-tag-" in style for style in _memo.pairs) and len(_memo.pairs) >= before


def test_the_first_builds_from_several_threads_at_once(tmp_path):
    # The first use imports premailer and cssutils: a thread must never see them half imported.
    code = f"""
import threading, digest
failures = []
def build():
    try:
        digest.build({str(SAMPLE_ISSUE)!r})
    except Exception as exc:
        failures.append(repr(exc))
threads = [threading.Thread(target=build) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(failures)
"""
    assert run(code, tmp_path, cli=False).stdout.strip() == "[]"


def test_css_left_for_a_style_tag_is_not_kept_and_still_sent(newsletter, tmp_path):
    # premailer cannot inline a:hover: it leaves it for a <style> in <head>, as cssutils objects, which the memo
    # does not keep. Every run parses that ruleset again, and the email has it every time.
    theme = newsletter.root / "templates"
    theme.mkdir()
    source = (REPO / "templates" / "default" / "email.mjml.j2").read_text()
    (theme / "email.mjml.j2").write_text(source.replace("{% block head_style %}", "{% block head_style %}\n"
                                                        "      a:hover { color: #123456; }"))
    build = f"import sys, digest\nsys.stdout.write(digest.build({str(newsletter.issue)!r}).html)"
    first, second = run(build, tmp_path, cli=False).stdout, run(build, tmp_path, cli=False).stdout
    assert first == second
    head = first.split("</head>")[0]
    assert "a:hover" in head and "#123456" in head


def test_the_css_memo_is_bounded():
    from digest.inline import _Memo

    memo = _Memo()
    memo.LIMIT = 3
    for number in range(10):
        memo.remember(memo.pairs, f"color: #{number:06d}", [("color", f"#{number:06d}")])
    assert 0 < len(memo.pairs) <= 3 and memo.changed


def test_cssutils_imported_before_digest_is_set_up_the_same(newsletter, tmp_path):
    # A program that imported cssutils itself: digest still turns off its validation and its warnings.
    theme = newsletter.root / "templates"
    theme.mkdir()
    source = (REPO / "templates" / "default" / "email.mjml.j2").read_text()
    (theme / "email.mjml.j2").write_text(source.replace("h1 { margin: 0;", "h1 { -mso-bogus: 1px; colr: red; margin: 0;"))
    code = f"import cssutils, sys, digest\nsys.stdout.write(digest.build({str(newsletter.issue)!r}).html)\n"
    code += "print(len(cssutils.profile.knownNames), file=sys.stderr)"
    result = run(code, tmp_path, cli=False)
    assert result.stderr.strip() == "0"  # no profiles to validate against, and not one warning printed
    assert "colr:red" in result.stdout.replace(" ", "")


def test_a_file_that_cannot_be_written_whole_leaves_nothing_behind(tmp_path):
    # The kernel refuses any file past 16 KB (as a full disk would refuse the rest of it): the run's
    # patterns, some 100 KB, are not kept, and no half-written staging file is left in the folder.
    code = "import digest.cli\n" + "import re\nfor n in range(2000): re.compile(f'digest-big-{n}-(x)')\n" + COMPILE
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "DIGEST_CACHE_DIR": str(tmp_path)}, preexec_fn=limit_file_size(16 * 1024))
    assert result.returncode == 0 and result.stdout.split() == ["42", "1", "True"], result.stderr
    assert result.stderr == "" and list((tmp_path / "regex").iterdir()) == []
