"""The guide in docs/ and the README: built strictly by MkDocs, and kept true where that is cheap to test. Each
list an editor looks things up in (commands and their options, checks, settings, issue fields, platforms,
environment variables) is compared with the code it describes, so adding one without its line fails here."""

from __future__ import annotations

import ast
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import REPO

from digest.cli import cli
from digest.config import COLOURS, OPTIONAL, REQUIRED
from digest.platforms import PASTE, PLATFORMS, paste_lines
from digest.reader import ENTRY_FIELDS, ISSUE_FIELDS, SECTION_FIELDS

DOCS = REPO / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under `heading` (a whole heading line, such as "## digest build"), up to the next heading of
    the same or a higher level."""
    level = heading.split(" ", 1)[0]
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^#{{1,{len(level)}}} |\Z)", text, re.M | re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def first_column(table_text: str) -> list[str]:
    """The first cell of each row of the Markdown tables in `table_text`, without its backticks."""
    rows = [line for line in table_text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    return [row.split("|")[1].strip().strip("`") for row in rows[1:] if not set(row) <= set("|- ")]


def test_the_guide_builds_strictly_and_offline(tmp_path):
    # The Material theme prints a notice about MkDocs 2.0 on every build; it is not a warning of ours.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                          "-d", str(tmp_path / "site")], capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "WARNING" not in output, output
    built = tmp_path / "site"
    for source in DOCS.rglob("*.md"):
        relative = source.relative_to(DOCS).with_suffix("")
        target = built / relative / "index.html" if relative.name != "index" else built / relative.parent / "index.html"
        assert target.is_file(), f"{source.name} was not built"
    # Read offline too: every style sheet and script is the site's own (font: false keeps Google's fonts out).
    for html in built.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        outside = re.findall(r'<(?:link|script)\b[^>]*(?:href|src)="((?:https?:)?//[^"]*)"', text)
        assert outside == [], (html, outside)
        # A table's `*\|UNSUB\|*` (written so for GitHub) reads *|UNSUB|* here too: docs/hooks/tables.py.
        assert not re.findall(r"<code>[^<]*\\\|", text), html


def commands(group: click.Group = cli, prefix: str = "digest"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_command_and_option_has_its_place_in_the_commands_page():
    text = page("commands.md")
    for name, command in commands():
        part = section(text, f"## {name}")
        for option in command.params:
            if isinstance(option, click.Option) and option.name != "help":
                for flag in option.opts + option.secondary_opts:
                    if flag.startswith("--"):
                        assert f"`{flag}" in part, f"{name}: {flag} is not in its section of docs/commands.md"
    assert "## digest --version" in text


def finding_ids() -> set[str]:
    """Every id a `Finding(...)` in digest/ can have, read from the code: literal ids, and f-string ids whose
    names a `for` loop takes from a literal tuple (`for name, … in (("subject", …), …)`)."""
    ids = set()
    for path in (REPO / "digest").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        loops = [node for node in ast.walk(tree) if isinstance(node, ast.For)]
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Finding"):
                continue
            first = call.args[0]
            if isinstance(first, ast.Constant):
                ids.add(first.value)
                continue
            assert isinstance(first, ast.JoinedStr), f"{path.name}:{call.lineno}: write the finding's id as a literal"
            choices = []
            for part in first.values:
                if isinstance(part, ast.Constant):
                    choices.append([part.value])
                    continue
                name = part.value.id
                [loop] = [loop for loop in loops if name in {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
                          and loop.lineno <= call.lineno <= loop.end_lineno]
                items = loop.iter.elts
                if isinstance(loop.target, ast.Tuple):
                    position = next(i for i, n in enumerate(loop.target.elts) if isinstance(n, ast.Name) and n.id == name)
                    items = [item.elts[position] for item in items]
                choices.append([ast.literal_eval(item) for item in items])
            ids.update("".join(parts) for parts in itertools.product(*choices))
    return ids


def test_every_check_is_in_the_checks_table():
    table = first_column(section(page("checking.md"), "## What it checks"))
    code = finding_ids()
    assert {"subject-length", "preheader-length", "entry-duplicate-title", "contrast"} <= code  # the reading works
    assert sorted(set(code) - set(table)) == [], "checks missing from docs/checking.md"
    assert sorted(set(table) - set(code)) == [], "docs/checking.md lists checks digest does not have"
    assert len(table) == len(set(table))


def test_every_setting_is_in_the_settings_reference():
    text = page("settings.md")
    table = [key.strip("[]") for key in first_column(section(text, "## Every setting"))]
    assert sorted(table) == sorted(REQUIRED + OPTIONAL)
    required = [key for key, needed in zip(table, re.findall(r"^\| `[^`]+` \| (\w+)", section(text, "## Every setting"), re.M)) if needed == "yes"]
    assert sorted(required) == sorted(REQUIRED)
    assert first_column(section(text, "## Colours")) == list(COLOURS)


def test_every_issue_field_is_in_writing_an_issue():
    text = page("writing-an-issue.md")
    assert sorted(first_column(section(text, "## The issue's fields"))) == sorted(ISSUE_FIELDS)
    assert sorted(first_column(section(text, "## Each entry's fields"))) == sorted(ENTRY_FIELDS)
    assert sorted(first_column(section(text, "### Each section's fields"))) == sorted(SECTION_FIELDS)


def test_every_platform_has_its_page_in_the_guide(sample_email):
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for name, tags in PLATFORMS.items():
        assert f"pasting/{name}.md" in nav
        text = page(f"pasting/{name}.md")
        where = first_column(section(text, "## Where each part goes"))
        assert where == ["**Subject**", "**Preheader**", "**HTML**", "**Text part**"], name
        assert f"platform = \"{name}\"" in text
        # What `digest build` prints for the sample, as the page shows it.
        printed = paste_lines(name, sample_email.subject, sample_email.issue.preheader, "build/2024-06-ldn-trials")
        assert "```\n" + "\n".join(printed) + "\n```" in text, name
        if name != "generic":  # its tags are the placeholder, explained in prose
            fills = section(text, f"## What {PASTE[name].name} fills in").replace("\\|", "|")
            assert all(tag in fills for tag in tags.values), name


def test_every_environment_variable_is_in_the_commands_page():
    found = set()
    for path in (REPO / "digest").rglob("*.py"):
        found.update(re.findall(r"\bDIGEST_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    found.discard("DIGEST_STOP_AT")  # a hook for the tests (files.stop_here), not for editors
    table = first_column(section(page("commands.md"), "## Environment variables"))
    assert sorted(found) == sorted(table)


def test_the_readme_commands_are_the_ones_ci_runs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first, second = re.findall(r"```sh\n(.*?)\n```", readme, re.S)[:2]
    assert readme.index(first) < readme.index("## ")  # at the top, before anything else
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert first in ci and second in ci
    assert ci.index(first) < ci.index(second)


@pytest.mark.parametrize("path", ["README.md", *sorted(str(p.relative_to(REPO)) for p in DOCS.rglob("*.md"))])
def test_nothing_points_outside_the_project(path):
    text = (REPO / path).read_text(encoding="utf-8")
    assert "../shared" not in text and "/work/" not in text
    # MkDocs checks the guide's own links; the README's are checked here, as GitHub would follow them.
    if path == "README.md":
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if not re.match(r"[a-z]+:", target):
                resolved = (REPO / target).resolve()
                assert resolved.is_relative_to(REPO) and resolved.exists(), target


@pytest.mark.parametrize("path", ["README.md", *sorted(str(p.relative_to(REPO)) for p in DOCS.rglob("*.md"))])
def test_every_table_row_has_its_columns_on_github_too(path):
    # GitHub splits a table row at every | not written \| (inside code too), so one unescaped | in a cell
    # shifts the rest of its row; MkDocs forgives it (docs/hooks/tables.py), GitHub does not.
    text = (REPO / path).read_text(encoding="utf-8")
    bad = []
    for table in re.findall(r"(?m)(?:^\|.*\n)+", text):
        widths = [len(re.split(r"(?<!\\)\|", row.strip().strip("|"))) for row in table.splitlines()]
        bad += [row for row, width in zip(table.splitlines(), widths) if width != widths[0]]
    assert bad == []
