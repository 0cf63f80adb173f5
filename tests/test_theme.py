"""Themes: the built-in default and plain, a newsletter's own templates/ over them, theme.toml, blocks,
`digest theme list` and `digest theme copy`, and the template context as docs/themes.md lists it."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import typing
from pathlib import Path

import jinja2
import pytest
from lxml import html as lxml_html

import digest
from conftest import REPO, SAMPLE_ISSUE
from digest.exceptions import BuildError, ConfigError
from digest.model import ERROR, WARNING
from digest.theme import BUILTIN, DEFAULT_THEME
from test_cli import run

DOCS = REPO / "docs" / "themes.md"
# The example of docs/themes.md, read from the page: the newsletter's own email.mjml.j2, four lines, restyling
# the footer only.
FOOTER = re.search(r"```jinja\n(\{% extends \"default/email.mjml.j2\" %\}\n.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)


def own(newsletter, name: str, text: str) -> Path:
    """A file of the newsletter's own templates/ folder."""
    path = newsletter.root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def set_theme(newsletter, value: str) -> None:
    text = newsletter.config.read_text(encoding="utf-8")
    newsletter.config.write_text(re.sub(r'(?m)^theme = .*\n', "", text), encoding="utf-8")
    setting(newsletter, f'theme = "{value}"')


def setting(newsletter, line: str) -> None:
    """A top-level line of digest.toml, before its tables."""
    newsletter.config.write_text(line + "\n" + newsletter.config.read_text(encoding="utf-8"), encoding="utf-8")


def sample_with(tmp_path: Path, theme: str) -> Path:
    """The sample newsletter (its digest.toml and issues/) with `theme` set: the sample issue's path."""
    shutil.copytree(REPO / "issues", tmp_path / "issues")
    config = (REPO / "digest.toml").read_text(encoding="utf-8")
    (tmp_path / "digest.toml").write_text(f'theme = "{theme}"\n' + config, encoding="utf-8")
    return tmp_path / "issues" / SAMPLE_ISSUE.name


def errors(result) -> list:
    return [f for f in result.findings if f.severity == ERROR]


# --- blocks -----------------------------------------------------------------------------------------------


def test_a_four_line_template_restyles_only_the_footer(newsletter):
    before = digest.build(newsletter.issue)
    assert len(FOOTER.splitlines()) == 4
    own(newsletter, "email.mjml.j2", FOOTER)
    after = digest.build(newsletter.issue)
    assert [f.id for f in after.findings] == [f.id for f in before.findings] == ["unsubscribe-placeholder"]
    assert "Test Org · 1 Test Street, Testville · Unsubscribe" in after.page.visible
    assert "https://www.testnews.example/" not in [link.href for link in after.page.links]  # the theme's footer had it
    # Everything up to the footer is the default theme's, to the byte; the text part is untouched.
    start = before.mjml.rindex("\n", 0, before.mjml.index('<mj-section padding="8px 0 32px"')) + 1
    assert after.mjml[:start] == before.mjml[:start]
    assert after.mjml[start:].startswith('<mj-section padding="24px 0" css-class="dm-footer">')
    assert after.text == before.text
    built = run("build", str(newsletter.issue), "--out", str(newsletter.root / "out"))
    assert built.exit_code == 0, built.output
    assert 'align="center"' in (newsletter.root / "out" / "test-issue" / "email.mjml").read_text()
    # On Buttondown, which adds its own unsubscribe footer, there is no tag: the example writes no link.
    buttondown = digest.build(newsletter.issue, platform="buttondown")
    assert "Test Org · 1 Test Street, Testville" in buttondown.page.visible and "Unsubscribe" not in buttondown.page.visible


def test_a_block_can_add_to_the_theme_s_with_super(newsletter):
    own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n'
        "{% block head_style %}{{ super() }} h2 { letter-spacing: 0.01em; }{% endblock %}\n")
    html = digest.build(newsletter.issue).html
    assert re.search(r"<h2 style=\"[^\"]*letter-spacing:0.01em", html)
    assert "<h1 style=\"margin:0; font-size:26px" in html  # the theme's own rules are still there


def test_a_replaced_entry_block_sees_the_entry_and_the_loop(newsletter):
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n'
        "{% block entry %}\n#{{ loop.index }} {{ entry.title | upper }}: {{ entry.link }}\n{% endblock %}\n")
    text = digest.build(newsletter.issue).text
    assert "#1 A TRIAL OF SOMETHING: https://clinicaltrials.gov/study/NCT00000001\n" in text
    assert "====" not in text and "Unsubscribe: {{ unsubscribe_url }}" in text


def test_an_override_that_extends_itself_is_one_line_naming_it(newsletter, tmp_path):
    path = own(newsletter, "email.mjml.j2", '{% extends "email.mjml.j2" %}\n')
    with pytest.raises(BuildError) as caught:
        digest.build(newsletter.issue)
    assert (Path(caught.value.path), caught.value.line) == (path, 1)
    assert caught.value.problem == ("template error: extends 'email.mjml.j2', which leads back to itself: to build "
                                    'on the built-in theme, extend "default/email.mjml.j2"')
    process = subprocess.run([sys.executable, "-m", "digest", "build", "issues/test-issue.yaml"], capture_output=True,
                             text=True, cwd=newsletter.root)
    assert process.returncode == 1
    assert process.stderr == "templates/email.mjml.j2:1: " + caught.value.problem + "\n"
    assert not (newsletter.root / "build").exists()


def test_the_way_out_of_a_loop_builds_on_the_newsletter_s_own_built_in_theme(newsletter):
    set_theme(newsletter, "plain")  # extending default/ would change the whole look of a plain newsletter
    own(newsletter, "email.mjml.j2", '{% extends "email.mjml.j2" %}\n')
    with pytest.raises(BuildError, match='extend "plain/email.mjml.j2"$'):
        digest.build(newsletter.issue)


def test_a_loop_through_includes_names_where_it_closes(newsletter):
    own(newsletter, "email.txt.j2", "Hello\n{% include 'part.j2' %}\n")
    part = own(newsletter, "part.j2", "\n\n{% include 'email.txt.j2' %}\n")
    with pytest.raises(BuildError) as caught:
        digest.build(newsletter.issue)
    assert (Path(caught.value.path), caught.value.line) == (part, 3)
    assert caught.value.problem.startswith("template error: includes 'email.txt.j2', which leads back to itself")


def test_issue_text_stays_escaped_in_a_partial_the_theme_includes(newsletter):
    # Only templates named .mjml.j2 or .html.j2 were escaped: a partial named entry.j2 put an issue's text
    # into the email as markup.
    own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n'
        '{% block entry %}{% include "partials/entry.j2" %}{% endblock %}\n')
    own(newsletter, "partials/entry.j2", "<mj-section><mj-column><mj-text><h2>{{ entry.title }}</h2></mj-text>"
        '<mj-button href="{{ entry.link }}">{{ entry.link_label }}</mj-button></mj-column></mj-section>\n')
    own(newsletter, "partials/entry.txt.j2", "{{ entry.title }} & more\n")
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n'
        '{% block entry %}{% include "partials/entry.txt.j2" %}{% endblock %}\n')
    text = newsletter.issue.read_text(encoding="utf-8")
    newsletter.issue.write_text(text.replace("title: A trial of something", "title: 'A <b onmouseover=\"x()\">trial</b>'"),
                                encoding="utf-8")
    result = digest.build(newsletter.issue)
    assert '>A &lt;b onmouseover="x()"&gt;trial&lt;/b&gt;</h2>' in result.html and "<b onmouseover" not in result.html
    assert 'A <b onmouseover="x()">trial</b> & more\n' in result.text  # the text part is text: never escaped


@pytest.mark.parametrize("block", ["{{ entry.title | safe }}", "{% autoescape false %}{{ entry.title }}{% endautoescape %}"])
def test_a_template_that_writes_issue_text_unescaped_is_an_error_on_the_field(newsletter, block):
    own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n{% block entry %}<mj-section><mj-column>'
        f"<mj-text><h2>{block}</h2></mj-text></mj-column></mj-section>{{% endblock %}}\n")
    text = newsletter.issue.read_text(encoding="utf-8")
    newsletter.issue.write_text(text.replace("title: A trial of something", "title: 'A <i>trial</i>'"), encoding="utf-8")
    found = [f for f in digest.build(newsletter.issue).findings if f.id == "unescaped-text"]
    assert [(f.severity, f.path, f.line, f.field) for f in found] == [(ERROR, newsletter.issue, 8, "entries[1].title")]
    own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n')
    assert not [f for f in digest.build(newsletter.issue).findings if f.id == "unescaped-text"]


def test_an_element_mjml_does_not_have_is_an_error_on_its_line_of_the_mjml(newsletter):
    own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n{% block outro %}\n'
        "<mj-section><mj-colum><mj-text>Thanks for reading</mj-text></mj-colum></mj-section>\n{% endblock %}\n")
    result = digest.build(newsletter.issue)
    [found] = [f for f in result.findings if f.id == "mjml-element"]
    assert (found.severity, found.path) == (ERROR, "email.mjml")
    assert result.mjml.splitlines()[found.line - 1].startswith("<mj-section><mj-colum>")
    assert found.message.startswith("<mj-colum> is not an MJML element") and "did you mean <mj-column>?" in found.message
    # Every element the built-in themes use is MJML's.
    for theme in ("default", "plain"):
        set_theme(newsletter, theme)
        (newsletter.root / "templates" / "email.mjml.j2").unlink(missing_ok=True)
        assert not [f for f in digest.build(newsletter.issue).findings if f.id == "mjml-element"]


def test_templates_compiled_under_other_options_are_not_taken_from_the_cache(newsletter):
    # Jinja keys its bytecode by the template's name and text: a partial compiled unescaped by an older digest
    # was run unescaped again after the upgrade.
    from digest.render import bytecode_cache, environment

    env = environment((newsletter.root / "templates",))
    assert env.bytecode_cache.pattern != bytecode_cache("email", ("txt",), True, True, True).pattern
    own(newsletter, "part.j2", "{{ '<b>' }}\n")
    folder = Path(env.bytecode_cache.directory)
    stale = jinja2.Environment(loader=jinja2.FileSystemLoader(str(newsletter.root / "templates")), autoescape=False,
                               keep_trailing_newline=True,
                               bytecode_cache=jinja2.FileSystemBytecodeCache(str(folder)))
    assert stale.get_template("part.j2").render() == "<b>\n"  # compiled unescaped, kept as Jinja names it
    assert env.get_template("part.j2").render() == "&lt;b&gt;\n"


def test_a_cache_folder_that_cannot_be_written_only_means_compiling_again(tmp_path, monkeypatch):
    # A full disk, or a cache folder gone or made read-only: every build failed, blamed on the built-in template.
    from digest.render import bytecode_cache

    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    cache = bytecode_cache("test")
    shutil.rmtree(cache.directory)
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.txt": "{{ 6 * 7 }}"}), bytecode_cache=cache)
    assert env.get_template("a.txt").render() == "42"


def test_a_cached_template_cut_short_only_means_compiling_again(tmp_path, monkeypatch):
    from digest.render import bytecode_cache

    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    loader = jinja2.DictLoader({"a.txt": "{{ 6 * 7 }}"})
    assert jinja2.Environment(loader=loader, bytecode_cache=bytecode_cache("test")).get_template("a.txt").render() == "42"
    [kept] = Path(bytecode_cache("test").directory).iterdir()
    data = kept.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 40)):  # inside the header, the checksum, the code
        kept.write_bytes(data[:cut])
        assert jinja2.Environment(loader=loader, bytecode_cache=bytecode_cache("test")).get_template("a.txt").render() == "42"


def test_theme_copy_into_a_group_s_folder_with_files_gives_the_theme_its_group(newsletter):
    templates = newsletter.root / "templates"
    own(newsletter, "notes.txt", "mine\n")
    os.chown(templates, -1, 65534)
    os.chmod(templates, 0o2775)
    assert run("theme", "copy", cwd=newsletter.root).exit_code == 0
    assert {p.stat().st_gid for p in templates.rglob("*") if p.name != "notes.txt"} == {65534}


def test_an_error_in_an_override_linked_from_elsewhere_names_the_override(newsletter, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "email.mjml.j2").write_text('{% extends "default/email.mjml.j2" %}\n{% block footer %}\n'
                                             "{{ newsletter.nope }}\n{% endblock %}\n", encoding="utf-8")
    (newsletter.root / "templates").mkdir()
    (newsletter.root / "templates" / "email.mjml.j2").symlink_to(elsewhere / "email.mjml.j2")
    with pytest.raises(BuildError) as caught:
        digest.build(newsletter.issue)
    assert (Path(caught.value.path), caught.value.line) == (newsletter.root / "templates" / "email.mjml.j2", 3)


def test_a_template_with_a_byte_order_mark_does_not_put_it_in_the_email(newsletter):
    own(newsletter, "email.txt.j2", '\ufeff{% extends "default/email.txt.j2" %}\n')
    own(newsletter, "email.mjml.j2", '\ufeff{% extends "default/email.mjml.j2" %}\n')
    result = digest.build(newsletter.issue)
    assert "\ufeff" not in result.text and "\ufeff" not in result.mjml and "\ufeff" not in result.html


def test_a_template_past_1_mb_is_one_line_naming_it(newsletter):
    path = own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n{% block outro %}\n'
               + ("x" * 99 + "\n") * 11_000 + "{% endblock %}\n")
    with pytest.raises(BuildError) as caught:
        digest.build(newsletter.issue)
    assert (Path(caught.value.path), caught.value.problem) == (path, "is 1,100,070 bytes: a template may be at most 1 MB")


@pytest.mark.parametrize("template, line, problem", [
    ("subject: {{ subject|yaml }}\n{{ 1/0 }}\n", 2, "template error: ZeroDivisionError: division by zero"),
    ('{% include "issue.yaml.j2" %}\n', 1, "template error: includes 'issue.yaml.j2', which leads back to itself"),
    ("subject: {{ nope }}\n", 1, "template error: 'nope' is undefined"),
])
def test_a_mistake_in_a_starter_template_is_one_line_naming_it(newsletter, template, line, problem):
    # `digest new` ended in a traceback (ZeroDivisionError, RecursionError), or named no line.
    own(newsletter, "new/issue.yaml.j2", template)
    result = run("new", "Hello", cwd=newsletter.root)
    assert (result.exit_code, result.output) == (1, f"templates/new/issue.yaml.j2:{line}: {problem}\n")


@pytest.mark.parametrize("name, data, line, problem", [
    ("email.txt.j2", '{% extends "default/email.txt.j2" %}\n{% block outro %}caf\xe9{% endblock %}\n'.encode("latin-1"),
     2, "is not UTF-8 text: save it as UTF-8 in your editor"),
    ("email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n'.encode("utf-16"), None,
     "is UTF-16 text: save it as UTF-8 in your editor"),
    ("part.j2", "ok\n\ncaf\xe9\n".encode("cp1252"), 3, "is not UTF-8 text: save it as UTF-8 in your editor"),
    ("new/issue.yaml.j2", "subject: caf\xe9\n".encode("latin-1"), 1, "is not UTF-8 text: save it as UTF-8 in your editor"),
])
def test_a_template_not_saved_as_utf8_is_one_line_naming_it(newsletter, name, data, line, problem):
    # Jinja raises UnicodeDecodeError, which names no file: a Windows editor saving "ANSI" made a traceback.
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n'
        "{% block outro %}{% include 'part.j2' %}{% endblock %}\n")
    own(newsletter, "part.j2", "ok\n")
    path = newsletter.root / "templates" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    command = ["new", "--date", "2024-07-01"] if name.startswith("new/") else ["build", "issues/test-issue.yaml"]
    process = subprocess.run([sys.executable, "-m", "digest", *command], capture_output=True, text=True, cwd=newsletter.root)
    assert process.returncode == 1 and "Traceback" not in process.stderr
    place = f"templates/{name}:{line}:" if line else f"templates/{name}:"
    assert process.stderr == f"{place} {problem}\n"
    if not name.startswith("new/"):
        with pytest.raises(BuildError) as caught:
            digest.build(newsletter.issue)
        assert (Path(caught.value.path), caught.value.line, caught.value.problem) == (path, line, problem)


@pytest.mark.parametrize("line, problem", [
    ("{% if %}", "template error: Expected an expression, got 'end of statement block'"),
    ("{{ newsletter.nope }}", "template error: Newsletter has no attribute 'nope'"),
    ("{{ nothing_of_the_kind }}", "template error: 'nothing_of_the_kind' is undefined"),
    ("{{ issue.subject | nofilter }}", "template error: No filter named 'nofilter'."),
    ("{% include 'nothere.j2' %}", "template error: the theme has no template 'nothere.j2'"),
    ("{{ 1 / 0 }}", "template error: ZeroDivisionError: division by zero"),
])
def test_a_template_error_is_one_line_with_the_file_and_line(newsletter, line, problem):
    path = own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n{% block footer %}\n'
               f"<mj-section><mj-column><mj-text>{line}</mj-text></mj-column></mj-section>\n{{% endblock %}}\n")
    with pytest.raises(BuildError) as caught:
        digest.build(newsletter.issue)
    assert (Path(caught.value.path), caught.value.line, caught.value.problem) == (path, 3, problem)


def test_a_block_the_parent_has_not_is_a_warning_on_its_line(newsletter):
    path = own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n{% block intro %}{{ super() }}'
               "{% block my_part %}{% endblock %}{% endblock %}\n\n{% block fotter %}x{% endblock %}\n")
    result = digest.build(newsletter.issue)
    (block,) = [f for f in result.findings if f.id == "theme-block"]  # my_part, inside a known block, is fine
    assert (block.severity, Path(block.path), block.line) == (WARNING, path, 4)
    assert block.message == "'default/email.mjml.j2' has no block 'fotter', so this one is never shown; did you mean 'footer'?"
    built = run("build", str(newsletter.issue), "--out", str(newsletter.root / "out"))
    assert built.exit_code == 0  # a warning: the email is written
    assert "templates/email.mjml.j2:4: warning: 'default/email.mjml.j2' has no block 'fotter'" in built.output


def test_the_sample_s_themes_have_no_unknown_blocks(sample_email):
    assert not [f for f in sample_email.findings if f.id == "theme-block"]


# --- the plain theme --------------------------------------------------------------------------------------


def test_plain_builds_the_sample_clean_and_light(tmp_path, sample_email):
    result = digest.build(sample_with(tmp_path, "plain"))
    assert result.findings == []
    assert len(result.html.encode("utf-8")) <= 24 * 1024
    tree = lxml_html.fromstring(result.html)
    assert list(tree.iter("img")) == [] and result.images == ()  # no icons, no entry logos: nothing to upload
    assert [h.text_content() for h in tree.iter("h2")] == [h.text_content() for h in lxml_html.fromstring(sample_email.html).iter("h2")]
    assert [a.text_content() for a in tree.iter("a")][:4] == ["Facebook", "X", "Instagram", "YouTube"]
    assert "@media (prefers-color-scheme: dark)" in result.html and 'name="color-scheme" content="light dark"' in result.html
    assert result.text == sample_email.text  # its text part is the default theme's
    folder = digest.write(result, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["email.html", "email.mjml", "email.txt"]


def test_plain_shows_the_logo_and_no_other_image(newsletter):
    set_theme(newsletter, "plain")
    setting(newsletter, 'logo = { src = "issues/images/logo.png", alt = "Test News" }')
    newsletter.config.write_text(newsletter.config.read_text() + '\n[colours]\nbrand = "#123456"\n')
    result = digest.build(newsletter.issue)
    assert [(img.get("alt"), img.get("width")) for img in lxml_html.fromstring(result.html).iter("img")] == [("Test News", "160")]
    assert [image.path for image in result.images] == ["issues/images/logo.png"]
    assert "color:#123456" in result.html.replace(" ", "")


def thirty_entries(issue: Path) -> Path:
    text = issue.read_text(encoding="utf-8")
    head, entries = text.split("entries:\n")
    entries, outro = entries.split("\noutro:", 1) if "\noutro:" in entries else (entries, None)
    copies = "".join(entries.replace("NCT0", f"NCT{i}").replace("Naltrexone for", f"Naltrexone (study {i}) for") for i in range(10))
    big = issue.with_name("thirty.yaml")
    big.write_text(head + "entries:\n" + copies + (f"\noutro:{outro}" if outro is not None else ""), encoding="utf-8")
    return big


def test_plain_stays_well_under_gmail_s_clip_with_30_entries(tmp_path):
    result = digest.build(thirty_entries(sample_with(tmp_path, "plain")))
    assert len(result.issue.entries) == 30
    assert len(result.html.encode("utf-8")) < 64 * 1024  # 102 KB clips; the sample's long entries make ~60 KB
    assert not [f for f in result.findings if f.id.startswith("size-")]


# --- theme.toml, social networks, colours -----------------------------------------------------------------


def test_pixelfed_is_an_icon_and_two_lines_of_theme_toml(newsletter):
    newsletter.config.write_text(newsletter.config.read_text() + '\n[[social]]\nplatform = "pixelfed"\nurl = "https://pixelfed.social/testnews"\n')
    with pytest.raises(ConfigError, match="social\\[2\\].platform: the default theme has no 'pixelfed'"):
        digest.build(newsletter.issue)
    (newsletter.root / "templates" / "icons").mkdir(parents=True)
    shutil.copyfile(DEFAULT_THEME / "icons" / "mastodon.png", newsletter.root / "templates" / "icons" / "pixelfed.png")
    own(newsletter, "theme.toml", '[social]\npixelfed = { label = "Pixelfed", icon = "icons/pixelfed.png" }\n')
    result = digest.build(newsletter.issue)
    assert not errors(result)
    icons = [(img.get("alt"), img.get("src")) for img in lxml_html.fromstring(result.html).iter("img") if "icons/" in img.get("src")]
    assert icons == [("Facebook", "https://cdn.testnews.example/news/icons/facebook.png"),
                     ("Pixelfed", "https://cdn.testnews.example/news/icons/pixelfed.png")]
    assert "- Pixelfed: https://pixelfed.social/testnews" in result.text
    folder = digest.write(result, newsletter.root / "out")
    assert (folder / "icons" / "pixelfed.png").read_bytes() == (DEFAULT_THEME / "icons" / "mastodon.png").read_bytes()


def test_an_icon_of_the_newsletter_s_own_templates_replaces_the_theme_s(newsletter):
    (newsletter.root / "templates" / "icons").mkdir(parents=True)
    shutil.copyfile(DEFAULT_THEME / "icons" / "rss.png", newsletter.root / "templates" / "icons" / "facebook.png")
    folder = digest.write(digest.build(newsletter.issue), newsletter.root / "out")
    assert (folder / "icons" / "facebook.png").read_bytes() == (DEFAULT_THEME / "icons" / "rss.png").read_bytes()


def test_a_network_without_an_icon_is_a_link_of_words(newsletter):
    own(newsletter, "theme.toml", '[social]\npixelfed = { label = "Pixelfed" }\n')
    newsletter.config.write_text(newsletter.config.read_text() + '\n[[social]]\nplatform = "pixelfed"\nurl = "https://pixelfed.social/testnews"\n')
    result = digest.build(newsletter.issue)
    assert not errors(result)
    assert ("Pixelfed", "https://pixelfed.social/testnews") in [(link.text, link.href) for link in result.page.links]
    assert [image.path for image in result.images if image.path.startswith("icons/")] == ["icons/facebook.png"]


def test_colours_are_the_theme_s_then_templates_theme_toml_s_then_digest_toml_s(newsletter):
    set_theme(newsletter, "plain")
    assert digest.build(newsletter.issue).newsletter.colours.text == "#1b1f24"  # plain's theme.toml
    own(newsletter, "theme.toml", '[colours]\ntext = "#101010"\nmuted = "#333333"\n')
    colours = digest.build(newsletter.issue).newsletter.colours
    assert (colours.text, colours.muted) == ("#101010", "#333333")
    newsletter.config.write_text(newsletter.config.read_text() + '\n[colours]\ntext = "#000000"\n')
    result = digest.build(newsletter.issue)
    assert (result.newsletter.colours.text, result.newsletter.colours.muted) == ("#000000", "#333333")
    assert result.newsletter.theme.colours.text == "#101010"


def test_the_contrast_check_tests_the_pairs_the_theme_declares(newsletter):
    set_theme(newsletter, "plain")
    newsletter.config.write_text(newsletter.config.read_text() + '\n[colours]\nmuted = "#aaaaaa"\nbackground = "#777777"\n')
    found = [f.message for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    # plain paints muted text on surface only: the default theme's footer pair (on background) is not plain's.
    assert len(found) == 1 and found[0].startswith("muted #aaaaaa on surface #ffffff (dates, trial details and the footer)")
    own(newsletter, "theme.toml", 'contrast = [["text", "background", "the banner"]]\n')
    found = [f.message for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert len(found) == 2 and "text #1b1f24 on background #777777 (the banner)" in found[1]


def test_a_pair_that_paints_only_large_text_is_held_to_3_to_1(newsletter):
    # WCAG 2.1 AA asks 4.5:1 of text, 3:1 of large text (24 px, or 18.66 px bold): a theme marks such a pair "large".
    set_theme(newsletter, "plain")
    own(newsletter, "theme.toml", 'contrast = [["text", "background", "the 40 px banner", "large"]]\n')
    newsletter.config.write_text(newsletter.config.read_text() + '\n[colours]\nbackground = "#777777"\n')  # 3.70:1 with text
    assert not [f for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    newsletter.config.write_text(newsletter.config.read_text().replace("#777777", "#555555"))  # 2.22:1
    [found] = [f.message for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert found.startswith("text #1b1f24 on background #555555 (the 40 px banner) has a contrast of 2.22:1")
    assert "below the 3:1 that WCAG 2.1 AA asks for large text: make background lighter" in found
    # The same pair also painting small text is held to 4.5:1.
    own(newsletter, "theme.toml", 'contrast = [["text", "background", "the 40 px banner", "large"], '
                                  '["text", "background", "the banner\'s small print"]]\n')
    newsletter.config.write_text(newsletter.config.read_text().replace("#555555", "#777777"))
    [found] = [f.message for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert "(the banner's small print)" in found and "below the 4.5:1 that WCAG 2.1 AA asks for: " in found


@pytest.mark.parametrize("change, expected", [
    (lambda t: 'colour = "x"\n' + t, "mine/theme.toml:1: colour: unknown key: did you mean 'colours'?"),
    (lambda t: t + 'rss2 = "x"\n', "mine/theme.toml:54: social.rss2: must be a table"),
    (lambda t: t.replace('x = { label = "X", icon', 'x = { lable = "X", icon'), "mine/theme.toml:43: social.x.lable: unknown key: did you mean 'label'?"),
    (lambda t: t.replace("icons/x.png", "icons/nothere.png"), "mine/theme.toml:43: social.x.icon: no icon file 'icons/nothere.png' in mine"),
    (lambda t: t.replace("icons/x.png", "../x.png"), "mine/theme.toml:43: social.x.icon: '../x.png' must be a path inside the theme folder"),
    (lambda t: t.replace('dark_link = "#8ab4f8"\n', ""), "mine/theme.toml:24: colours: a theme gives every colour; missing: dark_link"),
    (lambda t: t.replace('brand = "#1d4f91"', 'brand = "blue"'), "mine/theme.toml:25: colours.brand: 'blue' is not a colour"),
    (lambda t: t.replace('["text", "surface", "body text"]', '["txt", "surface", "body text"]'), "mine/theme.toml:9: contrast[1]: 'txt' is not a colour's name; did you mean 'text'?"),
    (lambda t: t.replace('["text", "surface", "body text"]', '["text", "surface"]'), "mine/theme.toml:9: contrast[1]: must be a list of"),
    (lambda t: t.replace('["text", "surface", "body text"]', '["text", "surface", "body text", "big"]'), "mine/theme.toml:9: contrast[1]: must be a list of"),
    (lambda t: t.replace("description =", "# description ="), "mine/theme.toml: 'description' is missing"),
])
def test_a_bad_theme_toml_is_one_line_with_its_line(newsletter, monkeypatch, change, expected):
    monkeypatch.chdir(newsletter.root)
    shutil.copytree(DEFAULT_THEME, newsletter.root / "mine")
    toml = newsletter.root / "mine" / "theme.toml"
    toml.write_text(change(toml.read_text(encoding="utf-8")), encoding="utf-8")
    set_theme(newsletter, "mine")
    with pytest.raises(ConfigError) as caught:
        digest.build(newsletter.issue)
    assert str(caught.value).startswith(expected)


def test_the_newsletter_s_theme_toml_is_checked_too(newsletter, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    own(newsletter, "theme.toml", '[social]\npixelfed = { label = "Pixelfed", icon = "icons/pixelfed.png" }\n')
    with pytest.raises(ConfigError, match=r"^templates/theme.toml:2: social.pixelfed.icon: no icon file 'icons/pixelfed.png' in templates or "):
        digest.build(newsletter.issue)


@pytest.mark.parametrize("value, expected", [
    ("plian", "digest.toml:1: theme: unknown theme 'plian': did you mean 'plain'? the built-in themes are default, plain; "
              "or give a theme folder's path"),
    ("themes/none", "digest.toml:1: theme: no theme folder at 'themes/none'"),
    ("half", "digest.toml:1: theme: the theme folder 'half' has no email.txt.j2 or theme.toml: a theme holds "
             "email.mjml.j2, email.txt.j2, theme.toml"),
])
def test_a_bad_theme_setting_is_one_line_and_nothing_is_written(newsletter, value, expected):
    (newsletter.root / "half").mkdir()
    (newsletter.root / "half" / "email.mjml.j2").write_text("<mjml></mjml>\n")
    set_theme(newsletter, value)
    result = run("build", "issues/test-issue.yaml", cwd=newsletter.root)
    assert (result.exit_code, result.output.splitlines()) == (1, [result.output.splitlines()[0]])
    assert result.output.startswith(expected)
    assert not (newsletter.root / "build").exists()


def test_a_theme_folder_of_the_newsletter_s_own(newsletter):
    shutil.copytree(BUILTIN / "plain", newsletter.root / "themes" / "mine")
    set_theme(newsletter, "themes/mine")
    mine = digest.build(newsletter.issue)
    set_theme(newsletter, "plain")
    assert mine.html == digest.build(newsletter.issue).html
    assert mine.newsletter.theme.folder == (newsletter.root / "themes" / "mine").resolve()


# --- starter files ----------------------------------------------------------------------------------------


def test_the_starter_issue_is_the_newsletter_s_own_and_its_text_is_caught(newsletter):
    starter = (DEFAULT_THEME / "new" / "issue.yaml.j2").read_text(encoding="utf-8")
    own(newsletter, "new/issue.yaml.j2", starter.replace("Write the introduction here.", "Say hello to the members of the club here."))
    made = run("new", "A subject line that is long enough", "--date", "2024-07-01", cwd=newsletter.root)
    assert made.exit_code == 0, made.output
    issue = newsletter.root / "issues" / "2024-07-01-a-subject-line-that-is-long-enough.yaml"
    assert "Say hello to the members of the club here." in issue.read_text()
    found = [f for f in digest.build(issue).findings if f.id == "starter-text" and f.field == "intro"]
    assert found and "'say hello to the members of the club here'" in found[0].message.lower()


# --- digest theme list / copy -----------------------------------------------------------------------------


def test_theme_copy_into_templates_changes_nothing_until_edited(newsletter):
    before = digest.build(newsletter.issue).html
    copied = run("theme", "copy", cwd=newsletter.root)
    assert copied.exit_code == 0, copied.output
    own_files = sorted(p.relative_to(newsletter.root / "templates").as_posix() for p in (newsletter.root / "templates").rglob("*") if p.is_file())
    assert own_files == sorted(p.relative_to(DEFAULT_THEME).as_posix() for p in DEFAULT_THEME.rglob("*") if p.is_file())
    assert digest.build(newsletter.issue).html == before
    # Never over a file that is there: nothing is copied, and the file in the way is named.
    (newsletter.root / "templates" / "email.txt.j2").write_text("mine\n")
    for path in (newsletter.root / "templates").rglob("*"):
        if path.is_file() and path.name != "email.mjml.j2":
            path.unlink()
    again = run("theme", "copy", cwd=newsletter.root)
    assert again.exit_code == 1
    assert again.output == ("templates/email.mjml.j2: already exists: nothing was copied; move it away, or copy to "
                            "another folder with --to\n")
    assert sorted(p.name for p in (newsletter.root / "templates").rglob("*") if p.is_file()) == ["email.mjml.j2"]


def copy_killed_halfway(newsletter) -> None:
    """`digest theme copy` killed with every file of the theme written to its staging, none put in place yet."""
    process = subprocess.Popen([sys.executable, "-m", "digest", "theme", "copy"], cwd=newsletter.root,
                               env={**os.environ, "DIGEST_STOP_AT": "theme-copy"})
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    process.kill()
    process.wait()


def test_theme_copy_into_an_empty_templates_folder_killed_halfway_leaves_it_empty(newsletter):
    # `mkdir templates` first: the copy went file by file, and a kill left part of the theme there, in use.
    (newsletter.root / "templates").mkdir()
    copy_killed_halfway(newsletter)
    assert list((newsletter.root / "templates").iterdir()) == []
    listed = run("theme", "list", cwd=newsletter.root)
    assert ".digest" not in listed.output and ".copy" not in listed.output
    again = run("theme", "copy", cwd=newsletter.root)
    assert again.exit_code == 0, again.output
    assert (newsletter.root / "templates" / "email.mjml.j2").read_bytes() == (DEFAULT_THEME / "email.mjml.j2").read_bytes()


@pytest.mark.parametrize("make, problem", [
    (lambda path: path.write_text("mine\n"), "is a file, not a folder"),
    (lambda path: path.symlink_to(path.parent / "nowhere"), "is a link to a folder that is not there"),
])
def test_theme_copy_to_a_file_says_so(newsletter, make, problem):
    # It said "mine/email.mjml.j2: already exists", of a file that is no folder.
    make(newsletter.root / "mine")
    result = run("theme", "copy", "--to", "mine", cwd=newsletter.root)
    assert (result.exit_code, result.output) == (1, f"mine: {problem}: nothing was copied; copy to a folder with --to\n")


def test_the_next_step_after_copying_to_an_odd_folder_name_is_valid_toml(newsletter):
    import tomllib

    result = run("theme", "copy", "plain", "--to", 'th"x', cwd=newsletter.root)
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[-1].removeprefix("Next: set ").removesuffix(" in digest.toml, then edit the files there.")
    assert tomllib.loads(line) == {"theme": 'th"x'}


def test_a_macro_that_calls_itself_is_not_called_a_loop_of_templates(newsletter):
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n'
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{% block outro %}{{ f(1) }}{% endblock %}\n")
    with pytest.raises(BuildError) as caught:
        digest.build(newsletter.issue)
    assert caught.value.problem == ("template error: the templates call themselves without end (a macro that calls "
                                    "itself, or a loop of templates)")


def test_theme_copy_into_the_empty_folder_you_are_in_copies_into_it(newsletter, monkeypatch):
    # Renamed over, the terminal's folder was left deleted: a traceback, and the shell in a folder that is gone.
    (newsletter.root / "templates").mkdir(mode=0o2775)
    os.chmod(newsletter.root / "templates", 0o2775)
    monkeypatch.chdir(newsletter.root / "templates")
    result = run("theme", "copy", cwd=newsletter.root / "templates")
    assert result.exit_code == 0, result.output
    assert (newsletter.root / "templates" / "email.mjml.j2").is_file() and Path.cwd().exists()
    assert stat.S_IMODE(os.stat(newsletter.root / "templates").st_mode) == 0o2775


def test_theme_copy_into_an_empty_folder_keeps_its_mode(newsletter):
    (newsletter.root / "templates").mkdir()
    os.chmod(newsletter.root / "templates", 0o700)
    assert run("theme", "copy", cwd=newsletter.root).exit_code == 0
    assert stat.S_IMODE(os.stat(newsletter.root / "templates").st_mode) == 0o700


def test_theme_copy_into_an_empty_folder_set_up_for_a_group_keeps_it_for_the_group(newsletter):
    # Made beside it and renamed over it, the theme lost the folder's group and its setgid folders.
    (newsletter.root / "templates").mkdir()
    os.chmod(newsletter.root / "templates", 0o2775)
    assert run("theme", "copy", cwd=newsletter.root).exit_code == 0
    assert stat.S_IMODE(os.stat(newsletter.root / "templates").st_mode) == 0o2775
    assert os.stat(newsletter.root / "templates" / "icons").st_mode & stat.S_ISGID


def test_a_text_partial_escaped_as_html_is_an_error_on_the_field(newsletter):
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n{% block header %}{% include "kicker.j2" %}{% endblock %}\n')
    own(newsletter, "kicker.j2", "{{ issue.subject }}\n")
    text = newsletter.issue.read_text(encoding="utf-8")
    newsletter.issue.write_text(text.replace("subject: A subject line that is long enough",
                                             "subject: R&D news, a subject line long enough"), encoding="utf-8")
    result = digest.build(newsletter.issue)
    assert "R&amp;D news" in result.text
    assert [(f.id, f.severity, f.line, f.field) for f in result.findings if f.id == "text-escaped"] == [
        ("text-escaped", ERROR, 1, "subject")]
    (newsletter.root / "templates" / "kicker.j2").rename(newsletter.root / "templates" / "kicker.txt.j2")
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n{% block header %}{% include "kicker.txt.j2" %}{% endblock %}\n')
    result = digest.build(newsletter.issue)
    assert "R&D news" in result.text and not [f for f in result.findings if f.id == "text-escaped"]


def test_an_ampersand_the_editor_typed_as_a_code_is_not_taken_for_an_escaped_partial(newsletter):
    # The code of "Q&A" typed in the intro made the heading "Q&A" an error, blaming the theme.
    text = newsletter.issue.read_text(encoding="utf-8")
    newsletter.issue.write_text(text.replace("subject: A subject line that is long enough", "subject: Q&A, a subject line long enough")
                                .replace("Hello **readers**.", "Hello **readers**. Our `Q&amp;A, a subject line long enough`."),
                                encoding="utf-8")
    assert not [f for f in digest.build(newsletter.issue).findings if f.id == "text-escaped"]


def test_a_hidden_file_in_templates_is_not_listed_as_an_override(newsletter):
    own(newsletter, "email.txt.j2", '{% extends "default/email.txt.j2" %}\n')
    own(newsletter, ".email.txt.j2.k1ll3d_x.digest", "what a killed save left\n")
    own(newsletter, ".DS_Store", "")
    listed = run("theme", "list", cwd=newsletter.root)
    assert "email.txt.j2" in listed.output and ".digest" not in listed.output and ".DS_Store" not in listed.output


def test_theme_copy_into_a_templates_folder_with_files_killed_halfway_leaves_none_of_the_theme(newsletter):
    # Copied file by file, a kill left 22 of the 23 files there, in use, and the next copy refused them.
    own(newsletter, "notes.txt", "the editor's own\n")
    copy_killed_halfway(newsletter)
    # What the kill left is hidden, and no template: Jinja loads nothing of it, theme list shows none of it.
    assert [p.name for p in (newsletter.root / "templates").iterdir() if not p.name.startswith(".")] == ["notes.txt"]
    assert ".copy" not in run("theme", "list", cwd=newsletter.root).output
    again = run("theme", "copy", cwd=newsletter.root)
    assert again.exit_code == 0, again.output
    assert (newsletter.root / "templates" / "email.mjml.j2").read_bytes() == (DEFAULT_THEME / "email.mjml.j2").read_bytes()
    assert (newsletter.root / "templates" / "notes.txt").read_text() == "the editor's own\n"
    # An hour on, the next copy clears what the kill left, though it stops at "already exists".
    [left] = [p for p in (newsletter.root / "templates").iterdir() if p.name.endswith(".copy")]
    os.utime(left, (time.time() - 7200, time.time() - 7200))
    assert run("theme", "copy", cwd=newsletter.root).exit_code == 1
    assert not left.exists()


def test_theme_copy_killed_halfway_leaves_no_half_theme_in_use(newsletter):
    # templates/ comes first in every build: a copy killed halfway left some of the theme's files there, in use,
    # and the next copy refused them as "already exists".
    copy_killed_halfway(newsletter)
    assert not (newsletter.root / "templates").exists()
    again = run("theme", "copy", cwd=newsletter.root)
    assert again.exit_code == 0, again.output
    assert (newsletter.root / "templates" / "email.mjml.j2").read_bytes() == (DEFAULT_THEME / "email.mjml.j2").read_bytes()


def test_theme_copy_to_a_folder_of_its_own_then_list(newsletter):
    copied = run("theme", "copy", "plain", "--to", "themes/large", cwd=newsletter.root)
    assert copied.exit_code == 0, copied.output
    assert 'Next: set theme = "themes/large" in digest.toml' in copied.output
    set_theme(newsletter, "themes/large")
    own(newsletter, "email.txt.j2", '{% extends "plain/email.txt.j2" %}\n')
    assert not errors(digest.build(newsletter.issue))
    listed = run("theme", "list", cwd=newsletter.root)
    assert listed.exit_code == 0, listed.output
    assert "  default   Each entry on its own card" in listed.output and "  plain     One column of large text" in listed.output
    assert 'This newsletter: theme = "themes/large" (digest.toml:1), a theme folder, at themes/large' in listed.output
    assert "Its own templates/ folder comes first, over the theme's files: email.txt.j2" in listed.output
    unknown = run("theme", "copy", "nope", cwd=newsletter.root)
    # A name that is not one of the choices is a mistake in the command line: exit status 2, nothing copied.
    assert (unknown.exit_code, unknown.output) == (2, "NAME: unknown theme 'nope': the built-in themes are default, plain\n")
    assert [p.name for p in (newsletter.root / "templates").iterdir()] == ["email.txt.j2"]


# --- the docs ---------------------------------------------------------------------------------------------

# The name each type of the context goes by in docs/themes.md.
DOC_NAMES = {"Newsletter": "newsletter", "Issue": "issue", "Section": "section", "Entry": "entry", "SocialLink": "link", "Image": "image",
             "Text": "text", "Colours": "colours", "Theme": "theme", "SocialNetwork": "network", "SourceMap": "sourcemap"}


def documented() -> set[str]:
    return set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)*)", DOCS.read_text(encoding="utf-8")))


def dataclasses_in(hint) -> list[type]:
    if dataclasses.is_dataclass(hint):
        return [hint]
    return [found for arg in typing.get_args(hint) for found in dataclasses_in(arg)]


def test_the_docs_list_every_name_a_template_sees(sample_email):
    from digest.platforms import PlatformTags
    from digest.render import environment, template_context

    context = template_context(sample_email.issue, sample_email.newsletter)
    names = set(context)
    names |= {f"tags.{field.name}" for field in dataclasses.fields(PlatformTags)}
    env = environment(sample_email.newsletter.theme.dirs)
    names |= set(env.filters) - set(jinja2.defaults.DEFAULT_FILTERS)
    names |= set(env.globals) - set(jinja2.defaults.DEFAULT_NAMESPACE)
    # Every field of every object reachable from the context, by the name its type goes by in the docs.
    todo = [type(value) for value in context.values() if dataclasses.is_dataclass(value)]
    seen = set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        assert cls.__name__ in DOC_NAMES, f"docs/themes.md has no section for {cls.__name__}"
        for name, hint in typing.get_type_hints(cls).items():
            names.add(f"{DOC_NAMES[cls.__name__]}.{name}")
            todo += dataclasses_in(hint)
    missing = sorted(names - documented())
    assert missing == [], f"docs/themes.md does not list: {', '.join(missing)}"


def test_the_docs_list_every_block_of_the_built_in_themes():
    from digest.render import environment

    env = environment((DEFAULT_THEME,))
    table = DOCS.read_text(encoding="utf-8").split("The blocks, in the order")[1].split("## Adding")[0]
    for template in ("default/email.mjml.j2", "default/email.txt.j2", "plain/email.mjml.j2"):
        blocks = set(env.get_template(template).blocks)
        assert blocks and blocks <= set(re.findall(r"`(\w+)`", table)), template
    assert '{% extends "default/email.txt.j2" %}' in (BUILTIN / "plain" / "email.txt.j2").read_text()
    assert {"head_style", "header", "social", "intro", "entry", "outro", "footer"} <= set(env.get_template("default/email.mjml.j2").blocks)


# --- the preview ------------------------------------------------------------------------------------------


def test_the_preview_rebuilds_when_a_file_of_the_theme_folder_is_saved(newsletter):
    from digest.commands.preview import running
    from test_preview_server import get, wait_for

    shutil.copytree(BUILTIN / "plain", newsletter.root / "themes" / "mine")
    set_theme(newsletter, "themes/mine")
    with running(newsletter.issue, port=0, report=lambda ok, line: None) as server:
        (newsletter.root / "themes" / "mine" / "email.txt.j2").write_text("Theme folder: {{ issue.subject }}\n")
        text = wait_for(lambda: (body := get(server, "/email.txt")[2]).startswith(b"Theme folder") and body)
        assert text == b"Theme folder: A subject line that is long enough\n"


def test_theme_copy_with_a_misspelt_theme_in_digest_toml_copies_nothing_and_says_where(newsletter):
    # Copying the default theme's files for a newsletter that meant "plain" would be restyling the wrong theme.
    set_theme(newsletter, "plian")
    copied = run("theme", "copy", cwd=newsletter.root)
    assert copied.exit_code == 1
    assert copied.output == ("digest.toml:1: theme: unknown theme 'plian': did you mean 'plain'? the built-in themes "
                             "are default, plain; or give a theme folder's path\n")
    assert not (newsletter.root / "templates").exists()
    assert run("theme", "copy", "plain", cwd=newsletter.root).exit_code == 0  # named on the command line: copied


def test_a_merge_tag_with_a_quote_in_an_attribute_quoted_with_it_is_sent_whole(newsletter):
    """lxml quotes a value holding " with ': Brevo's first name (default:'there'), put back in such an alt
    text, would end it. The attribute is written with " instead, and the email reads as built."""
    from digest.page import parse_html

    own(newsletter, "email.mjml.j2", '{% extends "default/email.mjml.j2" %}\n{% block entry scoped %}\n'
        '<mj-section><mj-column><mj-image src="{{ entry.logo.url }}" alt="{{ entry.logo.alt }}, for '
        '{{ tags.first_name }}" width="200px" /><mj-text><p>{{ entry.title }}</p></mj-text></mj-column></mj-section>\n'
        "{% endblock %}\n")
    newsletter.write_issue(newsletter.issue.read_text().replace("institution: ", 'institution: The "Test" ', 1))
    result = digest.build(newsletter.issue, platform="brevo")
    alts = [img.attrs.get("alt", "") for img in parse_html(result.html).images]
    assert any(alt.startswith('The "Test"') and alt.endswith("for {{ contact.FIRSTNAME|default:'there' }}") for alt in alts), alts
    assert result.page == parse_html(result.html)
