"""The newsletter's own templates: a block that replaces nothing in the template it extends."""

from __future__ import annotations

import functools
import os
import re

from digest.model import WARNING, Finding, Result


_EXTENDS = re.compile(r"\{%-?\s*extends\b")
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def check_blocks(result: Result) -> list[Finding]:
    """A `{% block %}` whose name the template it extends has not (a typo: `fotter`) is never shown: Jinja
    drops it without a word, so this says so, on the block's line."""
    from digest.render import environment
    from digest.theme import HTML_TEMPLATE, TEXT_TEMPLATE

    env = environment(result.newsletter.theme.dirs)
    return [finding for name in (HTML_TEMPLATE, TEXT_TEMPLATE) for finding in _unknown_blocks(env, name, ())]


def _unknown_blocks(env, name: str, seen: tuple[str, ...]) -> list[Finding]:
    filename, parent, blocks = _read(env, name)
    if parent is None or filename in seen:
        return []
    known = _blocks_along(env, parent, (*seen, filename))
    findings = []
    for block, line in blocks:
        if block not in known:
            import difflib  # only for a block that is not there

            near = difflib.get_close_matches(block, known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"its blocks are {', '.join(sorted(known)) or 'none'}"
            findings.append(Finding("theme-block", WARNING, f"{parent!r} has no block {block!r}, so this one is never "
                                    f"shown; {hint}", filename, line))
    return findings + _unknown_blocks(env, parent, (*seen, filename))


def _blocks_along(env, name: str, seen: tuple[str, ...]) -> set[str]:
    """Every block of template `name` and of the templates it extends, nested ones included."""
    filename, parent, _ = _read(env, name)
    if filename in seen:
        return set()
    own = set(env.get_template(name).blocks)
    return own | (_blocks_along(env, parent, (*seen, filename)) if parent else set())


def _read(env, name: str) -> tuple[str, str | None, list[tuple[str, int]]]:
    """The template's file, the template it extends (when named in quotes), and its blocks outside any other
    block: (name, line)."""
    filename = env.get_template(name).filename  # loaded already by the build, and reloaded when it changes
    return (filename, *_parse(env, name, filename, os.stat(filename).st_mtime_ns))


@functools.lru_cache(maxsize=32)
def _parse(env, name: str, filename: str, mtime: int) -> tuple[str | None, list[tuple[str, int]]]:
    from jinja2 import nodes

    source = env.loader.get_source(env, name)[0]
    if not _EXTENDS.search(_COMMENT.sub("", source)):  # most templates (the built-in ones too): nothing to parse
        return None, []
    tree = env.parse(source, name, filename)
    extends = next(tree.find_all(nodes.Extends), None)
    if extends is None or not isinstance(extends.template, nodes.Const):
        return None, []

    def outermost(node):
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Block):
                yield child
            else:
                yield from outermost(child)

    return extends.template.value, [(block.name, block.lineno) for block in outermost(tree)]
