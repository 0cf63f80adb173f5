"""Each offline check of digest/checks.py: an issue (or a built email) that makes it fire, and one that keeps it quiet.

Emails are built through the real pipeline; where an issue file cannot produce the fault (the reader refuses it),
the built HTML or text part is changed the way a restyled theme could change it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from digest import platforms
from digest.checks import run_checks
from digest.model import ERROR, WARNING
from digest.page import parse_html
import digest
from digest.config import load_config
from digest.platforms import PlatformTags
from conftest import SAMPLE_CONFIG, SAMPLE_ISSUE

ENTRY = """\
  - institution: Test University
    title: A trial of something
    logo: images/logo.png
    summary: Our words.
    link: https://clinicaltrials.gov/study/NCT00000001
"""


def issue(**fields) -> str:
    """The conftest issue with some top-level fields replaced (values are written as given)."""
    base = {
        "subject": "A subject line that is long enough",
        "preheader": "A preheader that is long enough to pass the checks we run.",
        "date": "2024-05-14",
        "intro": "Hello readers.",
        "entries": "\n" + ENTRY,
    }
    base.update(fields)
    return "".join(f"{k}: {v}\n" if not v.startswith("\n") else f"{k}:{v}" for k, v in base.items())


def run(newsletter, text: str | None = None, platform: str = "generic", html=None, plain=None):
    if text is not None:
        newsletter.write_issue(text)
    email = digest.build(newsletter.issue, platform=platform)
    if html:
        email = replace(email, html=html(email.html))
        email.page = parse_html(email.html)
    if plain:
        email = replace(email, text=plain(email.text))
    return run_checks(email)


def ids(findings) -> list[str]:
    return [f.id for f in findings]


@pytest.fixture
def test_platform(monkeypatch):
    """A second platform, as platforms.py gains them: real merge tags, so the generic placeholder is gone."""
    tags = PlatformTags(unsubscribe="*|UNSUB|*", view_online="*|ARCHIVE|*", first_name="*|FNAME|*")
    monkeypatch.setitem(platforms.PLATFORMS, "testmail", tags)
    return "testmail"


def test_the_sample_issue_checks_clean(sample_email):
    # Built and checked for the sample's own platform (mailchimp, from its digest.toml).
    assert sample_email.platform == "mailchimp"
    assert sample_email.findings == []


def test_the_sample_issue_checks_clean_but_for_the_placeholder_on_generic():
    email = digest.build(SAMPLE_ISSUE, platform="generic")
    assert ids(email.findings) == ["unsubscribe-placeholder"]


def test_the_sample_issue_checks_fully_clean_with_a_real_platform(test_platform):
    email = digest.build(SAMPLE_ISSUE, platform=test_platform)
    assert email.findings == []


def test_the_test_issue_checks_clean(newsletter, test_platform):
    assert run(newsletter, platform=test_platform) == []


# --- size ----------------------------------------------------------------------------------------------

def test_an_email_over_102_kb_is_an_error(newsletter):
    long_summary = "|\n      " + "A long paragraph of news. " * 4200
    text = issue(entries="\n" + ENTRY.replace("summary: Our words.", f"summary: {long_summary}"))
    found = [f for f in run(newsletter, text) if f.id.startswith("size")]
    assert [(f.id, f.severity) for f in found] == [("size-clipped", ERROR)]
    assert "102 KB" in found[0].message


def test_an_email_over_90_kb_is_a_warning(newsletter):
    found = run(newsletter, html=lambda h: h.replace("</body>", "<!--" + "x" * (93 * 1024 - len(h)) + "--></body>"))
    assert [(f.id, f.severity) for f in found if f.id.startswith("size")] == [("size-large", WARNING)]


def test_a_normal_email_has_no_size_finding(sample_email):
    assert not [f for f in sample_email.findings if f.id.startswith("size")]


# --- images --------------------------------------------------------------------------------------------

def test_an_image_without_alt_is_an_error_at_the_entry_s_logo_line(newsletter):
    found = run(newsletter, html=lambda h: h.replace(' alt="Test University"', ""))
    alt = [f for f in found if f.id == "image-alt"]
    assert len(alt) == 1 and alt[0].severity == ERROR
    assert alt[0].field == "entries[1].logo" and alt[0].line == 9  # the `logo:` line of the conftest issue


def test_a_relative_image_address_is_an_error(newsletter):
    found = run(newsletter, html=lambda h: h.replace('src="https://cdn.testnews.example/news/issues/images/logo.png"', 'src="images/logo.png"'))
    assert ("image-url", ERROR) in [(f.id, f.severity) for f in found]


def test_an_http_image_is_a_warning(newsletter):
    text = issue(entries="\n" + ENTRY.replace("images/logo.png", "http://cdn.testnews.example/logo.png"))
    found = [f for f in run(newsletter, text) if f.id == "image-http"]
    assert len(found) == 1 and found[0].field == "entries[1].logo" and found[0].line == 8


def test_an_image_without_width_is_a_warning(newsletter):
    found = run(newsletter, html=lambda h: h.replace('width="200"', ""))
    assert "image-width" in ids(found)


def test_the_theme_s_images_all_have_alt_https_and_width(newsletter, test_platform):
    assert not [f for f in run(newsletter, platform=test_platform) if f.id.startswith("image")]
    assert len(parse_html(digest.build(newsletter.issue).html).images) == 2  # the entry's logo and the social icon


# --- links ---------------------------------------------------------------------------------------------

def test_a_link_with_another_scheme_is_an_error(newsletter):
    found = run(newsletter, html=lambda h: h.replace('href="https://www.testnews.example/"', 'href="javascript:alert(1)"'))
    scheme = [f for f in found if f.id == "link-scheme"]
    assert len(scheme) == 1 and scheme[0].severity == ERROR and "must start with https://" in scheme[0].message


def test_a_link_without_text_is_an_error(newsletter):
    found = [f for f in run(newsletter, issue(intro="Hello [](https://testnews.example/x) readers.")) if f.id == "link-text-empty"]
    assert len(found) == 1 and found[0].field == "intro" and found[0].line == 4


@pytest.mark.parametrize("label", ["here", "Click here", "read more", "Link", "Find out more"])
def test_generic_link_text_is_a_warning(newsletter, label):
    found = run(newsletter, issue(intro=f"The study is [{label}](https://testnews.example/study)."))
    assert ids(found).count("link-text-generic") == 1


def test_a_generic_button_label_is_a_warning(newsletter):
    found = run(newsletter, issue(entries="\n" + ENTRY + "    link_label: Read more\n"))
    assert [f.field for f in found if f.id == "link-text-generic"] == ["entries[1].link"]


def test_find_out_more_buttons_and_icon_links_are_allowed(newsletter):
    # The entry button says "Find out more"; the social link's text is its icon's alt text.
    found = run(newsletter, issue(intro="Read [the study protocol](https://testnews.example/study)."))
    assert not [f for f in found if f.id.startswith("link-text")]


def test_words_split_by_inline_tags_stay_one_word():
    page = parse_html("<p>Pre<b>fix</b> text</p><p>next</p>")
    assert page.visible == "Prefix text next"


def test_an_http_link_is_a_warning(newsletter):
    found = [f for f in run(newsletter, issue(intro="See [our site](http://testnews.example/).")) if f.id == "link-http"]
    assert len(found) == 1 and found[0].severity == WARNING


def test_an_http_link_typed_twice_is_one_warning_not_two_identical_lines(newsletter):
    found = [f for f in run(newsletter, issue(intro="See [our site](http://testnews.example/) and [it again](http://testnews.example/)."))
             if f.id in ("link-http", "link-duplicate")]
    assert [(f.id, f.line, f.field) for f in found] == [("link-http", 4, "intro"), ("link-duplicate", 4, "intro")]


def test_https_and_mailto_links_are_fine(newsletter):
    found = run(newsletter, issue(intro="See [our site](https://testnews.example/) or [write](mailto:a@testnews.example)."))
    assert not [f for f in found if f.id in ("link-http", "link-scheme")]


def test_the_same_link_twice_is_a_warning(newsletter):
    text = issue(intro="See [the study](https://testnews.example/s) and [its results](https://testnews.example/s).")
    found = [f for f in run(newsletter, text) if f.id == "link-duplicate"]
    assert len(found) == 1 and "2 times" in found[0].message and found[0].field == "intro"


def test_the_footer_website_and_the_unsubscribe_tag_are_not_duplicates(newsletter):
    # The website is the logo's link and the footer's; an intro link to it is a third copy, still allowed.
    found = run(newsletter, issue(intro="Visit [our website](https://www.testnews.example/)."))
    assert "link-duplicate" not in ids(found)


# --- unsubscribe and address ---------------------------------------------------------------------------

def test_a_missing_unsubscribe_tag_is_an_error(newsletter, test_platform):
    # Built for the generic placeholder, checked for a platform whose tag is *|UNSUB|*: neither part has it.
    email = digest.build(newsletter.issue)
    email = replace(email, newsletter=replace(email.newsletter, platform=test_platform))
    found = [f for f in run_checks(email) if f.id.startswith("unsub")]
    assert [(f.id, f.severity) for f in found] == [("unsubscribe-missing", ERROR)]
    assert "email.html and email.txt" in found[0].message


def test_an_unsubscribe_tag_missing_from_the_text_part_is_an_error(newsletter, test_platform):
    found = run(newsletter, platform=test_platform, plain=lambda t: t.replace("*|UNSUB|*", ""))
    assert [(f.id, f.path) for f in found if f.id.startswith("unsub")] == [("unsubscribe-missing", "email.txt")]


def test_the_generic_placeholder_is_a_warning_pointing_at_digest_toml(newsletter):
    found = [f for f in run(newsletter) if f.id.startswith("unsub")]
    assert [(f.id, f.severity, f.field) for f in found] == [("unsubscribe-placeholder", WARNING, "platform")]
    assert str(found[0].path).endswith("digest.toml")


def test_a_real_platform_tag_is_quiet(newsletter, test_platform):
    assert not [f for f in run(newsletter, platform=test_platform) if f.id.startswith("unsub")]


def test_a_theme_without_the_postal_address_is_an_error(newsletter):
    address = "1 Test Street, Testville"
    found = [f for f in run(newsletter, plain=lambda t: t.replace(address, "")) if f.id == "address-missing"]
    assert len(found) == 1 and str(found[0].path) == "email.txt" and found[0].severity == ERROR
    found = [f for f in run(newsletter, html=lambda h: h.replace(address, "")) if f.id == "address-missing"]
    assert str(found[0].path) == "email.html"


def test_a_custom_theme_that_drops_the_address_is_caught(newsletter, tmp_path):
    # A restyled theme in the newsletter's own templates/ folder: the real way an address goes missing.
    from digest.theme import DEFAULT_THEME

    (tmp_path / "templates").mkdir()
    source = (DEFAULT_THEME / "email.txt.j2").read_text(encoding="utf-8")
    (tmp_path / "templates" / "email.txt.j2").write_text(source.replace("{{ newsletter.address | wrap }}\n", ""), encoding="utf-8")
    assert "address-missing" in ids(run(newsletter))


def test_an_address_wrapped_over_two_text_lines_is_found(newsletter):
    long = "Suite 1200, The Very Long Building Name, 1234 Some Rather Long Avenue Name, Springfield, IL 62701, USA"
    newsletter.config.write_text(newsletter.config.read_text().replace("1 Test Street, Testville", long))
    found = run(newsletter)
    assert "address-missing" not in ids(found)


# --- subject and preheader -----------------------------------------------------------------------------

@pytest.mark.parametrize("subject", ["Too short", "A subject line that goes on and on well past what phones can show"])
def test_a_subject_outside_30_to_60_characters_is_a_warning(newsletter, subject):
    found = [f for f in run(newsletter, issue(subject=subject)) if f.id == "subject-length"]
    assert len(found) == 1 and found[0].line == 1 and f"{len(subject)} characters" in found[0].message


@pytest.mark.parametrize("preheader", ["Short one", "x" * 131])
def test_a_preheader_outside_40_to_130_characters_is_a_warning(newsletter, preheader):
    found = [f for f in run(newsletter, issue(preheader=preheader)) if f.id == "preheader-length"]
    assert len(found) == 1 and found[0].line == 2


def test_subject_and_preheader_of_good_length_are_quiet(newsletter):
    found = run(newsletter, issue(subject="x" * 30, preheader="y " * 21))
    assert not [f for f in found if f.id.endswith("-length")]


def test_a_preheader_that_repeats_the_subject_is_a_warning(newsletter):
    text = issue(preheader="A subject line that is long enough! And then a few more words.")
    assert ids(run(newsletter, text)).count("preheader-repeats-subject") == 1


def test_a_preheader_that_says_something_new_is_quiet(newsletter):
    assert "preheader-repeats-subject" not in ids(run(newsletter))


# --- text part -----------------------------------------------------------------------------------------

def test_a_long_text_line_is_a_warning_with_its_line_in_the_text_part(newsletter):
    # The built-in themes wrap every line an editor writes; a theme's own template may not.
    long = "Read the whole long story of this trial on the registry's own study page, please, now"
    found = [f for f in run(newsletter, plain=lambda text: text.replace("Hello readers.", long)) if f.id == "text-line-length"]
    assert len(found) == 1 and str(found[0].path) == "email.txt" and found[0].line


def test_a_long_label_before_its_link_is_wrapped_not_warned(newsletter):
    label = "Read the whole long story of this trial on the registry's own study page please"
    email = digest.build(newsletter.write_issue(issue(entries="\n" + ENTRY + f"    link_label: {label}\n")))
    assert f"{label}: https://clinicaltrials.gov/study/NCT00000001" in " ".join(email.text.split())
    assert max(len(line) for line in email.text.splitlines()) <= 78
    assert "text-line-length" not in ids(email.findings)


def test_a_line_long_only_by_the_platform_s_tags_is_not_the_editor_s_to_fix(newsletter):
    tags = "{{ unsubscribe_url }} " * 4
    found = run(newsletter, plain=lambda text: text.replace("Hello readers.", "Hello readers. " + tags))
    assert "text-line-length" not in ids(found)


def test_a_long_address_alone_or_after_a_short_label_is_allowed(newsletter):
    url = "https://clinicaltrials.gov/study/NCT00000001?tab=results&view=full&section=outcome-measures-primary"
    found = run(newsletter, issue(entries="\n" + ENTRY.replace("https://clinicaltrials.gov/study/NCT00000001", url),
                                  intro=f"|\n  Read it at\n  <{url}>"))
    assert "text-line-length" not in ids(found)


def test_words_the_html_shows_but_the_text_part_lacks_are_a_warning(newsletter):
    found = run(newsletter, html=lambda h: h.replace("</body>", "<p>Surprise visitors</p></body>"))
    missing = [f for f in found if f.id == "text-missing"]
    assert len(missing) == 1 and "surprise, visitors" in missing[0].message


def test_alt_text_and_the_hidden_preheader_need_not_be_in_the_text_part(newsletter):
    # The conftest preheader's words "pass", "checks", "run" are nowhere else; the logo's alt is only in the HTML.
    found = run(newsletter, html=lambda h: h.replace('alt="Test University"', 'alt="Crest of the university"'))
    assert "text-missing" not in ids(found)


def test_merge_tags_are_left_out_of_the_words_in_every_form():
    # The check looks for a tag only where one can start: each form MERGE_TAG knows must start there.
    from digest.checks.text import _untagged
    from digest.inline import MERGE_TAG

    tags = [tag for tags in platforms.PLATFORMS.values() for tag in tags.values if tag]
    tags += ["{$unsubscribe}", "[webversion]", "</unsubscribe>", "<%asm_group_unsubscribe_raw_url%>",
             "&lt;%asm_group_unsubscribe_raw_url%&gt;", "{% if x %}", "{{{unsubscribe}}}"]
    text = " [a] <b> {c} *d* & ".join(tags)
    assert _untagged(text) == MERGE_TAG.sub(" ", text) and not MERGE_TAG.search(_untagged(text))


# --- placeholders --------------------------------------------------------------------------------------

@pytest.mark.parametrize("intro, found", [
    ("Hello {{ first_name }}.", "{{"),
    ("Write the intro TODO", "TODO"),
    ("Lorem ipsum dolor sit amet.", "Lorem ipsum"),
    ("The date is XXX.", "XXX"),
    ("Check this FıXME", "FıXME"),  # IGNORECASE equates ı and İ with i, which casefold does not
    ("Check this FİXME", "FİXME"),
    ("Lorem ıpſum dolor sit amet.", "Lorem ıpſum"),
])
def test_leftover_placeholders_are_errors(newsletter, intro, found):
    hits = [f for f in run(newsletter, issue(intro=intro)) if f.id == "placeholder"]
    assert len(hits) == 1 and hits[0].severity == ERROR and repr(found) in hits[0].message
    assert hits[0].line == 4 and hits[0].field == "intro"


def test_a_placeholder_in_an_entry_names_the_entry_line(newsletter):
    text = issue(entries="\n" + ENTRY + "  - institution: Other\n    title: TODO title\n    summary: Words.\n    link: https://testnews.example/2\n")
    hits = [f for f in run(newsletter, text) if f.id == "placeholder"]
    assert [(h.field, h.line) for h in hits] == [("entries[2].title", 12)]


def test_plain_words_and_the_platform_s_own_tags_are_not_placeholders(newsletter, test_platform):
    found = run(newsletter, issue(intro="Dear *|FNAME|*, my todo list is done."), platform=test_platform)
    assert "placeholder" not in ids(found)


# --- entries -------------------------------------------------------------------------------------------

def test_two_entries_with_the_same_title_or_link_are_warnings(newsletter):
    text = issue(entries="\n" + ENTRY + ENTRY.replace("A trial of something", "A TRIAL of  something"))
    found = {f.id: f for f in run(newsletter, text)}
    assert found["entry-duplicate-title"].field == "entries[2].title" and found["entry-duplicate-title"].line == 12
    assert found["entry-duplicate-link"].field == "entries[2].link" and "entry 1 (line 6)" in found["entry-duplicate-link"].message
    assert "link-duplicate" not in found  # the same link twice is said once


def test_distinct_entries_are_quiet(newsletter):
    second = ENTRY.replace("A trial of something", "Another trial").replace("NCT00000001", "NCT00000002")
    assert not [f for f in run(newsletter, issue(entries="\n" + ENTRY + second)) if f.id.startswith("entry-")]


def test_an_issue_without_entries_is_an_error(newsletter):
    found = [f for f in run(newsletter, issue(entries=" []")) if f.id == "no-entries"]
    assert len(found) == 1 and found[0].line == 5 and found[0].severity == ERROR



def test_a_finding_in_a_digest_toml_link_names_its_line(newsletter):
    newsletter.config.write_text(newsletter.config.read_text().replace(
        'asset_base_url', 'footer = "Questions? See [our site](http://www.testnews.example/faq)."\nasset_base_url'))
    found = [f for f in run(newsletter) if f.id == "link-http"]
    assert [(str(f.path), f.line, f.field) for f in found] == [(str(newsletter.config), 5, "footer")]


def test_a_placeholder_is_found_on_its_own_field_s_line(newsletter):
    # The same braces earlier in the entry (in the title) must not take the summary's finding.
    entry = ("  - institution: Other\n    title: Sets {{ and }} in maths\n    summary: |\n      Words.\n\n"
             "      More }} here.\n    link: https://testnews.example/2\n")
    text = issue(entries="\n" + ENTRY + entry)
    hits = [(f.field, f.line) for f in run(newsletter, text) if f.id == "placeholder"]
    source = text.splitlines()
    assert ("entries[2].summary", source.index("      More }} here.") + 1) in hits
    assert ("entries[2].title", source.index("    title: Sets {{ and }} in maths") + 1) in hits


# --- lines of text folded from several lines ------------------------------------------------------------

@pytest.mark.parametrize("intro", [
    ">\n  Welcome to this month's\n  news, TODO here,\n  see http://www.example.net/x\n  and more words.\n",
    '"Welcome to this month\'s\n  news, TODO here,\n  see http://www.example.net/x\n  and more words."\n',
    "'Welcome to this month''s\n  news, TODO here,\n  see http://www.example.net/x\n  and more words.'\n",
    "Welcome to this month's\n  news, TODO here,\n  see http://www.example.net/x\n  and more words.\n",
    "Welcome to the trial news, TODO here,\n  trial\n  see http://www.example.net/x\n  and more words.\n",
])
def test_a_finding_in_text_folded_from_several_lines_names_the_line_it_is_on(newsletter, intro):
    # YAML joins the lines of `>` and quoted text with spaces: counting line breaks in it put all on the first.
    text = issue(intro=intro)
    lines = text.splitlines()
    found = {f.id: f.line for f in run(newsletter, text)}
    assert "TODO" in lines[found["placeholder"] - 1]
    assert lines[found["link-http"] - 1].strip() == "see http://www.example.net/x"


def test_starter_text_names_the_line_it_is_on(newsletter):
    text = issue(intro="|\n  Our own words.\n\n  More of ours.\n\n  Write the introduction here.\n")
    [finding] = [f for f in run(newsletter, text) if f.id == "starter-text"]
    assert text.splitlines()[finding.line - 1].strip() == "Write the introduction here."


@pytest.mark.parametrize("footer, first", [
    ('"line one\\nline two\\nline three TODO"', "footer = "),
    ('"""\nline one \\\n  line two \\\n  line three TODO"""', "line one"),
])
def test_a_digest_toml_string_with_escapes_is_placed_on_its_first_line_never_past_the_file(newsletter, footer, first):
    config = newsletter.config.read_text(encoding="utf-8").replace("\n\n[[social]]", f"\nfooter = {footer}\n\n[[social]]", 1)
    newsletter.config.write_text(config, encoding="utf-8")
    [finding] = [f for f in run(newsletter) if f.id == "placeholder"]
    assert config.splitlines()[finding.line - 1].startswith(first)


def test_an_address_typed_twice_is_reported_at_its_first_place_in_the_file(newsletter):
    # The reader reads the entries before the intro above them; the finding names where readers meet it first.
    text = issue(intro="Welcome, see http://www.testnews.example/x for more.",
                 entries="\n" + ENTRY.replace("Our words.", "More at http://www.testnews.example/x today."))
    found = {f.id: (f.field, f.line) for f in run(newsletter, text)}
    assert found["link-http"] == found["link-duplicate"] == ("intro", 4)
