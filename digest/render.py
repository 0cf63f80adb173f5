"""Turn an issue into an email: Jinja2 renders the theme's MJML and text templates, MRML compiles the MJML,
premailer inlines the CSS. Pure: the model in, strings out; nothing here touches the disk but the theme's
templates."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import asdict
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from digest.dates import longdate
from digest.exceptions import BuildError, IssueError
from digest.inline import inline_with_page
from digest.model import Issue, Newsletter, Result
from digest.platforms import FIRST_NAME, PLATFORMS, PlatformTags, platform_tags
from digest.theme import BUILTIN, HTML_TEMPLATE, TEXT_TEMPLATE, builtin_themes

TEXT_WIDTH = 78
TEXT_EXTENSIONS = ("txt", "txt.j2", "css", "css.j2")  # templates Jinja does not escape for HTML
# Where `wrap` broke a line, for the text part's format=flowed form (RFC 3676) in the .eml. A control
# character no issue or digest.toml can hold (the readers refuse them), taken out of email.txt.
SOFT_BREAK = "\x1f"


def render_email(issue: Issue, newsletter: Newsletter) -> Result:
    """The email of `issue` as MJML, HTML and text, with the merge tags of `newsletter.platform`."""
    env = environment(newsletter.theme.dirs)
    context = template_context(issue, newsletter)
    mjml_source = render_template(env, HTML_TEMPLATE, context)
    # Ending in a newline, like the text part: a text file, and the same bytes again out of the .eml's MIME part.
    html, page = inline_with_page(*compile_mjml(mjml_source, env))
    html = html.rstrip("\n") + "\n"
    text, flowed = text_parts(render_template(env, TEXT_TEMPLATE, context))
    images = [newsletter.logo] + [s.icon for s in newsletter.social] + [e.logo for e in issue.entries]
    # Only the images the theme shows are uploaded: the plain theme shows no icons nor entry logos.
    local = {img.path: img for img in images
             if img is not None and img.source is not None and (img.url in html or str(escape(img.url)) in html)}
    return Result(issue, newsletter, mjml_source, html, text, tuple(local.values()), page=page, flowed=flowed)


def text_parts(rendered: str) -> tuple[str, str]:
    """The text part as email.txt holds it, and as format=flowed (RFC 3676) for the .eml.

    In the flowed form a line `wrap` broke ends in a space, so a phone's mail program can join it again to
    its own width, and a line that starts with a space, '>' or 'From ' gets one more space in front, which
    the reader's program takes off again (space-stuffing); no other line ends in a space. A list item's
    hanging lines stay as they are: joined, their indentation would land inside the sentence.
    """
    plain, flowed = [], []
    for line in rendered.split("\n"):
        soft = line.endswith(SOFT_BREAK)
        line = line.replace(SOFT_BREAK, "").rstrip(" ")
        plain.append(line)
        stuffed = " " + line if line.startswith((" ", ">", "From ")) else line
        flowed.append(stuffed + " " if soft else stuffed)
    return "\n".join(plain), "\n".join(flowed)


def template_context(issue: Issue, newsletter: Newsletter) -> dict:
    """Every name a theme's templates see, besides the filters: the Themes page of the docs lists each."""
    tags = platform_tags(newsletter.platform)
    # The tags are our own constants: Markup keeps Jinja from turning their quotes into entities.
    safe_tags = {name: Markup(v) if isinstance(v, str) else v for name, v in asdict(tags).items()}
    greeting_html, greeting_text = _greeting(issue, tags, newsletter.platform)
    return {
        "newsletter": newsletter,
        "issue": issue,
        "colours": newsletter.colours,
        "tags": safe_tags,
        "greeting_html": greeting_html,
        "greeting_text": greeting_text,
        "archive_page": archive_page(issue, newsletter, tags),
    }


@functools.lru_cache(maxsize=8)
def environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    """Templates are looked up in `dirs` (the newsletter's templates/, then its theme), and the built-in themes
    by prefix, "default/email.mjml.j2", as Pelican's "!simple/": a newsletter's email.mjml.j2 extends the
    built-in one by that name, never itself. The prefix comes first so that it always means the built-in theme."""
    builtin = jinja2.PrefixLoader({name: Utf8Loader(str(folder)) for name, folder in builtin_themes().items()})
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([builtin, Utf8Loader([str(d) for d in dirs])]),
        # Every template is HTML, escaped, but the text part's and the web style sheet's: a partial a theme
        # includes (partials/entry.j2) must not put an issue's text into the email as markup.
        autoescape=jinja2.select_autoescape(disabled_extensions=TEXT_EXTENSIONS, default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,  # a misspelt name in a restyled theme is an error, not a blank
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,  # the preview edits templates under a running process
        bytecode_cache=bytecode_cache("email", TEXT_EXTENSIONS, True, True, True),
    )
    env.filters["wrap"] = wrap
    env.filters["longdate"] = longdate
    env.digest_folders = (*(d.resolve() for d in dirs), BUILTIN)  # where a template's file can be, for errors
    env.template_folders = tuple(Path(os.path.abspath(d)) for d in dirs)  # the same, as named
    return env


class Utf8Loader(jinja2.FileSystemLoader):
    """Templates from folders, as UTF-8 like every file digest reads: a template saved in another encoding is
    a BuildError naming its file and line, where Jinja would raise UnicodeDecodeError, which names neither."""

    def get_source(self, environment, template):
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError:
            from digest.files import decode

            for folder in self.searchpath:  # the file Jinja found: the first of that name, as it looks
                path = Path(folder, *jinja2.loaders.split_template_path(template))
                if path.is_file():
                    decode(path.read_bytes(), path, BuildError)
            raise
        from digest.files import MAX_INPUT_BYTES, size_text

        if len(source) > MAX_INPUT_BYTES:  # a template of millions of lines renders for minutes, into gigabytes
            raise BuildError(f"is {size_text(len(source.encode()), MAX_INPUT_BYTES)}: a template may be at most "
                             f"{size_text(MAX_INPUT_BYTES)}", filename)
        # A byte-order mark, as some Windows editors save one, would open the email's text.
        return source.removeprefix("\ufeff"), filename, uptodate


def bytecode_cache(*options) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling the theme is a third of a cold build's own work.

    `options`: what the environment compiles with that changes the code (what it escapes, whitespace). Jinja
    keys its cache by the template's name and text alone: code compiled under other options (an older
    digest's, which escaped fewer templates) would be run as it was."""
    import hashlib

    from digest.caches import cache_folder

    folder = cache_folder("jinja")
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: build without the cache
    options_key = hashlib.sha256(repr(options).encode()).hexdigest()[:12]
    return _KeptIfPossible(str(folder), pattern=f"__jinja2_{options_key}_%s.cache")


class _KeptIfPossible(jinja2.FileSystemBytecodeCache):
    """The cache as a help, never a cause: a full disk or a folder made read-only since means compiling
    again, where Jinja's own would fail the build with an OSError blamed on the template."""

    def load_bytecode(self, bucket):
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable, or a file cut short (pickle and marshal raise what they raise)
            bucket.reset()

    def dump_bytecode(self, bucket):
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


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


def render_template(env: jinja2.Environment, name: str, context: dict) -> str:
    """Template `name` filled with `context`; any mistake in a theme is a BuildError naming its file and line."""
    try:
        return env.get_template(name).render(context)
    except BuildError:  # a template that is not UTF-8 (see Utf8Loader), named already
        raise
    except jinja2.TemplateSyntaxError as exc:  # unknown filters and tests too: they fail to compile
        raise BuildError(f"template error: {exc.message}", exc.filename or name, exc.lineno) from None
    except RecursionError:
        raise _loop(env, name) from None
    except Exception as exc:  # an unknown variable, a missing include, 1/0: whatever a template's code does
        path, line = _template_line(env, exc)
        if isinstance(exc, jinja2.TemplateNotFound):
            problem = f"template error: the theme has no template {exc.name!r}"
        elif isinstance(exc, jinja2.TemplateError):
            # "'digest.model.Newsletter object' has no attribute 'nope'": the name a template knows it by.
            problem = "template error: " + re.sub(r"'(?:\w+\.)*(\w+) object'", r"\1", exc.message or "")
        else:
            problem = f"template error: {type(exc).__name__}: {exc}"
        raise BuildError(problem, path or _template_file(env, name), line) from None


def _template_line(env: jinja2.Environment, exc: Exception) -> tuple[str | None, int | None]:
    """The template file and line the error happened on: Jinja writes them into the traceback's frames."""
    import traceback

    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        # As found, not where a link leads: an override linked from elsewhere is still the newsletter's.
        path = Path(os.path.abspath(frame.filename))
        if any(path.is_relative_to(folder) for folder in env.template_folders) \
                or any(path.resolve().is_relative_to(folder) for folder in env.digest_folders):
            return frame.filename, frame.lineno
    return None, None


def _loop(env: jinja2.Environment, name: str) -> BuildError:
    """A template that extends or includes itself, through any chain: one line naming where the chain closes."""
    from jinja2 import nodes

    # The built-in theme to build on is the newsletter's own (the last of its folders), else the default one.
    base = next((n for n, folder in builtin_themes().items() if folder in env.digest_folders[-2:-1]), "default")

    def follow(name: str, seen: tuple[str, ...]) -> BuildError | None:
        try:
            source, filename, _ = env.loader.get_source(env, name)
            tree = env.parse(source, name, filename)
        except jinja2.TemplateError:
            return None
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            if not isinstance(node.template, nodes.Const):
                continue
            target = node.template.value
            target_file = _template_file(env, target)
            if target_file in seen or target_file == filename:
                how = "extends" if isinstance(node, nodes.Extends) else "includes"
                # The way out of an override extending itself; an include loop is the theme's own.
                builtin = isinstance(node, nodes.Extends) and "/" not in target and BUILTIN in env.digest_folders
                hint = f': to build on the built-in theme, extend "{base}/{target}"' if builtin else ""
                return BuildError(f"template error: {how} {target!r}, which leads back to itself{hint}", filename, node.lineno)
            if found := follow(target, (*seen, filename)):
                return found
        return None

    return follow(name, ()) or BuildError("template error: the templates call themselves without end (a macro that "
                                          "calls itself, or a loop of templates)", _template_file(env, name))


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
        if marker and len(words) > 1:  # the marker stays with the item's first word, however long that is
            words = [f"{words[0]} {words[1]}", *words[2:]]
        current = lead + words[0]
        for word in words[1:]:
            if len(current) + 1 + len(word) <= width:
                current += " " + word
            else:
                out.append(current if hang else current + SOFT_BREAK)
                current = hang + word
        out.append(current)
    return "\n".join(out)


_LIST_MARKER = re.compile(r"(?:[-*]|\d+\.) ")
