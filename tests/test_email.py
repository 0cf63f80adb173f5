"""The sample issue, built through the real pipeline: what the HTML and the text part must hold."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from lxml import html as lxml_html

from conftest import SAMPLE_ISSUE

# The newsletter the sample issue reproduces, as it was sent.
SEED = Path(__file__).parent / "fixtures" / "sample-newsletter.txt"


class Visible(HTMLParser):
    """The text a reader sees: no <head>, no hidden preheader, no Outlook-only markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        style = dict(attrs).get("style") or ""
        if tag in ("head", "style", "title") or "display:none" in style.replace(" ", ""):
            self.skip += 1

    def handle_endtag(self, tag):
        if self.skip and tag in ("head", "style", "title", "div"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def words(text: str) -> list[str]:
    return re.findall(r"[\w’'%.-]+", text.replace("\u00a0", " "))


def test_every_word_of_the_seed_is_in_both_parts(sample_email):
    seed = SEED.read_text(encoding="utf-8")
    html_text = " ".join(lxml_html.fromstring(sample_email.html).itertext())
    for line in filter(None, (l.strip() for l in seed.splitlines())):
        # The seed is the email copied as text: its logo lines are the images' alt text.
        line = line.rstrip(":")
        assert line in html_text or any(img.get("alt") == line for img in lxml_html.fromstring(sample_email.html).iter("img")), line
    text_words = set(words(sample_email.text))
    missing = [w for w in words(seed) if w not in text_words]
    assert missing == []


def test_html_structure(sample_email):
    html = sample_email.html
    assert html.startswith("<!doctype html>\n<html lang=\"en\"")
    tree = lxml_html.fromstring(html)
    assert tree.findtext(".//title") == "Low dose naltrexone is making news again"
    assert 'name="color-scheme" content="light dark"' in html
    assert "@media (prefers-color-scheme: dark)" in html and "[data-ogsc]" in html
    assert html.count("<!--[if mso | IE]>") >= 10
    assert "max-width:600px" in html and "@media only screen and (min-width:480px)" in html
    headings = [h.text_content() for h in tree.iter("h1", "h2")]
    assert headings[0] == "LDN Trials News"
    assert headings[1:] == [
        "VA Boston Healthcare System:Low-Dose Naltrexone for Chronic Pain in Osteoarthritis and Inflammatory Arthritis",
        "University of Alabama:Immune Effects of Low Dose Naltrexone in Myalgic Encephalopathy / Chronic Fatigue Syndrome (ME/CFS)",
        "University of Copenhagen, Denmark:Low Dose Naltrexone for Treatment of Pain in Patients With Fibromyalgia",
    ]


def test_preheader_is_hidden_and_padded(sample_email):
    tree = lxml_html.fromstring(sample_email.html)
    hidden = tree.xpath("//body/div[1]")[0]
    assert "display:none" in hidden.get("style")
    text = hidden.text_content()
    # The sample is built for Mailchimp, which fills in the preview text from its own field.
    assert text.startswith("*|MC_PREVIEW_TEXT|*")
    assert text.count("\u034f") >= 30  # combining grapheme joiners keep the body out of the preview line
    import digest

    generic = lxml_html.fromstring(digest.build(SAMPLE_ISSUE, platform="generic").html).xpath("//body/div[1]")[0]
    assert "display:none" in generic.get("style")
    assert generic.text_content().startswith("Three leading institutions have launched new clinical trials")


def test_images_have_alt_and_absolute_urls(sample_email):
    tree = lxml_html.fromstring(sample_email.html)
    images = list(tree.iter("img"))
    assert len(images) == 3 + 4  # three logos, four social icons
    for img in images:
        assert img.get("alt"), lxml_html.tostring(img)
        assert img.get("src").startswith("https://www.ldn-news.example/newsletter/")
        assert img.get("width")
    alts = {img.get("alt") for img in images}
    assert {"Facebook", "X", "Instagram", "YouTube", "VA Boston Healthcare System"} <= alts


def test_links_are_http_or_mailto_and_social_links_follow_profiles(sample_email):
    tree = lxml_html.fromstring(sample_email.html)
    hrefs = [a.get("href") for a in tree.iter("a")]
    assert all(h.startswith(("https://", "http://", "mailto:")) or h in ("*|UNSUB|*", "*|ARCHIVE|*") for h in hrefs), hrefs
    assert "https://www.facebook.com/example" in hrefs  # the profile, not a share link
    assert not any("sharer" in h or "share?" in h for h in hrefs)
    assert hrefs.count("https://clinicaltrials.gov/study/NCT03008590") == 1


def test_sample_size(sample_email):
    assert len(sample_email.html.encode("utf-8")) <= 24 * 1024


def test_text_part(sample_email):
    text = sample_email.text
    for line in text.splitlines():
        assert len(line) <= 78 or re.fullmatch(r"https?://\S+", line), line  # past 78: an address alone
    assert "Find out more: https://clinicaltrials.gov/study/NCT03008590" in text
    assert "- Facebook: https://www.facebook.com/example" in text
    assert text.count("\n" + "=" * 30 + "\n") == 3  # entries clearly separated, by rules a phone does not break
    assert "PO Box 1234, Springfield, IL 62701, USA" in text


def test_markdown_links_and_lists_reach_the_text_part(newsletter):
    import digest

    newsletter.write_issue(Path(newsletter.issue).read_text().replace(
        "  Hello **readers**.\n",
        "  Hello **readers**, see [the registry](https://clinicaltrials.gov/) or <mailto:team@testnews.example>.\n\n  - one\n  - two\n",
    ))
    email = digest.build(newsletter.issue)
    assert "see the registry (https://clinicaltrials.gov/) or team@testnews.example." in " ".join(email.text.split())
    assert "- one\n- two" in email.text
    assert '<a href="https://clinicaltrials.gov/"' in email.html
    assert "<strong" in email.html and "<li" in email.html


def test_big_email_warns_on_stderr(newsletter):
    text = Path(newsletter.issue).read_text()
    entry = text[text.index("  - institution"):]
    newsletter.write_issue(text + "".join(entry.replace("A trial of something", f"Trial {i}").replace("NCT00000001", f"NCT{i + 2:08d}") for i in range(60)))
    result = subprocess.run([sys.executable, "-m", "digest", "build", "--force", "issues/test-issue.yaml"], capture_output=True, text=True, cwd=newsletter.root)
    assert result.returncode == 0
    assert len((newsletter.root / "build" / "test-issue" / "email.html").read_bytes()) > 90 * 1024
    assert "error: the email is" in result.stderr and "Gmail cuts off emails over 102 KB" in result.stderr
