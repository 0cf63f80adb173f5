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

from conftest import REPO, SAMPLE_ISSUE

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


def test_a_pattern_compiled_in_one_run_is_not_compiled_again_in_the_next(tmp_path):
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "True"]  # compiled, and kept at exit
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "False"]  # from the file, the same answer
    assert run(COMPILE, tmp_path, cli=False).stdout.split() == ["42", "1", "True"]  # the library alone never uses it


def test_every_kept_pattern_is_exactly_what_re_compiles(tmp_path):
    subprocess.run([sys.executable, "-m", "digest", "build", str(SAMPLE_ISSUE), "--out", str(tmp_path / "out")],
                   check=True, capture_output=True, env={**os.environ, "DIGEST_CACHE_DIR": str(tmp_path)}, timeout=120)
    table = marshal.loads(regex_file(tmp_path).read_bytes())
    assert len(table) > 150  # a build's patterns: YAML's, Markdown's, Jinja's, click's, premailer's, ours
    # In a Python that never installed the cache: the kept form, given to _sre, against a fresh compile.
    # Pattern objects are equal only when their pattern, flags and compiled code all are.
    check = f"""
import _sre, marshal, re
from re import _compiler
table = marshal.loads(open({str(regex_file(tmp_path))!r}, "rb").read())
different = [key for key, made in table.items() if _sre.compile(key[0], *made) != _compiler.compile(*key)]
print(len(table), different)
"""
    assert run(check, tmp_path, cli=False).stdout.split(maxsplit=1) == [str(len(table)), "[]\n"]


@pytest.mark.parametrize("damage", ["garbage", "not a table", "wrong code"])
def test_a_damaged_file_of_patterns_is_compiled_around(tmp_path, damage):
    run(COMPILE, tmp_path)
    path = regex_file(tmp_path)
    if damage == "garbage":
        path.write_bytes(os.urandom(64))
    elif damage == "not a table":
        path.write_bytes(marshal.dumps([1, 2, 3]))
    else:  # a kept form that is not what this Python's _sre accepts: it checks the code it is given
        table = marshal.loads(path.read_bytes())
        table[(PATTERN, 2)] = (34, [1, 2, 3], 1, {"n": 1}, (None, "n"))
        path.write_bytes(marshal.dumps(table))
    assert run(COMPILE, tmp_path).stdout.split() == ["42", "1", "True"]


def test_the_file_of_patterns_cannot_grow_without_end(tmp_path):
    run(COMPILE, tmp_path)
    before = len(marshal.loads(regex_file(tmp_path).read_bytes()))
    # Past the limit, the file starts afresh with what the run compiled.
    code = "import digest.caches\ndigest.caches.LIMIT = 10\nimport digest.cli\n" + compiling(PATTERN + "-2")
    assert run(code, tmp_path, cli=False).stdout.split() == ["42", "1", "True"]
    after = marshal.loads(regex_file(tmp_path).read_bytes())
    assert before > 10 and (PATTERN + "-2", 2) in after and len(after) < before


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
    # Damaged, it is made again, and the email is the same.
    (memo,) = (tmp_path / "css").iterdir()
    memo.write_text('{"rules": [[0, "h1 {", [[1]]]], "pairs": 7}')
    third = run(BUILD, tmp_path, cli=False)
    assert "imported: ['cssselect', 'cssutils']" in third.stderr and third.stdout == first.stdout
    json.loads(memo.read_text())  # and written whole again


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
