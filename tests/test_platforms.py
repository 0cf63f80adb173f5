"""Each mail platform's merge tags, checked in real built output: the HTML (after Jinja, MRML and premailer)
and the text part. The expected tags are written out here from the platforms' documentation, not read
from digest.platforms, so a wrong edit to the table fails a test."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from digest.cli import cli
from digest.platforms import PLATFORMS

REPO = Path(__file__).resolve().parent.parent
GREETING = "Dear {first_name} & friends,"

# platform: (unsubscribe, view online, first name, HTML address, text address, preheader)
EXPECTED = {
    "generic": ("{{ unsubscribe_url }}", None, None, None, None, None),
    "mailchimp": ("*|UNSUB|*", "*|ARCHIVE|*", "*|FNAME|*", "*|HTML:LIST_ADDRESS_HTML|*", None, "*|MC_PREVIEW_TEXT|*"),
    "brevo": ("{{ unsubscribe }}", "{{ mirror }}", "{{ contact.FIRSTNAME|default:'there' }}", None, None, None),
    "mailerlite": ("{$unsubscribe}", "{$url}", None, None, None, None),
    "campaign-monitor": ("[unsubscribe]", "[webversion]", "[firstname,fallback=there]", None, None, None),
    "sendgrid": (
        "{{{unsubscribe}}}",
        "{{Weblink}}",
        "{{insert first_name 'default=there'}}",
        # Not {{Sender_Name}}: the footer names the organisation just before the address (it read twice).
        "{{Sender_Address}}, {{Sender_City}}, {{Sender_State}} {{Sender_Zip}}",
        "{{Sender_Address}}, {{Sender_City}}, {{Sender_State}} {{Sender_Zip}}",
        None,
    ),
    # Buttondown adds its own unsubscribe footer to every email: the email carries none of its own.
    "buttondown": (None, "{{ email_url }}", '{{ subscriber.metadata.first_name|default:"there" }}', None, None, None),
    "listmonk": ("{{ UnsubscribeURL }}", "{{ MessageURL }}", '{{ .Subscriber.FirstName | default "there" }}', None, None, None),
}


def test_every_platform_is_tested():
    assert set(EXPECTED) == set(PLATFORMS)


def build(newsletter, tmp_path, platform: str, greeting: str | None = GREETING, *options):
    if greeting is not None:
        text = re.sub(r"^greeting: .*\n", "", newsletter.issue.read_text(encoding="utf-8"))
        newsletter.issue.write_text(f"greeting: {greeting!r}\n" + text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(out), "--platform", platform, *options])
    return result, out / "test-issue"


def footer_links(html: str) -> dict[str, str]:
    tree = lxml_html.document_fromstring(html)
    return {a.text_content(): a.get("href") for a in tree.iter("a")}


@pytest.mark.parametrize("platform", list(EXPECTED))
def test_platform_tags_in_both_parts(platform, newsletter, tmp_path):
    unsubscribe, view_online, first_name, address, address_text, preheader = EXPECTED[platform]
    result, folder = build(newsletter, tmp_path, platform, GREETING if first_name else None)
    assert result.exit_code == 0, result.output
    html = (folder / "email.html").read_text(encoding="utf-8")
    text = (folder / "email.txt").read_text(encoding="utf-8")
    links = footer_links(html)

    if platform == "campaign-monitor":
        # Campaign Monitor's links are elements round the link text, not URLs.
        assert "<unsubscribe>Unsubscribe</unsubscribe>" in html and "Unsubscribe" not in links
        assert "<webversion>View this email in your browser</webversion>" in html
    elif unsubscribe is None:
        assert "Unsubscribe" not in links and "nsubscribe" not in text
        assert links.get("View this email in your browser") == view_online
    else:
        assert links["Unsubscribe"] == unsubscribe  # exactly, in href: not URL-encoded, not prefixed
        assert links.get("View this email in your browser") == view_online
        assert f'href="{unsubscribe}"' in html  # and as typed in the source, not as entities
    if unsubscribe:
        assert f"Unsubscribe: {unsubscribe}\n" in text
    if view_online:
        assert f"View this email in your browser: {view_online}\n" in text
    else:
        assert "View this email in your browser" not in html + text

    if first_name:
        assert f">Dear {first_name} &amp; friends,</p>" in html
        assert f"\nDear {first_name} & friends,\n" in text

    if address:
        assert f"Test Org · {address}</p>" in html
        assert "1 Test Street" not in html
    else:
        assert "Test Org · 1 Test Street, Testville</p>" in html
    if address_text:
        assert f"Test Org\n{address_text}\n" in text
        assert text.count("Test Org") == 1
    else:
        assert "Test Org\n1 Test Street, Testville\n" in text

    preview = lxml_html.document_fromstring(html).body[0]  # MRML's hidden preview <div>
    assert preview.get("style").startswith("display:none")
    if preheader:
        assert preview.text_content().startswith(preheader)
        assert "A preheader that is long enough" not in html
    else:
        assert preview.text_content().startswith("A preheader that is long enough")


@pytest.mark.parametrize("platform", [name for name, (_, _, first, *_) in EXPECTED.items() if first is None])
def test_greeting_with_first_name_is_refused_where_the_platform_has_no_tag(platform, newsletter, tmp_path):
    result, folder = build(newsletter, tmp_path, platform)
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.endswith(f"test-issue.yaml:1: greeting: the {platform} platform has no first-name tag: "
                         "write the greeting without {first_name}, or build for a platform that has one "
                         "(mailchimp, brevo, campaign-monitor, sendgrid, buttondown, listmonk)")
    assert "mailchimp" in line  # names the platforms that have one
    assert not folder.exists()


def test_greeting_without_first_name_is_fine_everywhere(newsletter, tmp_path):
    result, folder = build(newsletter, tmp_path, "mailerlite", "Dear readers,")
    assert result.exit_code == 0, result.output
    assert ">Dear readers,</p>" in (folder / "email.html").read_text(encoding="utf-8")
    assert "\nDear readers,\n\nHello readers." in (folder / "email.txt").read_text(encoding="utf-8")


def test_greeting_text_is_escaped_and_only_first_name_is_a_placeholder(newsletter, tmp_path):
    result, folder = build(newsletter, tmp_path, "brevo", "<b>Hi</b> {{ contact.EMAIL }} {first_name}")
    assert result.exit_code == 1
    assert "test-issue.yaml:1: greeting: braces are only for {first_name}: remove the others\n" in result.output
    result, folder = build(newsletter, tmp_path, "brevo", "<b>Hi</b> {first_name}")
    assert result.exit_code == 0, result.output
    assert ">&lt;b&gt;Hi&lt;/b&gt; {{ contact.FIRSTNAME|default:'there' }}</p>" in (folder / "email.html").read_text(encoding="utf-8")


def test_platform_from_digest_toml_and_flag_overrides_it(newsletter, tmp_path):
    newsletter.config.write_text(newsletter.config.read_text(encoding="utf-8").replace(
        'address = "1 Test Street, Testville"\n', 'address = "1 Test Street, Testville"\nplatform = "listmonk"\n'), encoding="utf-8")
    result, folder = build(newsletter, tmp_path, "listmonk", None)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert 'href="{{ UnsubscribeURL }}"' in (out / "test-issue" / "email.html").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(out), "--platform", "mailerlite"])
    assert 'href="{$unsubscribe}"' in (out / "test-issue" / "email.html").read_text(encoding="utf-8")


def test_unknown_platform_in_digest_toml(newsletter, tmp_path):
    newsletter.config.write_text(newsletter.config.read_text(encoding="utf-8").replace(
        'address = "1 Test Street, Testville"\n', 'address = "1 Test Street, Testville"\nplatform = "mailchimps"\n'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(newsletter.issue), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "\n" not in result.output.rstrip("\n")
    assert result.output.endswith(
        "digest.toml:5: platform: unknown mail platform 'mailchimps'; did you mean 'mailchimp'? "
        "known: generic, mailchimp, brevo, mailerlite, campaign-monitor, sendgrid, buttondown, listmonk\n"
    )


def test_unknown_platform_flag_through_a_real_process(newsletter, tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "digest", "build", str(newsletter.issue), "-o", str(tmp_path / "out"), "--platform", "Sendinblue"],
        capture_output=True, text=True, timeout=60,
    )
    assert process.returncode == 2  # a bad option is a usage error, as Click's own
    assert process.stdout == ""
    assert process.stderr == (
        "--platform: unknown mail platform 'Sendinblue'; "
        "known: generic, mailchimp, brevo, mailerlite, campaign-monitor, sendgrid, buttondown, listmonk\n"
    )
    assert not (tmp_path / "out").exists()


def test_sample_is_built_for_mailchimp(sample_email):
    assert sample_email.platform == "mailchimp"
    assert footer_links(sample_email.html)["Unsubscribe"] == "*|UNSUB|*"
    assert "Unsubscribe: *|UNSUB|*\n" in sample_email.text


# The guide's "Pasting into your platform" page shows each platform's tags in a table; it must say what the
# built email really carries.
def guide_rows() -> dict[str, list[str]]:
    guide = (REPO / "docs" / "pasting" / "index.md").read_text(encoding="utf-8")
    section = guide.split("## The tags each platform gets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        # GitHub tables escape a | inside a cell as \|
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))] if line.startswith("| `") else None
        if cells:
            rows[cells[0].strip("`")] = [re.sub(r"^`(.*)`$", r"\1", c).replace("\\|", "|") for c in cells[1:]]
    return rows


def test_the_guides_table_matches_the_built_tags():
    rows = guide_rows()
    assert set(rows) == set(EXPECTED)
    for platform, (unsubscribe, view_online, first_name, address, _, preheader) in EXPECTED.items():
        assert rows[platform][:5] == [unsubscribe or "None", view_online or "None", first_name or "None", address or "None", preheader or "None"], platform


@pytest.mark.parametrize("platform, words", [
    ("brevo", "{% if contact.X %}"), ("listmonk", "{{ .Subscriber.Email }}"), ("sendgrid", "{{email}}"),
    ("buttondown", "{{ subscriber.email }}"), ("mailerlite", "{$email}"), ("campaign-monitor", "[email]"),
    ("mailchimp", "`*|EMAIL|*`"),
])
def test_editor_text_the_platform_would_run_as_code_is_refused(platform, words, newsletter, tmp_path):
    newsletter.issue.write_text(newsletter.issue.read_text(encoding="utf-8").replace(
        "Hello **readers**.", f"Hello {words} readers."), encoding="utf-8")
    result, folder = build(newsletter, tmp_path, platform, None)
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if "[template-code]" in line]
    assert line.endswith(f"test-issue.yaml:5: intro: error: {words.strip('`')!r}: {platform} would read this as its own "
                         "template code; digest adds the platform's tags itself (a reader's first name: see greeting), "
                         "so reword it [template-code]")
    assert not folder.exists()
    # Elsewhere the same words are only words (which `digest check` may still question: hence --force).
    result, folder = build(newsletter, tmp_path, "generic", None, "--force")
    assert result.exit_code == 0, result.output
    assert words.strip("`") in (folder / "email.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("platform", [name for name, tags in PLATFORMS.items() if tags.first_name])
def test_the_platform_s_own_first_name_tag_typed_into_a_field_is_refused(platform, newsletter, tmp_path):
    # Escaped as every typed text is, a quote in it becomes &#39; or &#34; (Brevo's default:'there'): code the
    # platform cannot run. The greeting's {first_name} is the way to a reader's name, on every platform.
    tag = PLATFORMS[platform].first_name
    newsletter.issue.write_text(newsletter.issue.read_text(encoding="utf-8").replace(
        "title: A trial of something", f"title: 'Hello {tag.replace(chr(39), chr(39) * 2)}, a trial'"), encoding="utf-8")
    result, folder = build(newsletter, tmp_path, platform, None)
    assert result.exit_code == 1 and not folder.exists()
    assert f"test-issue.yaml:8: entries[1].title: error: {tag!r}: {platform} would read this as its own template code" in result.output


def test_template_code_in_digest_toml_is_found_there(newsletter, tmp_path):
    newsletter.config.write_text(newsletter.config.read_text(encoding="utf-8").replace(
        'organisation = "Test Org"', 'organisation = "Test {{ Org }}"'), encoding="utf-8")
    result, folder = build(newsletter, tmp_path, "listmonk", None)
    assert result.exit_code == 1
    assert "digest.toml:2: organisation: error: '{{ Org }}': listmonk would read this" in result.output


# What `digest build` prints to paste, per platform: (the subject's field, the preheader's line, where email.html and
# email.txt go), written out here from the platforms' pages rather than read from digest.platforms.PASTE.
PREHEADER = "A preheader that is long enough to pass the checks we run."
PASTE_LINES = {
    "generic": ("Subject", f"Preview text (preheader), if it has one: leave it empty, the email carries the preheader: {PREHEADER}",
                "its HTML or code editor", "its plain-text version"),
    "mailchimp": ("Subject line", f"Preview text: {PREHEADER}", "Code your own › Paste in code", "Plain-Text version"),
    "brevo": ("Subject line", f"Preview text: leave it empty, the email carries the preheader: {PREHEADER}",
              "Code your own", "nowhere"),
    "mailerlite": ("Subject", f"Preheader: leave it empty, the email carries the preheader: {PREHEADER}",
                   "custom HTML editor", "plain-text version"),
    "campaign-monitor": ("Subject", f"Preview text: leave it empty, the email carries the preheader: {PREHEADER}",
                         "custom HTML template", "plain-text version"),
    "sendgrid": ("Subject", f"Preheader: leave it empty, the email carries the preheader: {PREHEADER}",
                 "Code Editor", "Edit Plain Text"),
    "buttondown": ("Subject", f"Preheader: the email carries it: {PREHEADER}", "body of a new email", "nowhere"),
    "listmonk": ("Subject", f"Preheader: the email carries it: {PREHEADER}", "format HTML", "alternate plain-text message"),
}


@pytest.mark.parametrize("platform", list(PASTE_LINES))
def test_build_prints_the_subject_and_preheader_to_paste_and_where_each_part_goes(platform, newsletter, tmp_path):
    subject_field, preheader_line, html_place, text_place = PASTE_LINES[platform]
    result, folder = build(newsletter, tmp_path, platform, None)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    at = lines.index(f"Built {folder}/email.html and email.txt")
    name = {"generic": "your mail platform", "campaign-monitor": "Campaign Monitor", "sendgrid": "SendGrid",
            "mailerlite": "MailerLite"}.get(platform, platform.capitalize())
    block = lines[at + 2:]  # after the Built and Upload lines
    assert block[:3] == [f"To paste into {name}:", f"  {subject_field}: A subject line that is long enough",
                         f"  {preheader_line}"]
    assert block[3].startswith(f"  {folder}/email.html: ") and html_place in block[3]
    assert block[4].startswith(f"  {folder}/email.txt: ") and text_place in block[4]
    if platform == "buttondown":
        assert block[5] == "  Note: Buttondown adds its own unsubscribe footer to every email, so this email has none of its own"


def test_every_platform_says_where_to_paste():
    from digest.platforms import PASTE

    assert set(PASTE) == set(PLATFORMS) == set(PASTE_LINES)
