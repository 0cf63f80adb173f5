"""Turn an issue into an email: Jinja2 renders the theme's MJML and text templates, MRML compiles the MJML,
premailer inlines the CSS. Pure: the model in, strings out; nothing here touches the disk but the theme's
templates."""

from __future__ import annotations

import functools
import re
from dataclasses import asdict
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from digest.exceptions import BuildError, IssueError
from digest.inline import inline_css
from digest.model import Issue, Newsletter, Result
from digest.platforms import FIRST_NAME, PLATFORMS, PlatformTags, platform_tags
from digest.theme import theme_dirs

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
TEXT_WIDTH = 78


def render_email(issue: Issue, newsletter: Newsletter) -> Result:
    """The email of `issue` as MJML, HTML and text, with the merge tags of `newsletter.platform`."""
    tags = platform_tags(newsletter.platform)
    env = environment(tuple(theme_dirs(newsletter.root)))
    # The tags are our own constants: Markup keeps Jinja from turning their quotes into entities.
    safe_tags = {name: Markup(v) if isinstance(v, str) else v for name, v in asdict(tags).items()}
    context = {
        "newsletter": newsletter,
        "issue": issue,
        "colours": newsletter.colours,
        "tags": safe_tags,
        "archive_page": archive_page(issue, newsletter, tags),
    }
    context["greeting_html"], context["greeting_text"] = _greeting(issue, tags, newsletter.platform)
    mjml_source = _render(env, HTML_TEMPLATE, context)
    # Ending in a newline, like the text part: a text file, and the same bytes again out of the .eml's MIME part.
    html = inline_css(*compile_mjml(mjml_source, env)).rstrip("\n") + "\n"
    text = _render(env, TEXT_TEMPLATE, context)
    images = [newsletter.logo] + [s.icon for s in newsletter.social] + [e.logo for e in issue.entries]
    local = {img.path: img for img in images if img is not None and img.source is not None}
    return Result(issue, newsletter, mjml_source, html, text, tuple(local.values()))


def render_template(root: Path, name: str, context: dict) -> str:
    """One of the theme's templates (the newsletter's own templates/ first), in the environment the email uses."""
    return _render(environment(tuple(theme_dirs(root))), name, context)


@functools.lru_cache(maxsize=8)
def environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("mjml", "mjml.j2", "html", "html.j2"), default=False),
        undefined=jinja2.StrictUndefined,  # a misspelt name in a restyled theme is an error, not a blank
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,  # the preview edits templates under a running process
        bytecode_cache=bytecode_cache(),
    )
    env.filters["wrap"] = wrap
    env.filters["longdate"] = lambda d: f"{d.day} {d:%B %Y}"
    return env


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling the theme is a third of a cold build's own work."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "digest", "jinja")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None  # a read-only home: build without the cache
    return jinja2.FileSystemBytecodeCache(folder)


def archive_page(issue: Issue, newsletter: Newsletter, tags: PlatformTags) -> str | None:
    """The issue's page in the archive, where digest.toml's view_online makes the email link to it."""
    if newsletter.view_online == "archive-always" or (newsletter.view_online == "archive" and not tags.view_online):
        return f"{newsletter.archive_url}{issue.slug}/"
    return None


def _greeting(issue: Issue, tags: PlatformTags, platform: str) -> tuple[Markup | None, str | None]:
    """The issue's greeting as HTML (escaped) and text, with {first_name} replaced by the platform's tag."""
    if issue.greeting is None:
        return None, None
    parts = issue.greeting.split(FIRST_NAME)
    if len(parts) > 1 and tags.first_name is None:
        with_tag = ", ".join(name for name, t in PLATFORMS.items() if t.first_name)
        raise IssueError(
            f"the {platform} platform has no first-name tag: write the greeting without {FIRST_NAME}, "
            f"or build for a platform that has one ({with_tag})",
            issue.path, issue.source.line("greeting"), "greeting",
        )
    tag = tags.first_name or ""
    return Markup(tag).join(escape(part) for part in parts), tag.join(parts)


def _render(env: jinja2.Environment, name: str, context: dict) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"template error: {exc.message}", exc.filename or name, exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise BuildError(f"the theme has no template {exc.name!r}", dirs_label(env)) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(f"template error: {exc.message}", _template_file(env, name)) from None


_INLINE_STYLE = re.compile(r"<mj-style\s+inline=[\"']inline[\"']\s*>(.*?)</mj-style>", re.DOTALL)


def compile_mjml(source: str, env: jinja2.Environment | None = None) -> tuple[str, str]:
    """MJML to HTML, and the CSS of `<mj-style inline="inline">`, which MRML leaves to us to inline."""
    import mjml

    css = "\n".join(_INLINE_STYLE.findall(source))
    try:
        return mjml.mjml2html(_INLINE_STYLE.sub("", source), disable_comments=True, fonts={}), css
    except ValueError as exc:
        where = _template_file(env, HTML_TEMPLATE) if env else HTML_TEMPLATE
        raise BuildError(f"the theme's MJML is not valid: {str(exc).splitlines()[0]}", where) from None


def _template_file(env: jinja2.Environment, name: str) -> str:
    try:
        source, filename, _ = env.loader.get_source(env, name)
        return filename
    except jinja2.TemplateNotFound:
        return name


def dirs_label(env: jinja2.Environment) -> str:
    return ", ".join(env.loader.searchpath)


@functools.lru_cache(maxsize=4096)  # a rebuild wraps the same paragraphs again, but for the one edited
def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Wrap plain text at `width` columns; addresses longer than that stand alone on their line.

    Greedy, on spaces only, like textwrap with break_long_words and break_on_hyphens off, at a tenth of
    its cost: the text part of a long issue is thousands of lines.
    """
    out = []
    for line in text.split("\n"):
        words = line.split()
        if not words:
            out.append("")
            continue
        lead = indent + line[: len(line) - len(line.lstrip())]
        marker = _LIST_MARKER.match(line.lstrip())
        hang = lead + " " * len(marker.group(0)) if marker else lead
        current = lead + words[0]
        for word in words[1:]:
            if len(current) + 1 + len(word) <= width:
                current += " " + word
            else:
                out.append(current)
                current = hang + word
        out.append(current)
    return "\n".join(out)


_LIST_MARKER = re.compile(r"(?:[-*]|\d+\.) ")
