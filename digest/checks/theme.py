"""The newsletter's own templates: a block that replaces nothing in the template it extends, and issue text
a template writes unescaped."""

from __future__ import annotations

import functools
import re

from digest.model import ERROR, MJML_PART, WARNING, Finding, Result


_EXTENDS = re.compile(r"\{%-?\s*extends\b")
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def check_blocks(result: Result) -> list[Finding]:
    """A `{% block %}` whose name the template it extends has not (a typo: `fotter`) is never shown: Jinja
    drops it without a word, so this says so, on the block's line."""
    from digest.render import environment
    from digest.theme import HTML_TEMPLATE, TEXT_TEMPLATE

    env = environment(result.newsletter.theme.dirs)
    return [finding for name in (HTML_TEMPLATE, TEXT_TEMPLATE) for finding in _unknown_blocks(env, name)]


def check_escaped(result: Result) -> list[Finding]:
    """A text of the issue holding markup ('<') found in the HTML as it was typed: a template wrote it with
    `| safe`, or inside `{% autoescape false %}`. A title from ClinicalTrials.gov is text from anywhere."""
    from digest.checks.base import at, issue_texts

    return [Finding("unescaped-text", ERROR, "is in the email as typed, its '<' as markup: a template writes it with "
                    "'| safe' or inside '{% autoescape false %}': take that out of the template", **at(result, field))
            for field, text in issue_texts(result) if "<" in text and text in result.html]


# MJML 4's elements (mjml-preset-core and mjml-validator's lists): MRML copies any other <mj-…> into the HTML
# as it is, where official MJML, strict, refuses the email.
MJML_ELEMENTS = frozenset((
    "mjml mj-head mj-body mj-attributes mj-all mj-class mj-breakpoint mj-font mj-html-attributes mj-html-attribute "
    "mj-selector mj-preview mj-style mj-title mj-raw mj-include mj-section mj-column mj-group mj-wrapper mj-hero "
    "mj-text mj-button mj-image mj-divider mj-spacer mj-table mj-social mj-social-element mj-navbar mj-navbar-link "
    "mj-carousel mj-carousel-image mj-accordion mj-accordion-element mj-accordion-title mj-accordion-text").split())
_ELEMENT = re.compile(r"</?(mj[\w-]*)")


def check_mjml_elements(result: Result) -> list[Finding]:
    """An <mj-…> element MJML does not have (a typo in a theme: <mj-colum>), on its line of email.mjml."""
    findings = []
    for name in sorted(set(_ELEMENT.findall(result.mjml)) - MJML_ELEMENTS):  # findall: a long issue's MJML in C
        match = re.search(rf"</?{re.escape(name)}(?![\w-])", result.mjml)
        import difflib  # only for an element that is not there

        near = difflib.get_close_matches(name, MJML_ELEMENTS, n=1)
        hint = f"did you mean <{near[0]}>? " if near else ""
        findings.append(Finding("mjml-element", ERROR, f"<{name}> is not an MJML element: it reaches the email as it is, "
                                f"and MJML refuses it; {hint}Look for it in the theme's templates",
                                MJML_PART, result.mjml.count("\n", 0, match.start()) + 1))
    return findings


def check_text_escaped(result: Result) -> list[Finding]:
    """The mirror of check_escaped: a text of the issue with '&', '<', '>' or a quote, found escaped as HTML in
    the text part, where a template of it is escaped: a partial it includes not named .txt.j2."""
    from markupsafe import escape

    from digest.checks.base import at, issue_texts

    if not any(code in result.text for code in ("&amp;", "&lt;", "&gt;", "&#39;", "&#34;")):
        return []  # the text part holds no HTML code at all: most emails
    texts = list(issue_texts(result))
    # More often in the text part than the editor typed it so (a code typed in the intro is theirs to show).
    return [Finding("text-escaped", ERROR, "shows as HTML codes in the text part (&amp;, &lt; …): a template of the "
                    "text part escapes it as HTML (a partial it includes not named something.txt.j2, or '| e')",
                    **at(result, field))
            for field, text in texts
            if any(c in text for c in "&<>\"'") and (escaped := str(escape(text))) != text
            and result.text.count(escaped) > sum(typed.count(escaped) for _, typed in texts)]


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
