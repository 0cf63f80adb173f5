"""The newsletter's own templates: a block that replaces nothing in the template it extends."""

from __future__ import annotations

import functools
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
    return [finding for name in (HTML_TEMPLATE, TEXT_TEMPLATE) for finding in _unknown_blocks(env, name)]


def _unknown_blocks(env, name: str) -> list[Finding]:
    # The chain of templates `name` extends, each once (a loop ends it): (file, parent, outermost blocks,
    # every block of its own).
    chain, seen = [], set()
    while name is not None:
        template = env.get_template(name)  # loaded already by the build, and reloaded when it changes
        if template.filename in seen:
            break
        seen.add(template.filename)
        parent, blocks = _parse(env, name, template)
        chain.append((template.filename, parent, blocks, set(template.blocks)))
        name = parent
    findings = []
    for i, (filename, parent, blocks, _) in enumerate(chain):
        known = set().union(*(own for *_, own in chain[i + 1 :]))  # the blocks of what it extends, all the way up
        for block, line in blocks:  # none where it extends nothing
            if block not in known:
                import difflib  # only for a block that is not there

                near = difflib.get_close_matches(block, known, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"its blocks are {', '.join(sorted(known)) or 'none'}"
                findings.append(Finding("theme-block", WARNING, f"{parent!r} has no block {block!r}, so this one is "
                                        f"never shown; {hint}", filename, line))
    return findings


@functools.lru_cache(maxsize=32)  # by template: Jinja loads a changed file as a new one
def _parse(env, name: str, template) -> tuple[str | None, list[tuple[str, int]]]:
    """The template it extends (when named in quotes), and its blocks outside any other block: (name, line).
    `name` as asked for: a built-in theme's template calls itself by its name without the theme's prefix."""
    from jinja2 import nodes

    source = env.loader.get_source(env, name)[0]
    if not _EXTENDS.search(_COMMENT.sub("", source)):  # most templates (the built-in ones too): nothing to parse
        return None, []
    tree = env.parse(source, name, template.filename)
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
