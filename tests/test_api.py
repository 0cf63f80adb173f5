"""The library: digest.build and digest.write, the one pipeline every command stands on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import digest
from conftest import REPO, SAMPLE_ISSUE
from digest.cli import cli
from digest.exceptions import OptionError
from digest.platforms import PLATFORMS


def python(code: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_the_guides_example_runs(tmp_path):
    guide = (REPO / "docs" / "python-api.md").read_text(encoding="utf-8")
    example = re.findall(r"```python\n(.*?)```", guide, re.DOTALL)[0]
    # Run where the guide says (the repository), writing into a scratch copy of the build folder.
    code = example.replace('digest.write(result, "build")', f"digest.write(result, {str(tmp_path / 'build')!r})")
    process = python(code)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("True ")
    assert (tmp_path / "build" / "2024-06-ldn-trials" / "email.html").is_file()


def test_the_one_liner_of_the_readme_works():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [code] = re.findall(r'python -c "(import digest;[^"]*)"', readme)
    process = python(code)
    assert process.returncode == 0, process.stderr
    ok, size = process.stdout.split()
    assert ok == "True" and 20_000 < int(size) < 24_576


def test_building_loads_neither_click_nor_any_command():
    process = python(
        "import sys, digest\n"
        "digest.build('issues/2024-06-ldn-trials.yaml')\n"
        "print(sorted(m for m in sys.modules if m == 'click' or m.startswith(('click.', 'digest.commands', 'digest.cli'))))"
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "[]"


def test_import_digest_alone_loads_nothing_else():
    process = python("import sys, digest; print(sorted(m for m in sys.modules if m.startswith('digest')))")
    assert process.stdout.strip() == "['digest']"
    assert sorted(digest.__all__) == sorted(["build", "write", "Result", "Finding", "DigestError", "__version__"])


def modules() -> list[str]:
    package = REPO / "digest"
    names = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__main__.py":  # running it is its job
            continue
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_on_its_own():
    # A circle of imports hidden by lazy imports shows up as a module that cannot be imported first.
    def load(name: str) -> tuple[str, str]:
        process = python(f"import {name}")
        return name, process.stderr.strip().splitlines()[-1] if process.returncode else ""

    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [(name, error) for name, error in pool.map(load, modules()) if error]
    assert failed == []


def test_no_library_module_imports_the_command_line():
    library = [REPO / "digest" / Path(*name.split(".")[1:]) for name in modules()]
    for name in modules():
        if name.startswith(("digest.commands", "digest.cli", "digest.__main__")):
            continue
        path = REPO / Path(*name.split(".")).with_suffix(".py")
        if not path.exists():
            path = REPO / Path(*name.split(".")) / "__init__.py"
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import click|from click|from digest\.commands|import digest\.commands|from digest\.cli)",
                             source, re.MULTILINE), name
    assert library


def test_result_holds_the_email_and_the_findings(sample_email):
    result = sample_email
    assert result.subject == "Low dose naltrexone is making news again"
    assert result.html.startswith("<!doctype html>") and result.text.startswith("LDN TRIALS NEWS")
    assert result.mjml.startswith("<mjml")
    assert result.ok and result.findings == []
    assert result.platform == "mailchimp"


def test_findings_carry_id_severity_path_line_field_and_message(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace("Hello **readers**.", "Hello **readers**. TODO"))
    result = digest.build(newsletter.issue)
    [todo] = [f for f in result.findings if f.id == "placeholder"]
    assert (todo.severity, todo.path, todo.line, todo.field) == ("error", newsletter.issue, 5, "intro")
    assert todo.message == "'TODO' left in the text: finish or remove it before sending"
    assert not result.ok
    # As one finding of `digest check --format json`, and ready for json.dumps (a Path was not).
    assert json.loads(json.dumps([f.as_dict() for f in result.findings]))[result.findings.index(todo)] == {
        "id": "placeholder", "severity": "error", "file": str(newsletter.issue), "line": 5, "field": "intro",
        "message": "'TODO' left in the text: finish or remove it before sending"}


def test_write_puts_the_result_on_disk(newsletter, tmp_path):
    newsletter.write_config('sender = "Test News <news@testnews.example>"\n' + newsletter.config.read_text())
    result = digest.build(newsletter.issue)
    folder = digest.write(result, tmp_path / "out", eml=True)
    assert folder == tmp_path / "out" / "test-issue"
    assert (folder / "email.html").read_text(encoding="utf-8") == result.html
    assert (folder / "email.txt").read_text(encoding="utf-8") == result.text
    assert (folder / "email.eml").is_file() and (folder / "issues" / "images" / "logo.png").is_file()


def test_a_digest_error_says_where_without_click(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace("date: 2024-05-14", "date: soon"))
    with pytest.raises(digest.DigestError) as caught:
        digest.build(newsletter.issue)
    error = caught.value
    assert (error.path, error.line, error.field) == (newsletter.issue, 3, "date")
    assert str(error).endswith("test-issue.yaml:3: date: 'soon' is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14")
    assert not any(cls.__module__.startswith("click") for cls in type(error).__mro__)


# --- settings merged once ------------------------------------------------------------------------------

def test_the_platform_override_is_merged_into_the_settings():
    result = digest.build(SAMPLE_ISSUE, platform="brevo")
    assert result.newsletter.platform == result.platform == "brevo"
    assert "{{ unsubscribe }}" in result.html and "*|UNSUB|*" not in result.html
    # The key the flag replaced has no line: a finding about it must not point at digest.toml's "mailchimp".
    assert "platform" not in result.newsletter.source.keys


def test_a_bad_override_is_a_usage_error_named_by_its_flag():
    with pytest.raises(OptionError) as caught:
        digest.build(SAMPLE_ISSUE, platform="mailchump")
    assert str(caught.value).startswith("--platform: unknown mail platform 'mailchump'; did you mean 'mailchimp'?")
    assert caught.value.exit_code == 2


# --- the source map ------------------------------------------------------------------------------------

def test_the_source_map_has_the_line_of_every_field(sample_email):
    issue, newsletter = sample_email.issue, sample_email.newsletter
    lines = (SAMPLE_ISSUE.read_text(encoding="utf-8")).splitlines()
    for field, line in issue.source.keys.items():
        key = field.rpartition(".")[2]
        text = lines[line - 1]
        assert key in text or (re.fullmatch(r"entries\[\d+\]", field) and text.lstrip().startswith("- ")), (field, text)
    assert issue.source.line("entries[2].summary") == 24
    assert lines[23].strip() == "summary: |"
    assert issue.source.urls["https://clinicaltrials.gov/study/NCT02965768"] == ("entries[2].link", 28)
    config = (REPO / "digest.toml").read_text(encoding="utf-8").splitlines()
    assert config[newsletter.source.line("colours.brand") - 1].startswith("brand =")
    assert config[newsletter.source.line("social[3].url") - 1] == 'url = "https://www.instagram.com/example"'


def test_a_link_deep_in_a_markdown_field_is_found_on_its_own_line(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace(
        "Hello **readers**.", "Hello **readers**.\n\n  See\n  [the page](http://testnews.example/page) now."))
    result = digest.build(newsletter.issue)
    [http] = [f for f in result.findings if f.id == "link-http"]
    assert (http.line, http.field) == (8, "intro")
    assert newsletter.issue.read_text().splitlines()[7].strip().startswith("[the page]")


# --- one parse of the HTML -----------------------------------------------------------------------------

def test_the_html_is_parsed_once_per_build_and_shared(newsletter, monkeypatch):
    from lxml import etree

    from digest.page import parse_html

    calls = []
    real = etree.fromstring
    monkeypatch.setattr(etree, "fromstring", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    result = digest.build(newsletter.issue)
    assert len(calls) == 1  # premailer's tree, from which the page is read too
    from digest.links import urls_to_check
    from digest.preview.state import Preview

    urls_to_check(result)
    preview = Preview(newsletter.issue, newsletter.config)
    preview.rebuild()
    assert len(calls) == 2  # the preview's own build: its list of links comes from that build's page
    state = json.loads(preview.state_json())
    assert [link["href"] for link in state["links"]] == [link.href for link in result.page.links]
    monkeypatch.undo()
    assert result.page == parse_html(result.html)  # what is checked is what is sent


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_the_page_read_from_the_inliners_tree_is_the_sent_htmls(platform, tmp_path):
    """Every platform's merge tags, in links and in text, and an editor's text that looks like some: the page
    the checks read (from the tree, with its placeholders) is the page of the HTML that is sent."""
    from digest.page import parse_html

    issue = tmp_path / "issues" / "tags.yaml"
    issue.parent.mkdir()
    shutil.copy(REPO / "digest.toml", tmp_path)
    shutil.copytree(REPO / "issues" / "images", issue.parent / "images")
    issue.write_text(SAMPLE_ISSUE.read_text(encoding="utf-8").replace(
        "is making news again. Thanks", "is making news again. Typed: [unsubscribe] <%asm%> {$x} & <b> "
        "[a page](https://example.net/?a=1&b=2). Thanks"), encoding="utf-8")
    result = digest.build(issue, platform=platform)
    assert result.page == parse_html(result.html)
    assert "[unsubscribe] <%asm%> {$x} & <b>" in result.page.visible


BODY = '<!doctype html>\n<html><head>{head}</head><body>\n{body}\n</body></html>'
PAGES = {  # each a case where the tree could read otherwise than a parser of the sent HTML
    "a merge tag across two lines": '<p>x</p>\n<a href="{{ a\n b }}">go</a>\n<img src="https://e.example/i.png" alt="i">',
    "lines lost and gained": '<a href="https://e.example/a\nb">a</a>\n<p>x</p>\n<a href="https://e.example/c">c</a>\n<a href="{{ a\n b }}">go</a>',
    "markup inside something tag-like": '<p>{$ see <a href="https://e.example/t">x</a> }</p><p>&lt;% <img src="https://e.example/i.png" alt="i"> %&gt;</p>',
    "an address lxml escapes": '<a href="https://e.example/café?q=ü">c</a><img src="https://e.example/ä b.png" alt="x"><a href=" https://e.example/">s</a>',
    "entities and quotes in tags": '<a href="*|A&copy=1|*">x</a><p>*|A &copy B|* {{ x &notin y }}</p><img src="https://e.example/x.png" alt="{{ a &quot; b }}">',
    "Campaign Monitor's elements": '<p><unsubscribe>Unsub</unsubscribe> <webversion><img src="https://e.example/x.png" alt="v"></webversion></p>',
    "SendGrid's tags": '<p>a <%asm%> b &lt;%x%&gt; c</p><a href="<%asm_group_unsubscribe_raw_url%>">u</a>',
    "a <body in a comment of <head>": ('<!-- <body>\n\n -->', '<p>x</p><a href="https://e.example/a">a</a>'),
    "premailer's mark typed as text": '<p>say data-premailer="ignore" now</p><style media="print">p { color: red }</style>',
    "a </head> and a <body in a comment of <head>": ('<!-- </head>\n\n\n<body> -->', '<a href="https://e.example/a">a</a>'),
    "a <body in a comment before <body>": ('', '<a href="https://e.example/a">a</a>'),
    "text a parser keeps raw": '<iframe>&lt;b&gt;</iframe><p>x</p>',
    "carriage returns in tags": '<img src="https://e.example/x.png" alt="a&#13;b"><a href="{{ a\rb }}">r</a>',
    "an element tag in an attribute": '<img src="https://e.example/x.png" alt="<unsubscribe>">',
    "a tag with ' in an attribute lxml quotes with '": '<img src="https://e.example/x.png" alt="&quot;Boston&quot; {{ contact.FIRSTNAME|default:\'there\' }}">',
}


@pytest.mark.parametrize("case", PAGES)
def test_the_page_is_the_sent_htmls_where_the_tree_could_read_otherwise(case):
    from digest.inline import inline_with_page
    from digest.page import parse_html

    head, body = PAGES[case] if isinstance(PAGES[case], tuple) else ("", PAGES[case])
    html = BODY.format(head=head, body=body)
    if case == "a <body in a comment before <body>":
        html = html.replace("</head><body>", "</head><!-- <body> -->\n\n<body>")
    sent, page = inline_with_page(html, "p { color: red } a { color: blue }")
    assert page == parse_html(sent)
    assert 'data-premailer="ignore"' not in sent.replace('say data-premailer="ignore" now', "")
    assert ('say data-premailer="ignore" now' in sent) == (case == "premailer's mark typed as text")


def test_a_link_typed_inside_something_tag_like_is_still_checked(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace(
        "Hello **readers**.", "Hello **readers**. <% see [the trials page](http://testnews.example/trials) %>"))
    result = digest.build(newsletter.issue, platform="mailchimp")
    assert "http://testnews.example/trials" in [link.href for link in result.page.links]
    assert "link-http" in [f.id for f in result.findings]


# --- the new checks, through the command line and as JSON -----------------------------------------------

def check(*args, cwd=None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", *map(str, args)])
    return result.exit_code, result.output


def check_json(issue) -> dict:
    code, output = check("--format", "json", issue)
    return json.loads(output)


def test_a_yellow_brand_fails_contrast_with_the_line_and_the_ratio(newsletter):
    newsletter.write_config(newsletter.config.read_text() + '\n[colours]\nbrand = "#f5c518"\n')
    code, output = check(newsletter.issue)
    assert code == 1
    lines = [line for line in output.splitlines() if "[contrast]" in line]
    assert lines == [
        f"{newsletter.config}:12: colours.brand: error: brand #f5c518 on surface #ffffff (the heading and each "
        "institution's name) has a contrast of 1.63:1, below the 4.5:1 that WCAG 2.1 AA asks for: make brand "
        "darker [contrast]",
        f"{newsletter.config}:12: colours.brand: error: button_text #ffffff on brand #f5c518 (the “Find out more” "
        "buttons) has a contrast of 1.63:1, below the 4.5:1 that WCAG 2.1 AA asks for: make brand darker [contrast]",
    ]
    findings = check_json(newsletter.issue)["issues"][0]["findings"]
    contrast = [f for f in findings if f["id"] == "contrast"]
    assert [(f["severity"], f["line"], f["field"]) for f in contrast] == [("error", 12, "colours.brand")] * 2


def test_the_default_colours_and_the_samples_pass_contrast(sample_email):
    assert not [f for f in sample_email.findings if f.id == "contrast"]


def test_a_colour_set_in_a_theme_toml_is_named_there(newsletter):
    # The check named digest.toml's [colours] line, which held another colour, or no line at all.
    own = newsletter.root / "templates" / "theme.toml"
    own.parent.mkdir()
    own.write_text('description = "mine"\n[colours]\nmuted = "#cccccc"\n', encoding="utf-8")
    findings = [f for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert findings and {(f.path, f.line, f.field) for f in findings} == {(own, 3, "colours.muted")}
    # digest.toml's [colours] comes over the theme's: then it is the place to change.
    newsletter.write_config(newsletter.config.read_text() + '\n[colours]\nmuted = "#dddddd"\n')
    lines = newsletter.config.read_text().splitlines()
    findings = [f for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert {(f.path, f.line) for f in findings} == {(newsletter.config, lines.index('muted = "#dddddd"') + 1)}


def test_a_colour_changed_in_digest_toml_is_the_one_named_over_a_copied_theme_s(newsletter):
    # A copied theme's theme.toml sets every colour: the text colour was blamed, never the one the editor changed.
    assert CliRunner().invoke(cli, ["theme", "copy", "--to", str(newsletter.root / "mine"), "--config",
                                    str(newsletter.config)]).exit_code == 0
    text = newsletter.config.read_text()
    newsletter.write_config('theme = "mine"\n' + text + '\n[colours]\nsurface = "#666666"\n')
    findings = [f for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert findings and {(f.path, f.field) for f in findings} == {(newsletter.config, "colours.surface")}


def test_dark_colours_are_checked_too(newsletter):
    newsletter.write_config(newsletter.config.read_text() + '\n[colours]\ndark_muted = "#3c4043"\n')
    findings = [f for f in digest.build(newsletter.issue).findings if f.id == "contrast"]
    assert {f.field for f in findings} == {"colours.dark_muted"}
    assert all("make dark_muted lighter" in f.message for f in findings)


def test_init_then_check_names_every_starter_leftover(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "letter"), "--name", "Trials Today"]).exit_code == 0
    [issue] = (tmp_path / "letter" / "issues").glob("*.yaml")
    result = runner.invoke(cli, ["check", "--format", "json", str(issue)])
    assert result.exit_code == 1
    found = {(f["field"], f["id"]) for f in json.loads(result.output)["issues"][0]["findings"] if f["severity"] == "error"}
    assert found == {
        ("subject", "starter-text"), ("preheader", "starter-text"), ("intro", "starter-text"), ("entries[1].institution", "starter-text"),
        ("entries[1].title", "starter-text"), ("entries[1].summary", "starter-text"), ("organisation", "starter-text"),
        ("address", "starter-text"), ("website", "starter-text"), ("asset_base_url", "starter-text"),
        ("entries[1].link", "starter-text"),
    }


def test_the_subject_digest_init_wrote_is_starter_text_under_either_name(tmp_path):
    # "My Newsletter: first issue" went out once the newsletter had a name of its own; check said nothing.
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "letter")]).exit_code == 0
    config = tmp_path / "letter" / "digest.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('name = "My Newsletter"', 'name = "LDN Weekly"'), encoding="utf-8")
    [issue] = (tmp_path / "letter" / "issues").glob("*.yaml")
    found = [f for f in digest.build(issue).findings if f.id == "starter-text" and f.field == "subject"]
    assert [f.message for f in found] == ["'My Newsletter: first issue' is the starter file's sample text: replace it with your own"]
    issue.write_text(issue.read_text(encoding="utf-8").replace("My Newsletter: first issue", "LDN Weekly: first issue"), encoding="utf-8")
    assert [f for f in digest.build(issue).findings if f.id == "starter-text" and f.field == "subject"]


def test_a_starter_sentence_is_quoted_as_typed_and_the_first_one_is_named(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "letter"), "--name", "Trials Today"]).exit_code == 0
    [issue] = (tmp_path / "letter" / "issues").glob("*.yaml")
    [intro] = [f for f in digest.build(issue).findings if f.id == "starter-text" and f.field == "intro"]
    typed = yaml.safe_load(issue.read_text(encoding="utf-8"))["intro"]
    quoted = intro.message.split("' is the starter file's")[0][1:]
    assert quoted in typed and typed.find(quoted) == min(typed.find(s) for s in typed.split(". ") if s)


def test_a_starter_sentence_with_marks_is_quoted_as_typed_on_its_own_line(newsletter):
    # The words were looked for without their apostrophes: not found, the message quoted them in lower case
    # and named the field's first line.
    own = newsletter.root / "templates" / "new" / "issue.yaml.j2"
    own.parent.mkdir(parents=True)
    own.write_text("subject: {{ subject|yaml }}\npreheader: The preheader of this issue, long enough.\ndate: {{ date }}\n"
                   "intro: |\n  This month's news from the unit goes here.\nentries: []\n", encoding="utf-8")
    text = newsletter.issue.read_text(encoding="utf-8")
    newsletter.issue.write_text(text.replace("  Hello **readers**.", "  Hello **readers**.\n\n  This month's *news* from the unit goes here."),
                                encoding="utf-8")
    [found] = [f for f in digest.build(newsletter.issue).findings if f.id == "starter-text" and f.field == "intro"]
    assert found.message.startswith("\"This month's *news* from the unit goes here\" is the starter file's sample text")
    assert found.line == 7


def test_the_starter_s_sender_and_unsubscribe_lines_uncommented_are_errors(tmp_path):
    # A test copy went out "From news@example.org", and `digest check` said no problems found.
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "letter"), "--name", "Trials Today"]).exit_code == 0
    config = tmp_path / "letter" / "digest.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("# sender = ", "sender = ").replace("# unsubscribe = ", "unsubscribe = "), encoding="utf-8")
    lines = config.read_text(encoding="utf-8").splitlines()
    [issue] = (tmp_path / "letter" / "issues").glob("*.yaml")
    result = runner.invoke(cli, ["check", "--format", "json", str(issue)])
    found = {(f["field"], f["line"], f["message"]) for f in json.loads(result.output)["issues"][0]["findings"]
             if f["id"] == "starter-text" and f["field"] in ("sender", "unsubscribe")}
    assert found == {
        ("sender", lines.index('sender = "Your Newsletter <news@example.org>"') + 1,
         "mailto:news@example.org is an example address from the starter file: put your own"),
        ("unsubscribe", lines.index('unsubscribe = "mailto:unsubscribe@example.org"') + 1,
         "mailto:unsubscribe@example.org is an example address from the starter file: put your own")}


def test_the_starter_s_link_left_in_an_otherwise_written_entry_is_an_error(tmp_path):
    # An editor who rewrote every word but the link would send readers to the registry's home page.
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "letter"), "--name", "Trials Today"]).exit_code == 0
    [issue] = (tmp_path / "letter" / "issues").glob("*.yaml")
    issue.write_text(
        'subject: "Two trials of naltrexone for pain are recruiting"\n'
        'preheader: "Both trials are looking for adults with chronic pain who live near them."\n'
        "date: 2024-06-04\n"
        "intro: |\n  Two trials opened this month.\n\n"
        "entries:\n"
        "  - institution: Boston Medical Center\n"
        "    title: Naltrexone for chronic pain in adults\n"
        "    summary: |\n      The study leaders note that pain is common.\n"
        "    link: https://clinicaltrials.gov/\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(issue)])
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if "[starter-text]" in line and str(issue) in line] == [
        f"{issue}:12: entries[1].link: error: https://clinicaltrials.gov/ is the starter file's sample link: put the "
        "address of this trial's own page [starter-text]"]
    issue.write_text(issue.read_text().replace("https://clinicaltrials.gov/", "https://clinicaltrials.gov/study/NCT03008590"))
    assert "sample link" not in runner.invoke(cli, ["check", str(issue)]).output


def test_starter_words_an_editor_may_use_are_not_flagged(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace(
        "Hello **readers**.", "Hello **readers**. Write to us; the example of University Hospital trials matters."))
    assert not [f for f in digest.build(newsletter.issue).findings if f.id == "starter-text"]


@pytest.mark.parametrize("status, expected", [
    ("Withdrawn", ("trial-status", "the trial is Withdrawn (stopped before it enrolled anyone): readers cannot join it")),
    ("TERMINATED", ("trial-status", "the trial is TERMINATED (stopped early): readers cannot join it")),
    ("suspended", ("trial-status", "the trial is suspended (paused): readers cannot join it")),
    ("recruting", ("trial-status-unknown", "'recruting' is not a ClinicalTrials.gov status; did you mean 'Recruiting'?")),
    ("Recruiting", None),
    ("Active, not recruiting", None),
])
def test_trial_status(newsletter, status, expected):
    newsletter.write_issue(newsletter.issue.read_text() + f"    status: {json.dumps(status)}\n")
    code, output = check(newsletter.issue)
    found = [f for f in check_json(newsletter.issue)["issues"][0]["findings"] if f["id"].startswith("trial-status")]
    if expected is None:
        assert found == []
    else:
        [finding] = found
        assert (finding["id"], finding["severity"], finding["line"], finding["field"]) == (expected[0], "warning", 15, "entries[1].status")
        assert finding["message"].startswith(expected[1])
        assert code == 0 and f":15: entries[1].status: warning: {expected[1]}" in output


def test_a_bare_address_in_markdown_is_a_checked_link(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace(
        "Hello **readers**.", "Hello **readers**: see http://testnews.example/plain and www.clinicaltrials.gov."))
    result = digest.build(newsletter.issue)
    assert re.search(r'<a href="http://testnews.example/plain"[^>]*>http://testnews.example/plain</a>', result.html)
    assert re.search(r'<a href="https://www.clinicaltrials.gov"[^>]*>www.clinicaltrials.gov</a>', result.html)
    assert "http://testnews.example/plain" in [link.href for link in result.page.links]
    [http] = [f for f in result.findings if f.id == "link-http"]
    assert (http.line, http.field) == (5, "intro")
    # Words that only look like a domain stay words.
    newsletter.write_issue(newsletter.issue.read_text().replace("Hello **readers**.", "Hello ClinicalTrials.gov readers."))
    assert "ClinicalTrials.gov" not in [link.text for link in digest.build(newsletter.issue).page.links]


def test_a_bare_javascript_address_is_never_a_link(newsletter):
    newsletter.write_issue(newsletter.issue.read_text().replace("Hello **readers**.", "Hello javascript:alert(1) readers."))
    result = digest.build(newsletter.issue)
    assert "javascript:" not in [link.href[:11] for link in result.page.links]
