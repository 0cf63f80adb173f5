"""premailer kept honest, on real output: it may add inline styles and nothing else."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import REPO, SAMPLE_ISSUE
from digest.config import settings_for
from digest.inline import inline_css
from digest.platforms import platform_tags
from digest.reader import read_issue
from digest.render import compile_mjml, environment, render_template

MERGE_TAGS = ["*|UNSUB|*", "{{ unsubscribe_url }}", "{{ UnsubscribeURL }}", "{$unsubscribe}", "{{{unsubscribe}}}", "[unsubscribe]"]


@pytest.fixture(scope="module")
def compiled():
    """The sample as MRML compiled it, before inlining: (html, css to inline)."""
    newsletter = settings_for(SAMPLE_ISSUE)
    issue = read_issue(SAMPLE_ISSUE, newsletter)
    env = environment(newsletter.theme.dirs)
    context = dict(newsletter=newsletter, issue=issue, colours=newsletter.colours, tags=platform_tags("generic"), archive_page=None)
    return compile_mjml(render_template(env, "email.mjml.j2", context), env)


def declarations(style: str | None) -> list[str]:
    return [d.strip() for d in (style or "").split(";") if d.strip()]


def test_only_inline_styles_are_added(compiled):
    raw, css = compiled
    before = list(lxml_html.document_fromstring(raw).iter())
    after = list(lxml_html.document_fromstring(inline_css(raw, css)).iter())
    assert [e.tag for e in before] == [e.tag for e in after]
    added = 0
    for old, new in zip(before, after):
        assert {k: v for k, v in old.attrib.items() if k != "style"} == {k: v for k, v in new.attrib.items() if k != "style"}
        assert (old.text, old.tail) == (new.text, new.tail) or old.tag == "style"
        old_style, new_style = declarations(old.get("style")), declarations(new.get("style"))
        assert all(d in new_style for d in old_style), (old.tag, old_style, new_style)  # kept to the letter
        added += len(new_style) > len(old_style)
    assert added > 20  # and it did inline: headings, paragraphs, links


def test_doctype_comments_and_important_survive(compiled):
    raw, css = compiled
    out = inline_css(raw, css)
    assert raw.startswith("<!doctype html>") and out.startswith("<!doctype html>")
    comments = lambda html: [c.text for c in lxml_html.document_fromstring(html).iter(lxml_html.etree.Comment)]
    assert comments(out) == comments(raw)
    assert any("[if mso | IE]" in c for c in comments(out)) and any("[if !mso]" in c for c in comments(out))
    media = lambda html: [s.text for s in lxml_html.document_fromstring(html).iter("style") if "@media" in (s.text or "")]
    assert sum(block.count("!important") for block in media(out)) == sum(block.count("!important") for block in media(raw)) > 10


def test_image_width_and_height_attributes_survive(compiled):
    raw, css = compiled
    out = inline_css(raw, css)
    sizes = lambda html: [(i.get("width"), i.get("height")) for i in lxml_html.document_fromstring(html).iter("img")]
    assert sizes(out) == sizes(raw)
    assert ("200", "auto") in sizes(out)


@pytest.mark.parametrize("tag", MERGE_TAGS)
def test_merge_tags_survive_in_links_and_text(compiled, tag):
    raw, css = compiled
    escaped = tag.replace("&", "&amp;")
    raw = raw.replace('href="https://clinicaltrials.gov/study/NCT03008590"', f'href="{escaped}"', 1)
    raw = raw.replace("Find us on:", f"Hello {escaped}, find us on:", 1)
    out = inline_css(raw, css)
    assert f'href="{escaped}"' in out
    assert f"Hello {escaped}, find us on:" in out


def test_no_network_and_no_base_url(compiled):
    raw, css = compiled
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"p { color: red !important; }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        raw = raw.replace("</head>", f'<link rel="stylesheet" href="{url}/link.css"></head>')
        out = inline_css(raw, f"@import url({url}/import.css);\n" + css)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []
    assert f'href="{url}/link.css"' in out
    assert "color:red" not in out.replace(" ", "")
    assert 'src="https://www.ldn-news.example/newsletter/icons/facebook.png"' in out  # no base_url prefixing


def test_no_cssutils_noise_on_the_terminal(newsletter):
    # A theme with CSS that cssutils would warn about: the build says nothing but its own line.
    theme = newsletter.root / "templates"
    theme.mkdir()
    source = (REPO / "templates" / "default" / "email.mjml.j2").read_text()
    (theme / "email.mjml.j2").write_text(source.replace("h1 { margin: 0;", "h1 { -mso-bogus: 1px; colr: red; margin: 0;"))
    result = subprocess.run([sys.executable, "-m", "digest", "build", "issues/test-issue.yaml", "--out", "out"],
                            capture_output=True, text=True, cwd=newsletter.root)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Built "))
    findings, built, upload = lines[:at], lines[at], lines[at + 1]
    assert built == f"Built {Path('out') / 'test-issue'}/email.html and email.txt"
    assert upload.startswith(f"Upload {Path('out') / 'test-issue' / 'icons'}/ and ")
    assert all(re.search(r"\[[a-z-]+\]$", line) for line in findings), findings  # digest check's own findings only
    assert "colr:red" in (newsletter.root / "out" / "test-issue" / "email.html").read_text().replace(" ", "")


SELECTORS = [".kicker", ".footer p", ".a .b", ".a > .b", ".a + .b", ".a ~ p", "p.x .y", "div .a", ".a-b_c", "*.x",
             ".a.b", ".a:first-child", "h2.section", ".a:not(.b)", ".a[href]"]
CLASSES = '''<!doctype html><html><head></head><body class="a">
<div class="a"><p class="x">one <span class="y">two</span></p><p class="b">three</p></div>
<div class=" a\tb\n"><span class="b a">four</span><p>five</p></div>
<p class="aa ba xa a-b_c">six</p><p class="A B">seven</p><p class="">eight</p><p>nine<b class="kicker">ten</b></p>
<footer class="footer"><p class="kicker footer">eleven</p><a class="b">twelve</a></footer></body></html>'''


@pytest.mark.parametrize("theme", ["default", "plain"])
def test_class_steps_asked_through_class_attributes_find_the_same_elements(theme, tmp_path):
    """The XPath premailer matches each selector with, rewritten for speed, finds exactly what cssselect's
    finds, in the same order: on the sample in each theme with the theme's own selectors, and on a page of
    awkward classes (tabs and line breaks in them, a class that contains another, capitals, none)."""
    from lxml import etree
    from lxml.cssselect import CSSSelector

    import digest
    from digest.inline import _memo, faster_xpath

    shutil.copytree(SAMPLE_ISSUE.parent, tmp_path / "issues")
    # Top-level keys go before the first table.
    (tmp_path / "digest.toml").write_text(f'theme = "{theme}"\n' + (REPO / "digest.toml").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    built = digest.build(tmp_path / "issues" / SAMPLE_ISSUE.name)
    sample = etree.fromstring(built.html.encode(), etree.HTMLParser()).getroottree()
    awkward = etree.fromstring(CLASSES.encode(), etree.HTMLParser()).getroottree()
    rewritten = 0
    for selector in sorted(set(_memo.xpaths) | set(SELECTORS)):
        path = CSSSelector(selector).path
        rewritten += faster_xpath(path) != path
        for page in (sample, awkward):
            assert etree.XPath(faster_xpath(path))(page) == etree.XPath(path)(page), selector
    assert rewritten >= 9  # every selector above with a class step of its own


def test_a_string_in_a_selector_that_looks_like_a_class_step_is_left_as_it_is():
    from lxml import etree
    from lxml.cssselect import CSSSelector

    from digest.inline import faster_xpath

    step = "/*[@class and contains(@class, 'x') and contains(concat(' ', normalize-space(@class), ' '), ' x ')]/"
    path = CSSSelector(f'[title="{step}"]').path
    page = etree.fromstring(f'<html><body><p title="{step}">t</p></body></html>'.encode(), etree.HTMLParser())
    assert faster_xpath(path) == path and len(etree.XPath(path)(page)) == 1
