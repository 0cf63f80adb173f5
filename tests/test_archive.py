"""`digest archive`: the sample newsletter's issues as a website with an Atom feed, built for real and read back."""

from __future__ import annotations

import datetime
import os
import stat
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from click.testing import CliRunner

from digest.archive import MANIFEST, PER_PAGE, UnreadableIssues, _intact, build_site, read_manifest
from digest.cli import cli
from conftest import REPO

ARCHIVE_URL = "https://www.ldn-news.example/newsletter/archive/"
ASSETS = "https://www.ldn-news.example/newsletter/"

# Two more issues of the sample newsletter, written by the tests beside the sample issue.
JULY = """\
subject: "LDN trials in July: first patients enrolled"
preheader: The Alabama study has enrolled its first patients, and a reader asks how to take part in a trial.
date: 2024-07-02
greeting: "Hello {first_name},"
intro: |
  A month after our first issue, here is what changed. Read the [study record](https://clinicaltrials.gov/study/NCT02965768) for the details.

  - The Alabama trial is **recruiting**.
  - The VA trial has finished.
entries:
  - institution: University of Alabama
    title: Immune Effects of Low Dose Naltrexone in ME/CFS
    logo: images/uab.png
    phase: Phase 2
    status: Recruiting
    nct_id: NCT02965768
    summary: |
      The study team writes that enrolment has begun.
    link: https://clinicaltrials.gov/study/NCT02965768
outro: |
  Write to us at [news@ldn-news.example](mailto:news@ldn-news.example) with your questions.
"""

AUGUST = """\
subject: "LDN in August: what a placebo-controlled trial is"
preheader: How the Copenhagen fibromyalgia trial compares LDN with a placebo, explained in plain words.
date: 2024-08-06
greeting: "Dear readers,"
intro: |
  This month we explain one word that every trial record uses.
entries:
  - institution: University of Copenhagen, Denmark
    title: Low Dose Naltrexone for Treatment of Pain in Patients With Fibromyalgia
    summary: |
      Half of the patients take LDN and half take a placebo, and neither they nor their doctors know which.
    link: https://clinicaltrials.gov/study/NCT02806440
    link_label: Read the study record
sections:
  - heading: Updates on trials we covered
    entries:
      - institution: VA Boston Healthcare System
        title: Low-Dose Naltrexone for Chronic Pain in Arthritis
        status: Completed
        summary: |
          The trial has finished; its results are on the study record.
        link: https://clinicaltrials.gov/study/NCT03008590
"""

PLACEHOLDERS = ("*|", "|*", "{{", "}}", "{$", "{%")


def make_sample(root: Path) -> Path:
    """The repository's sample newsletter (digest.toml, its issue and logos) plus two issues, in `root`."""
    shutil.copyfile(REPO / "digest.toml", root / "digest.toml")
    shutil.copytree(REPO / "issues", root / "issues", ignore=shutil.ignore_patterns("*.yaml"))
    shutil.copyfile(REPO / "issues" / "2024-06-ldn-trials.yaml", root / "issues" / "2024-06-ldn-trials.yaml")
    (root / "issues" / "2024-07-first-patients.yaml").write_text(JULY, encoding="utf-8")
    (root / "issues" / "2024-08-placebo.yaml").write_text(AUGUST, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def site(sample) -> Path:
    built = build_site(sample / "site", config=sample / "digest.toml")
    assert (built.issues, built.pages, built.written) == (3, 1, 6)  # style.css, index, 3 issue pages, feed.xml
    return built.folder


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (tag, address)
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append((tag, value))


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def is_relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("#")


# -- the site ---------------------------------------------------------------------------------------------

def test_the_index_lists_every_issue_newest_first_with_date_subject_and_preheader(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    subjects = [m for m in re.findall(r'<h3><a href="([^"]+)">([^<]+)</a></h3>', html)]
    assert subjects == [
        ("2024-08-placebo/index.html", "LDN in August: what a placebo-controlled trial is"),
        ("2024-07-first-patients/index.html", "LDN trials in July: first patients enrolled"),
        ("2024-06-ldn-trials/index.html", "Low dose naltrexone is making news again"),
    ]
    assert '<time datetime="2024-07-02">2 July 2024</time>' in html
    assert "The Alabama study has enrolled its first patients" in html
    assert "<h1>LDN Trials News</h1>" in html
    assert "News of clinical trials of low dose naltrexone (LDN), once a month." in html  # description
    assert 'href="https://www.ldn-news.example/newsletter/subscribe">Subscribe</a>' in html
    assert not (site / "page").exists()  # one page: fewer than PER_PAGE issues


def test_an_issue_page_is_a_web_page_of_the_same_issue(site):
    html = (site / "2024-07-first-patients" / "index.html").read_text(encoding="utf-8")
    assert "<title>LDN trials in July: first patients enrolled</title>" in html
    assert html.count("<h1") == 1 and "<h1>LDN trials in July: first patients enrolled</h1>" in html
    assert '<a href="https://clinicaltrials.gov/study/NCT02965768">study record</a>' in html  # the Markdown
    assert "<strong>recruiting</strong>" in html
    assert "Phase 2 · Recruiting · NCT02965768" in html
    assert f'<img class="entry-logo" src="{ASSETS}issues/images/uab.png"' in html  # under asset_base_url, as in the email
    assert "Hello" not in html  # a greeting for one subscriber's first name is left out
    assert "Unsubscribe" not in html and "View this email" not in html
    # No hidden preheader: on the web the preheader is the page's description, and nowhere in its body.
    head, body = html.split("<body>")
    assert '<meta name="description" content="The Alabama study has enrolled its first patients' in head
    assert "The Alabama study has enrolled" not in body and "display:none" not in html.replace(" ", "")
    assert 'href="https://www.ldn-news.example/newsletter/subscribe">Subscribe to LDN Trials News</a>' in html
    assert 'rel="prev" href="../2024-06-ldn-trials/index.html"' in html
    assert 'rel="next" href="../2024-08-placebo/index.html"' in html
    assert '<a href="../index.html">All issues</a>' in html
    august = (site / "2024-08-placebo" / "index.html").read_text(encoding="utf-8")
    assert "<p>Dear readers,</p>" in august and 'rel="next"' not in august  # the newest has no next
    assert "Read the study record</a>" in august


def test_every_page_has_lang_one_h1_a_viewport_no_script_and_nothing_from_a_third_party(site):
    assert len(pages(site)) == 4
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        parsed = parse(html)
        assert html.startswith('<!DOCTYPE html>\n<html lang="en">'), page
        assert parsed.tags.count("h1") == 1, page
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html, page
        assert "script" not in parsed.tags and not re.search(r"<[^>]+\son\w+=", html), page
        # What a browser loads by itself (the style sheet, images) is the site's own or under asset_base_url.
        loaded = [url for tag, url in parsed.links if tag == "img" or (tag == "link" and url.endswith(".css"))]
        assert loaded and all(is_relative(url) or url.startswith(ASSETS) for url in loaded), (page, loaded)
    css = (site / "style.css").read_text(encoding="utf-8")
    assert "@media (prefers-color-scheme: dark)" in css and "--brand: #1d4f91;" in css  # [colours] of digest.toml
    assert "url(" not in css and "@import" not in css


def test_every_relative_link_of_every_page_resolves_to_a_file_of_the_site(site):
    checked = 0
    for page in pages(site):
        for _, url in parse(page.read_text(encoding="utf-8")).links:
            if is_relative(url):
                target = (page.parent / urlsplit(url).path).resolve()
                assert target.is_file() and target.is_relative_to(site.resolve()), (page, url)
                checked += 1
    assert checked >= 20


def test_no_merge_tag_or_template_placeholder_anywhere_in_the_site(site):
    files = [p for p in site.rglob("*") if p.is_file()]
    assert len(files) == 7  # six files and the manifest
    for path in files:
        text = path.read_text(encoding="utf-8")
        for placeholder in PLACEHOLDERS:
            assert placeholder not in text, (path, placeholder)


def test_the_feed_parses_with_stable_ids_and_dates(site, sample, tmp_path):
    import feedparser

    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "LDN Trials News"
    assert feed.feed.link == ARCHIVE_URL
    assert [e.id for e in feed.entries] == [ARCHIVE_URL + s + "/" for s in ("2024-08-placebo", "2024-07-first-patients", "2024-06-ldn-trials")]
    july = feed.entries[1]
    assert july.title == "LDN trials in July: first patients enrolled"
    assert july.link == ARCHIVE_URL + "2024-07-first-patients/"
    assert july.summary == "The Alabama study has enrolled its first patients, and a reader asks how to take part in a trial."
    assert july.published == "2024-07-02T00:00:00+00:00" and july.updated == july.published
    assert feed.feed.updated == "2024-08-06T00:00:00+00:00"  # the newest issue's date, never "now"
    content = july.content[0].value
    assert "Immune Effects of Low Dose Naltrexone in ME/CFS" in content
    # Every address in the feed is absolute: a feed reader has no page to resolve it against.
    for _, url in parse(content).links:
        assert url.startswith(("https://", "mailto:")), url
    # Built again, later, into another folder: the same feed, byte for byte.
    time.sleep(0.01)
    again = build_site(tmp_path / "again", config=sample / "digest.toml")
    assert (again.folder / "feed.xml").read_bytes() == (site / "feed.xml").read_bytes()


def test_the_site_works_at_a_domain_root_and_under_a_sub_path(site, tmp_path):
    """Every relative link, followed from index.html over HTTP, answers 200: at / and at /news/archive/."""
    nested = tmp_path / "www" / "news" / "archive"
    shutil.copytree(site, nested)
    for folder, start in ((site, "/index.html"), (tmp_path / "www", "/news/archive/index.html")):
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            seen, queue = set(), [base + start]
            while queue:
                url = queue.pop()
                if url in seen:
                    continue
                seen.add(url)
                with urllib.request.urlopen(url, timeout=5) as answer:
                    assert answer.status == 200, url
                    body = answer.read().decode("utf-8")
                if url.endswith(".html"):
                    queue += [urljoin(url, link).split("#")[0] for _, link in parse(body).links if is_relative(link)]
            assert len(seen) == 6, seen  # four pages, the style sheet and the feed
        finally:
            server.shutdown()
            server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# -- paginated past PER_PAGE issues -----------------------------------------------------------------------

def _many_issues(newsletter, count: int) -> None:
    newsletter.issue.unlink()
    for n in range(count):
        day = f"2020-{1 + n // 28:02d}-{1 + n % 28:02d}"
        (newsletter.root / "issues" / f"{day}-issue-{n}.yaml").write_text(textwrap.dedent(f"""\
            subject: Issue number {n} of the test newsletter
            preheader: The preheader of issue number {n}, long enough to read like one.
            date: {day}
            intro: Hello.
            entries:
              - institution: Test University
                title: Trial {n}
                summary: Words.
                link: https://clinicaltrials.gov/study/NCT{n:08d}
            """), encoding="utf-8")


def test_the_index_is_paginated_past_fifty_issues(newsletter):
    _many_issues(newsletter, PER_PAGE + 2)
    built = build_site(newsletter.root / "site", config=newsletter.config, feed=False)
    site = built.folder
    assert built.pages == 2
    first = (site / "index.html").read_text(encoding="utf-8")
    second = (site / "page" / "2" / "index.html").read_text(encoding="utf-8")
    assert first.count("<li>") == PER_PAGE and second.count("<li>") == 2
    assert "Issue number 51 of" in first and "Issue number 1 of" in second and "Issue number 0 of" in second
    assert '<a rel="next" href="page/2/index.html">Older issues</a>' in first and 'rel="prev"' not in first
    assert '<a rel="prev" href="../../index.html">Newer issues</a>' in second
    assert 'href="../../style.css"' in second and 'href="../../2020-01-01-issue-0/index.html"' in second
    assert "<title>Test News: past issues, page 2 of 2</title>" in second
    # An old issue's way back leads to the page that lists it.
    assert '<a href="../page/2/index.html">All issues</a>' in (site / "2020-01-01-issue-0" / "index.html").read_text()
    assert not (site / "feed.xml").exists() and "feed.xml" not in first  # --no-feed


# -- incremental, and swapped in whole --------------------------------------------------------------------

def _state(site: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(site)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in site.rglob("*") if p.is_file()}


def test_only_what_changed_is_written_again(tmp_path):
    root = make_sample(tmp_path)
    out = root / "site"
    first = build_site(out, config=root / "digest.toml")
    assert first.written == 6
    before = _state(out)

    again = build_site(out, config=root / "digest.toml")
    assert (again.written, again.unchanged) == (0, 6)
    assert _state(out) == before  # not even swapped: the same files

    # A new subject: that page, its neighbour's "next issue" link, the index and the feed.
    august = root / "issues" / "2024-08-placebo.yaml"
    august.write_text(AUGUST.replace("LDN in August:", "LDN in late August:"), encoding="utf-8")
    changed = build_site(out, config=root / "digest.toml")
    after = _state(out)
    rewritten = {name for name in after if after[name] != before.get(name)}
    assert rewritten == {"index.html", "feed.xml", "2024-08-placebo/index.html", "2024-07-first-patients/index.html", MANIFEST}
    assert changed.written == 4
    assert "LDN in late August" in (out / "2024-07-first-patients" / "index.html").read_text()

    # digest.toml's colours: only the style sheet.
    config = root / "digest.toml"
    config.write_text(config.read_text().replace('brand = "#1d4f91"', 'brand = "#174079"'), encoding="utf-8")
    before = _state(out)
    assert build_site(out, config=config).written == 1
    assert {n for n, s in _state(out).items() if s != before.get(n)} == {"style.css", MANIFEST}

    # The newsletter's own theme: its templates/web/ overrides digest's, and every issue page is new.
    (root / "templates" / "web").mkdir(parents=True)
    theme = (REPO / "templates" / "default" / "web" / "issue.html.j2").read_text()
    (root / "templates" / "web" / "issue.html.j2").write_text(theme.replace("All issues", "Every issue"), encoding="utf-8")
    built = build_site(out, config=config)
    assert built.written == 3 and "Every issue</a>" in (out / "2024-06-ldn-trials" / "index.html").read_text()


def test_a_file_changed_in_the_site_by_hand_is_put_back(tmp_path):
    root = make_sample(tmp_path)
    out = root / "site"
    build_site(out, config=root / "digest.toml")
    (out / "style.css").write_text("body { color: red }")
    (out / "2024-06-ldn-trials" / "index.html").unlink()
    assert build_site(out, config=root / "digest.toml").written == 2
    assert _intact(out, read_manifest(out))


def test_a_damaged_manifest_stops_the_build_and_the_editor_s_files_stay(tmp_path):
    # The manifest is what tells the editor's own files from the site's: without it, a rebuild removed a CNAME.
    root = make_sample(tmp_path)
    out = root / "site"
    build_site(out, config=root / "digest.toml")
    (out / "CNAME").write_text("news.example.org\n")
    refused = (1, f"{out}: holds a {MANIFEST} that digest cannot read (damaged, or changed by hand), so it can no "
                  "longer tell its own files from yours there: move your own files out of it and delete it, or "
                  "choose another --out (nothing was written, nothing was removed)\n")
    for damaged in ("[" * 100_000 + "]" * 100_000, "", "{}", '{"version": 2}'):  # past JSON's recursion limit, …
        (out / MANIFEST).write_text(damaged)
        assert read_manifest(out) is None
        done = subprocess.run([sys.executable, "-m", "digest", "archive", "--config", str(root / "digest.toml"), "-o", str(out)],
                              capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stderr) == refused
        assert (out / "CNAME").read_text() == "news.example.org\n"
    (out / MANIFEST).unlink()
    os.mkfifo(out / MANIFEST)
    # A real process, so that a read which waits for a writer fails the test instead of hanging it.
    done = subprocess.run([sys.executable, "-m", "digest", "archive", "--config", str(root / "digest.toml"), "-o", str(out)],
                          capture_output=True, text=True, timeout=10)
    assert (done.returncode, done.stderr) == refused


def test_a_site_file_replaced_by_a_pipe_or_a_device_is_built_again_without_waiting(tmp_path):
    root = make_sample(tmp_path)
    out = root / "site"
    build_site(out, config=root / "digest.toml")
    for name, make in (("style.css", os.mkfifo), ("feed.xml", partial(os.symlink, "/dev/zero"))):
        (out / name).unlink()
        make(out / name)
        # A real process: a read that waits for a writer, or reads /dev/zero to the end, fails the test.
        done = subprocess.run([sys.executable, "-m", "digest", "archive", "--config", str(root / "digest.toml"), "-o", str(out)],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0 and done.stderr.startswith("Built "), done.stderr
        assert (out / name).is_file() and not (out / name).is_symlink()
        assert _intact(out, read_manifest(out))


def test_a_logo_gone_since_the_last_build_is_noticed_though_nothing_else_changed(tmp_path):
    root = make_sample(tmp_path)
    build_site(root / "site", config=root / "digest.toml")
    (root / "issues" / "images" / "copenhagen.png").unlink()
    with pytest.raises(UnreadableIssues) as failed:
        build_site(root / "site", config=root / "digest.toml")
    assert [str(e) for e in failed.value.errors] == [
        f"{root / 'issues' / '2024-06-ldn-trials.yaml'}:33: entries[3].logo: no image file at 'images/copenhagen.png' "
        f"(looked for {root / 'issues' / 'images' / 'copenhagen.png'})"]


def test_the_newsletter_s_logo_gone_or_no_longer_an_image_is_noticed_though_nothing_else_changed(tmp_path):
    root = make_sample(tmp_path)
    shutil.copyfile(root / "issues" / "images" / "uab.png", root / "logo.png")
    config = root / "digest.toml"
    config.write_text('logo = { src = "logo.png", alt = "LDN Trials News" }\n' + config.read_text(encoding="utf-8"),
                      encoding="utf-8")
    assert _archive(root).exit_code == 0
    (root / "logo.png").write_text("not an image")
    result = _archive(root)
    assert result.exit_code == 1 and "logo.src: " in result.output and "is not a PNG, JPEG, GIF or WebP image" in result.output
    (root / "logo.png").unlink()
    result = _archive(root)
    assert result.exit_code == 1 and "logo.src: no image file at 'logo.png'" in result.output


def test_a_file_named_twice_is_published_once(tmp_path):
    root = make_sample(tmp_path)
    issues = root / "issues"
    result = CliRunner().invoke(cli, ["archive", "--config", str(root / "digest.toml"), "-o", str(root / "site"),
                                      str(issues), str(issues / "2024-07-first-patients.yaml")])
    assert result.exit_code == 0 and result.output.startswith("Built "), result.output
    assert read_manifest(root / "site")["issues"] == 3


def test_an_issue_named_in_another_script_or_with_accents_gets_a_page_of_its_own(tmp_path):
    root = make_sample(tmp_path)
    issues = root / "issues"
    (issues / "2024-07-first-patients.yaml").rename(issues / "2024-07-Café.yaml")
    (issues / "2024-08-placebo.yaml").rename(issues / "Μάιος.yaml")
    (issues / "五月.yaml").write_text(AUGUST.replace("2024-08-", "2024-09-"), encoding="utf-8")
    result = _archive(root)
    assert result.exit_code == 0, result.output
    pages = sorted(p.parent.name for p in (root / "site").glob("*/index.html"))
    assert len(pages) == 4 and "2024-07-cafe" in pages, pages
    assert all(re.fullmatch(r"[a-z0-9-]+", page) for page in pages)


def test_one_name_stored_composed_or_decomposed_is_one_page():
    # macOS stores names decomposed (NFD): the page's address and the feed's id changed with the machine.
    import unicodedata

    from digest.reader import slug_for

    for name in ("Ελλάδα", "łódź", "한국"):
        nfc, nfd = (unicodedata.normalize(form, name) for form in ("NFC", "NFD"))
        assert nfc != nfd or name == "łódź"
        assert slug_for(Path(nfc + ".yaml")) == slug_for(Path(nfd + ".yaml"))


def test_the_folder_you_are_in_is_not_taken_for_the_site(tmp_path, monkeypatch):
    # The swap would move the terminal's own folder away; it failed with "Device or resource busy".
    root = make_sample(tmp_path)
    (root / "pub").mkdir()
    monkeypatch.chdir(root / "pub")
    result = CliRunner().invoke(cli, ["archive", "--config", str(root / "digest.toml"), "-o", "."])
    assert result.exit_code == 1
    assert result.output == (".: is the folder you are in, or holds it, and the site would replace it whole: name a "
                             "folder for the site, such as --out site (nothing was written, nothing was removed)\n")
    # From inside the site, '..' is the site itself: the staging folder was made inside it, and copied into itself.
    assert _archive(root).exit_code == 0
    july = root / "issues" / "2024-07-first-patients.yaml"
    july.write_text(july.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")  # not up to date
    monkeypatch.chdir(root / "site" / "2024-06-ldn-trials")
    result = CliRunner().invoke(cli, ["archive", "--config", str(root / "digest.toml"), "-o", ".."])
    assert result.exit_code == 1 and result.output.startswith("..: is the folder you are in, or holds it"), result.output
    # A link of the editor's in the site, and '..' after it: the guard followed the link, the write did not.
    (root / "elsewhere" / "x").mkdir(parents=True)
    (root / "site" / "current").symlink_to(root / "elsewhere" / "x")
    monkeypatch.chdir(root / "site")
    before = os.stat(root / "site").st_ino
    result = CliRunner().invoke(cli, ["archive", "--config", str(root / "digest.toml"), "-o", "current/.."])
    assert result.exit_code == 1 and os.stat(root / "site").st_ino == before, result.output
    assert list((root / "pub").iterdir()) == []


def test_a_build_that_fails_leaves_the_old_site_as_it_was(tmp_path):
    root = make_sample(tmp_path)
    out = root / "site"
    build_site(out, config=root / "digest.toml")
    before = _state(out)
    (root / "templates" / "web").mkdir(parents=True)
    (root / "templates" / "web" / "index.html.j2").write_text("{% if %}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["archive", "--config", str(root / "digest.toml"), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{root / 'templates' / 'web' / 'index.html.j2'}:1: template error")
    assert _state(out) == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".site")] == []  # no staging left behind


def test_what_a_killed_archive_left_is_cleared_but_the_editors_own_hidden_folders_are_kept(tmp_path):
    root = make_sample(tmp_path)
    left = root / ".site.k1ll3d_x.new"  # a staging folder, as mkdtemp names it, of an archive killed mid-write
    left.mkdir()
    (left / "index.html").write_text("half")
    mine = root / ".site.bak"  # the editor's, in the newsletter's own folder, beside site/
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert _archive(root).exit_code == 0
    assert not left.exists()
    assert (mine / "notes.txt").read_text() == "keep me"


def test_killed_while_writing_the_site_is_the_old_one_or_the_new_one_whole(tmp_path):
    """SIGKILL at moments spread over the run: each time, the site on disk is one that a build finished."""
    root = make_sample(tmp_path)
    for n in range(40):
        day = datetime.date(2023, 1, 1) + datetime.timedelta(days=n)
        (root / "issues" / f"{day}-extra.yaml").write_text(AUGUST.replace("2024-08-06", str(day)), encoding="utf-8")
    out = root / "site"
    command = [sys.executable, "-m", "digest", "archive", "--config", str(root / "digest.toml"), "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    issue = root / "issues" / "2024-08-placebo.yaml"
    for n, delay in enumerate((0.1, 0.17, 0.24, 0.31, 0.38, 0.45, 0.52, 0.6)):
        issue.write_text(AUGUST.replace("LDN in August", f"LDN in August ({n})"), encoding="utf-8")
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        manifest = read_manifest(out)
        assert manifest is not None and _intact(out, manifest), f"killed after {delay} s"
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    assert "LDN in August (7)" in (out / "index.html").read_text()


# -- bad input --------------------------------------------------------------------------------------------

def _archive(root: Path, *args: str):
    return CliRunner().invoke(cli, ["archive", "--config", str(root / "digest.toml"), "-o", str(root / "site"), *args])


def test_issues_that_cannot_be_read_are_all_listed_and_nothing_is_written(tmp_path):
    root = make_sample(tmp_path)
    (root / "issues" / "2024-07-first-patients.yaml").write_text(JULY.replace("date: 2024-07-02", "date: July"), encoding="utf-8")
    (root / "issues" / "2024-08-placebo.yaml").write_text(AUGUST.replace("    link: https://", "    link: javascript:"), encoding="utf-8")
    result = _archive(root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 3, result.output
    assert lines[0].startswith(f"{root / 'issues' / '2024-07-first-patients.yaml'}:3: date: ")
    assert lines[1].startswith(f"{root / 'issues' / '2024-08-placebo.yaml'}:12: entries[1].link: the link 'javascript:")
    assert lines[2] == "2 of 3 issues could not be read, so nothing was written"
    assert not (root / "site").exists()


def test_two_issues_with_one_page_are_refused(tmp_path):
    root = make_sample(tmp_path)
    shutil.copyfile(root / "issues" / "2024-08-placebo.yaml", root / "issues" / "2024-08-Placebo.yml")
    result = _archive(root)
    assert result.exit_code == 1
    assert result.output == (f"{root / 'issues' / '2024-08-placebo.yaml'}: has the same page in the archive (2024-08-placebo/) "
                             f"as {root / 'issues' / '2024-08-Placebo.yml'}: rename one of the two files\n")
    assert not (root / "site").exists()


def test_a_feed_needs_archive_url(tmp_path):
    root = make_sample(tmp_path)
    config = root / "digest.toml"
    config.write_text(re.sub(r"\narchive_url = .*\n", "\n", config.read_text()), encoding="utf-8")
    result = _archive(root)
    assert result.exit_code == 1
    assert result.output == (f"{config}: archive_url: is missing: feed.xml needs the https:// address the archive is "
                             "published at: add a line such as archive_url = \"https://www.example.org/newsletter/\" "
                             "with the settings at the top (or leave the feed out with --no-feed)\n")
    assert not (root / "site").exists()
    result = _archive(root, "--no-feed")
    assert result.exit_code == 0, result.output
    assert not (root / "site" / "feed.xml").exists()
    assert "canonical" not in (root / "site" / "index.html").read_text()


def test_archive_url_must_be_https(tmp_path):
    root = make_sample(tmp_path)
    config = root / "digest.toml"
    text = config.read_text()
    line = text[: text.index("archive_url =")].count("\n") + 1
    config.write_text(text.replace('archive_url = "https://', 'archive_url = "http://'), encoding="utf-8")
    result = _archive(root)
    assert result.exit_code == 1
    assert result.output == (f"{config}:{line}: archive_url: 'http://www.ldn-news.example/newsletter/archive/' must start "
                             "with https://: feed readers and mail programs warn about http://\n")
    assert not (root / "site").exists()


def test_a_folder_that_is_not_an_archive_is_never_replaced(tmp_path):
    root = make_sample(tmp_path)
    (root / "site").mkdir()
    (root / "site" / "notes.txt").write_text("mine")
    result = _archive(root)
    assert result.exit_code == 1
    assert "site: is not empty and was not made by 'digest archive': choose another --out" in result.output
    assert [p.name for p in (root / "site").iterdir()] == ["notes.txt"]


def test_an_issue_the_build_would_refuse_is_not_published_without_force(tmp_path):
    # The web publishes what was sent: a TODO the build refuses was published without a word, exit 0.
    root = make_sample(tmp_path)
    july = root / "issues" / "2024-07-first-patients.yaml"
    july.write_text(JULY.replace("summary: |\n", "summary: |\n      TODO check the dates.\n", 1), encoding="utf-8")
    line = july.read_text(encoding="utf-8").splitlines().index("      TODO check the dates.") + 1
    result = _archive(root)
    assert result.exit_code == 1 and not (root / "site").exists()
    assert result.output.splitlines() == [
        f"{july}:{line}: entries[1].summary: error: 'TODO' left in the text: finish or remove it before sending [placeholder]",
        "1 error found, so nothing was written: fix it, or use --force to publish anyway"]
    assert _archive(root, "--force").exit_code == 0 and "TODO check the dates" in (root / "site" / "2024-07-first-patients" / "index.html").read_text()
    again = _archive(root)  # checked again: the site was published with --force
    assert again.exit_code == 1 and "[placeholder]" in again.output


def test_a_mistake_of_digest_toml_is_listed_once_not_once_an_issue(tmp_path):
    root = make_sample(tmp_path)
    config = root / "digest.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('name = "', 'name = "TODO ', 1), encoding="utf-8")
    result = _archive(root)
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if "[placeholder]" in line] == [
        f"{config}:5: name: error: 'TODO' left in the text: finish or remove it before sending [placeholder]"]
    assert result.output.splitlines()[-1].startswith("1 error found")


def test_the_editor_s_own_files_in_the_site_are_kept_through_rebuilds(tmp_path):
    # A CNAME for GitHub Pages: the swap replaced the folder whole, and it went with it, without a word.
    root = make_sample(tmp_path)
    site = root / "site"
    assert _archive(root).exit_code == 0
    (site / "CNAME").write_text("news.example.org\n")
    (site / "extra").mkdir()
    (site / "extra" / "notes.txt").write_text("mine\n")
    july = root / "issues" / "2024-07-first-patients.yaml"
    july.write_text(july.read_text(encoding="utf-8").replace("A month after", "Two months after"), encoding="utf-8")
    result = _archive(root)
    assert result.exit_code == 0 and result.output.startswith("Built "), result.output
    assert (site / "CNAME").read_text() == "news.example.org\n" and (site / "extra" / "notes.txt").read_text() == "mine\n"
    # A file of the editor's where the site now needs to write is theirs: the build stops, and names it.
    (root / "issues" / "2024-09-new.yaml").write_text(AUGUST.replace("2024-08-", "2024-09-"), encoding="utf-8")
    (site / "2024-09-new").mkdir()
    (site / "2024-09-new" / "index.html").write_text("mine\n")
    result = _archive(root)
    assert result.exit_code == 1 and "holds 2024-09-new/index.html, which is not the site's own" in result.output
    assert (site / "2024-09-new" / "index.html").read_text() == "mine\n" and (site / "CNAME").exists()
    # A folder of the editor's with files in it, where a new issue's page goes: they would be published there.
    (site / "2024-09-new" / "index.html").unlink()
    (site / "2024-09-new" / "private-notes.txt").write_text("draft, not for publication\n")
    result = _archive(root)
    assert result.exit_code == 1 and "holds 2024-09-new/private-notes.txt, which is not the site's own" in result.output
    assert (site / "2024-09-new" / "private-notes.txt").exists() and not (site / "2024-09-new" / "index.html").exists()
    # A file where the site needs a folder is named too, not the staging folder the write failed in.
    shutil.rmtree(site / "2024-09-new")
    (site / "2024-09-new").write_text("mine\n")
    result = _archive(root)
    assert result.exit_code == 1 and "holds 2024-09-new, which is not the site's own" in result.output
    # An empty folder of the editor's is carried too (a `git init` not yet committed, a .well-known/).
    (site / "2024-09-new").unlink()
    (root / "issues" / "2024-09-new.yaml").unlink()
    (site / ".well-known").mkdir()
    (site / "private").mkdir(mode=0o700)
    (site / "private" / "notes.txt").write_text("mine\n")
    assert _archive(root, "--no-feed").exit_code == 0 and (site / ".well-known").is_dir() and (site / "CNAME").exists()
    assert stat.S_IMODE((site / "private").stat().st_mode) == 0o700  # the editor's folder keeps its own mode


def test_two_archives_at_once_do_not_take_each_other_s_pages_for_the_editor_s(tmp_path):
    # The second read the site's list of files before its turn: the first's new page was then "the editor's",
    # carried into a site whose list lacked it, and every later run stopped on it.
    root = make_sample(tmp_path)
    assert _archive(root).exit_code == 0
    (root / "issues" / "2024-09-new.yaml").write_text(AUGUST.replace("2024-08-", "2024-09-"), encoding="utf-8")
    command = [sys.executable, "-m", "digest", "archive", "--config", str(root / "digest.toml"), "-o", str(root / "site")]
    first = subprocess.Popen(command, env={**os.environ, "DIGEST_STOP_AT": "build-swap"}, stderr=subprocess.PIPE, text=True)
    _, status = os.waitpid(first.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    older = [str(p) for p in sorted((root / "issues").glob("2024-0[678]*.yaml"))]  # without the new issue
    second = subprocess.Popen([*command, "--no-feed", *older], stderr=subprocess.PIPE, text=True)  # not up to date
    time.sleep(1)  # it reads the site and waits for its turn
    os.kill(first.pid, signal.SIGCONT)
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0, second.stderr.read()
    assert not (root / "site" / "2024-09-new").exists()
    result = _archive(root)
    assert result.exit_code == 0 and (root / "site" / "2024-09-new" / "index.html").exists(), result.output


def test_a_site_kept_to_a_group_keeps_its_mode_through_rebuilds_and_a_read_only_folder_goes_with_the_old(tmp_path):
    root = make_sample(tmp_path)
    assert _archive(root).exit_code == 0
    os.chmod(root / "site", 0o2750)
    (root / "site" / ".well-known").mkdir()
    (root / "site" / ".well-known" / "security.txt").write_text("mine\n")
    os.chmod(root / "site" / ".well-known", 0o555)
    july = root / "issues" / "2024-07-first-patients.yaml"
    for n in range(2):
        july.write_text(july.read_text(encoding="utf-8") + f"# {n}\n", encoding="utf-8")
        assert _archive(root).exit_code == 0
    assert stat.S_IMODE(os.stat(root / "site").st_mode) == 0o2750  # it came back 755, open to everyone
    assert (root / "site" / ".well-known" / "security.txt").read_text() == "mine\n"
    assert [p.name for p in root.iterdir() if p.name.startswith(".site.")] == []  # one old site left a run


def test_a_site_kept_to_a_group_gives_its_pages_the_group_too(tmp_path):
    # The folder got its group back only after the pages were written into it: they were the user's group,
    # and a web server of the site's group could not read them.
    root = make_sample(tmp_path)
    assert _archive(root).exit_code == 0
    for path in [root / "site", *(root / "site").rglob("*")]:  # as `chgrp -R` does
        os.chown(path, -1, 65534)
    os.chmod(root / "site", 0o2750)
    july = root / "issues" / "2024-07-first-patients.yaml"
    july.write_text(july.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert _archive(root).exit_code == 0
    assert os.stat(root / "site").st_gid == 65534 and stat.S_IMODE(os.stat(root / "site").st_mode) == 0o2750
    assert {p.stat().st_gid for p in (root / "site").rglob("*")} == {65534}


def test_a_site_in_a_folder_set_up_for_a_group_keeps_the_group_on_every_page(tmp_path):
    # The new site took the setgid bit from the newsletter's folder, then was given the old site's mode
    # (755, no setgid) before its pages were written: they lost the group a web server reads them by.
    root = make_sample(tmp_path)
    os.chown(root, -1, 65534)
    os.chmod(root, 0o2750)
    july = root / "issues" / "2024-07-first-patients.yaml"
    for n in range(2):
        july.write_text(july.read_text(encoding="utf-8") + f"# {n}\n", encoding="utf-8")
        assert _archive(root).exit_code == 0
    assert {p.stat().st_gid for p in [root / "site", *(root / "site").rglob("*")]} == {65534}


def test_removing_an_old_site_never_changes_the_folder_that_holds_it(tmp_path):
    from digest.files import remove_tree

    holder = tmp_path / "newsletter"
    (holder / ".site.k1ll3d_x.old" / "locked" / "inner").mkdir(parents=True)
    os.chmod(holder / ".site.k1ll3d_x.old" / "locked", 0o300)  # not listable: rmtree's error handler got a TypeError
    os.chmod(holder, 0o2775)
    remove_tree(holder / ".site.k1ll3d_x.old")
    remove_tree(holder / ".site.k1ll3d_x.old")  # gone already: another run removed it first
    (holder / ".site.k1ll3d_y.old" / "inner").mkdir(parents=True)
    os.chmod(holder / ".site.k1ll3d_y.old", 0o311)  # the top one not listable
    remove_tree(holder / ".site.k1ll3d_y.old")
    assert not (holder / ".site.k1ll3d_y.old").exists()
    assert not (holder / ".site.k1ll3d_x.old").exists()
    assert stat.S_IMODE(os.stat(holder).st_mode) == 0o2775  # it was made 700


def test_an_editor_s_dated_copy_of_the_site_is_not_taken_for_a_leftover(tmp_path):
    root = make_sample(tmp_path)
    assert _archive(root).exit_code == 0
    shutil.copytree(root / "site", root / ".site.20240115.old")
    july = root / "issues" / "2024-07-first-patients.yaml"
    july.write_text(july.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert _archive(root).exit_code == 0
    assert (root / ".site.20240115.old" / "index.html").exists()


def test_an_old_site_a_killed_run_left_is_cleared_by_a_run_with_nothing_to_do(tmp_path):
    root = make_sample(tmp_path)
    assert _archive(root).exit_code == 0
    left = root / ".site.k1ll3d_x.new"
    shutil.copytree(root / "site", left)
    os.utime(left, (time.time() - 7200, time.time() - 7200))
    result = _archive(root)
    assert result.output.startswith("site/ is up to date") or " is up to date" in result.output, result.output
    assert not left.exists()


def test_a_fifo_at_the_site_s_place_is_never_replaced(tmp_path):
    root = make_sample(tmp_path)
    os.mkfifo(root / "site")
    result = _archive(root)
    assert result.exit_code == 1
    assert "site: is a file, not a folder 'digest archive' made: choose another --out" in result.output
    assert stat.S_ISFIFO(os.lstat(root / "site").st_mode)


def test_a_newsletter_in_a_folder_whose_name_is_in_no_encoding_is_archived(tmp_path):
    # A Latin-1 name on an old disk or share: hashing the paths for the manifest raised UnicodeEncodeError.
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    folder.mkdir()
    root = make_sample(folder)
    result = _archive(root)
    assert result.exit_code == 0, result.output
    assert (root / "site" / "feed.xml").is_file()


def test_the_command_says_what_it_did_and_where_to_publish(tmp_path):
    root = make_sample(tmp_path)
    result = _archive(root)
    assert result.exit_code == 0, result.output
    site = root / "site"
    assert result.output == (f"Built {site}/: 3 issues, 1 index page and feed.xml (6 files written, 0 unchanged)\n"
                             f"Publish it: upload everything in {site}/ to {ARCHIVE_URL}\n")
    result = _archive(root)
    assert result.output.startswith(f"{site}/ is up to date: 3 issues, 1 index page and feed.xml\n")


def test_by_default_every_issue_of_the_newsletter_found_from_here(tmp_path, monkeypatch):
    root = make_sample(tmp_path)
    monkeypatch.chdir(root / "issues")
    result = CliRunner().invoke(cli, ["archive"])
    assert result.exit_code == 0, result.output
    assert (root / "issues" / "site" / "2024-07-first-patients" / "index.html").is_file()
    # Named issues: only those.
    result = CliRunner().invoke(cli, ["archive", "-o", str(tmp_path / "two"), "2024-06-ldn-trials.yaml", "2024-08-placebo.yaml"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "two").iterdir() if p.is_dir()) == ["2024-06-ldn-trials", "2024-08-placebo"]


def test_without_digest_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["archive"])
    assert (result.exit_code, result.output) == (1, ".: no digest.toml found in this folder or any folder above it "
                                                    "(use --config, or run 'digest init')\n")


def test_open_opens_the_index_once(tmp_path):
    root = make_sample(tmp_path)
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {record}\n')
    browser.chmod(0o755)
    result = subprocess.run(
        [sys.executable, "-m", "digest", "archive", "--open", "--config", str(root / "digest.toml"), "-o", str(root / "site")],
        capture_output=True, text=True, env={**os.environ, "BROWSER": str(browser)}, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10
    while not (record.exists() and record.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text() == (root / "site" / "index.html").resolve().as_uri() + "\n"


# -- the email's link to its web version ------------------------------------------------------------------

VIEW = "View this email in your browser"


@pytest.mark.parametrize("setting, platform, html_link, text_link", [
    (None, "generic", None, None),
    ("archive", "generic", "https://news.testnews.example/archive/test-issue/", "https://news.testnews.example/archive/test-issue/"),
    ("archive", "mailchimp", "*|ARCHIVE|*", "*|ARCHIVE|*"),
    ("archive-always", "mailchimp", "https://news.testnews.example/archive/test-issue/", "https://news.testnews.example/archive/test-issue/"),
    ("archive", "campaign-monitor", "<webversion>", "[webversion]"),
    ("archive-always", "campaign-monitor", "https://news.testnews.example/archive/test-issue/", "https://news.testnews.example/archive/test-issue/"),
])
def test_view_online_archive(newsletter, setting, platform, html_link, text_link):
    import digest

    extra = 'archive_url = "https://news.testnews.example/archive"\n' + (f'view_online = "{setting}"\n' if setting else "")
    newsletter.write_config(extra + newsletter.config.read_text())
    result = digest.build(newsletter.issue, platform=platform)
    if html_link is None:
        assert VIEW not in result.html and VIEW not in result.text
        return
    if html_link == "<webversion>":
        assert f"<webversion>{VIEW}</webversion>" in result.html
    else:
        assert f'<a href="{html_link}"' in result.html and f">{VIEW}</a>" in result.html
    # Past 78 columns the address stands alone on its line, after its label.
    assert f"{VIEW}: {text_link}\n" in result.text or f"{VIEW}:\n{text_link}\n" in result.text


def test_view_online_is_checked(newsletter):
    import digest
    from digest.exceptions import ConfigError

    text = newsletter.config.read_text()
    newsletter.write_config('view_online = "archive"\n' + text)
    with pytest.raises(ConfigError, match="view_online: 'archive' links to the archive: set archive_url"):
        digest.build(newsletter.issue)
    newsletter.write_config('view_online = "web"\n' + text)
    with pytest.raises(ConfigError, match="view_online: 'web' must be one of: platform, archive, archive-always"):
        digest.build(newsletter.issue)


def test_a_site_folder_that_is_a_link_is_written_through_and_stays_a_link(newsletter, tmp_path):
    served = tmp_path / "www" / "newsletter"
    served.parent.mkdir()
    link = newsletter.root / "site"
    link.symlink_to(served, target_is_directory=True)  # not there yet: the first archive makes it
    for _ in range(2):  # made, then replaced
        built = build_site(link, config=newsletter.config, feed=False)
        assert link.is_symlink() and (served / "index.html").is_file() and (served / MANIFEST).is_file()
    assert built.issues == 1 and sorted(p.name for p in served.parent.iterdir()) == ["newsletter"]
