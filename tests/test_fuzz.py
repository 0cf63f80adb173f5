"""Whatever an editor types into any field comes out as text: never markup, script, or a foreign link.

Hypothesis writes each field with arbitrary text and with known attacks; the build must either refuse the
issue with one clean line, or produce an email where the text is escaped and the HTML has only the theme's
own elements and http(s)/mailto links.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

import digest
from digest.exceptions import DigestError

ATTACKS = [
    "<script>alert(1)</script>",
    "&<>\"'",
    "{{ 7*7 }} {% raw %} {# x #}",
    "</mj-text><mj-raw><script>alert(1)</script></mj-raw><mj-text>",
    "]]><!-- --><![CDATA[x]]>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    "*|UNSUB|* {$unsubscribe} {{ unsubscribe_url }}",
    '" onmouseover="alert(1)',
    "<style>body{display:none}</style>",
    "\u202e\u200b\ufeff\u0085\u2028",
    "digest-merge-tag-0- digest-merge-tag-999-",  # the inliner's own placeholders, typed by hand
    "Subject\rBcc: victim@example.com",
]
text = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(max_size=80),
    st.lists(st.sampled_from(ATTACKS + ["word", " ", "\n", "\n\n", "**", "_", "# ", "- ", "> ", "`", "\\"]), max_size=8).map("".join),
)

ISSUE_FIELDS = ["subject", "preheader", "intro", "outro", "greeting"]
ENTRY_FIELDS = ["institution", "title", "summary", "link", "link_label", "logo_alt", "status", "phase"]
CONFIG_FIELDS = ["name", "organisation", "address", "footer", "sender", "website", "asset_base_url"]
# What the theme and Markdown may put in an email; anything else came from an editor's text.
ALLOWED_TAGS = {
    "html", "head", "title", "meta", "style", "body", "div", "table", "tbody", "tr", "td", "img", "a", "span",
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "hr", "br",
}


def issue_text(field: str, value: str) -> str:
    fields = {
        "subject": "Subject", "preheader": "Preheader", "intro": "Intro", "outro": "Outro",
        "institution": "Uni", "title": "Trial", "summary": "Summary", "link": "https://testnews.example/t",
        "link_label": "Find out more", "logo_alt": "Logo", "status": "Recruiting", "phase": "Phase 2",
        "greeting": "Hello,",
    }
    fields[field] = value
    q = {k: json.dumps(v) for k, v in fields.items()}  # a JSON string is a valid YAML scalar
    return (
        f"greeting: {q['greeting']}\nsubject: {q['subject']}\npreheader: {q['preheader']}\ndate: 2024-05-14\nintro: {q['intro']}\noutro: {q['outro']}\n"
        f"entries:\n  - institution: {q['institution']}\n    title: {q['title']}\n    summary: {q['summary']}\n"
        f"    link: {q['link']}\n    link_label: {q['link_label']}\n    logo: images/logo.png\n    logo_alt: {q['logo_alt']}\n"
        f"    status: {q['status']}\n    phase: {q['phase']}\n"
    )


def assert_safe(html: str) -> None:
    tree = lxml_html.document_fromstring(html)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments: MRML's Outlook conditionals
        assert element.tag in ALLOWED_TAGS, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            if name in ("href", "src"):
                assert value.startswith(("https://", "http://", "mailto:")) or value == "{{ unsubscribe_url }}", value
    assert len(list(tree.iter("style"))) == len(list(lxml_html.document_fromstring(BASELINE[0]).iter("style")))


BASELINE: list[str] = []


def build(newsletter):
    from digest.eml import message_bytes

    try:
        email = digest.build(newsletter.issue)
        message_bytes(email)  # the subject and the sender become mail headers
        return email
    except DigestError as error:
        message = error.__str__()
        assert "\n" not in message and message
        return None


@pytest.fixture
def baseline(newsletter):
    newsletter.config.write_text('sender = "Test News <news@testnews.example>"\n' + newsletter.config.read_text())
    if not BASELINE:
        newsletter.write_issue(issue_text("subject", "Subject"))
        BASELINE.append(digest.build(newsletter.issue).html)
    return newsletter


def visible(html: str) -> str:
    return " ".join(" ".join(lxml_html.document_fromstring(html).itertext()).split())


fuzz = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("field", ISSUE_FIELDS + ENTRY_FIELDS)
@fuzz
@given(value=text)
def test_issue_fields(baseline, field, value):
    baseline.write_issue(issue_text(field, value))
    email = build(baseline)
    if email is None:
        return
    assert_safe(email.html)
    if field == "subject":
        assert lxml_html.document_fromstring(email.html).findtext(".//title") == value.strip()
    # The inliner's placeholders are its own: typed by hand they stay text and never turn into a merge tag.
    assert ("digest-merge-tag-0-" in value) == ("digest-merge-tag-0-" in email.html) or field in ("link", "logo_alt")
    if field in ("institution", "title", "link_label", "status", "phase"):
        # Plain-text fields: the words typed are the words shown, whatever they look like.
        assert " ".join(value.split()) in visible(email.html)
        assert " ".join(value.split()) in " ".join(email.text.split())


@pytest.mark.parametrize("field", CONFIG_FIELDS)
@fuzz
@given(value=text)
def test_config_fields(baseline, field, value):
    config = baseline.config.read_text()
    lines = [line for line in config.splitlines() if not line.startswith(f"{field} =")]
    lines.insert(0, f"{field} = {json.dumps(value)}")  # a JSON string is a valid TOML basic string
    baseline.config.write_text("\n".join(lines) + "\n")
    baseline.write_issue(issue_text("subject", "Subject"))
    email = build(baseline)
    if email is None:
        return
    assert_safe(email.html)
    if field in ("name", "organisation", "address"):
        assert " ".join(value.split()) in visible(email.html)
