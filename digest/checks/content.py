"""What the editor typed: notes left in (TODO, the starter's sample text), the platform's template code,
entries given twice, and trials that readers can no longer join."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from digest.checks.base import at, at_text, config_texts, in_config, issue_texts, normalise
from digest.markup import PASTED_STOPS
from digest.model import ERROR, STATUS_LABELS, WARNING, Entry, Finding, Result
from digest.platforms import FIRST_NAME, platform_tags

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{%|%\}|\bTODO\b|\bFIXME\b|\bXXX\b|lorem ipsum", re.IGNORECASE)
_PLACEHOLDER_HINTS = ("{{", "}}", "{%", "%}", "todo", "fixme", "xxx", "lorem ipsum")  # each match holds one
_CASE_SENSITIVE = {"todo", "fixme", "xxx"}  # "todo" as a word in prose is fine; TODO in capitals is a note
# Statuses under which a trial takes no one: worth a word before readers try to join.
CLOSED = {"withdrawn": "stopped before it enrolled anyone", "terminated": "stopped early", "suspended": "paused"}
# The domains the starter files use for their sample addresses (RFC 2606 keeps them for examples).
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


def check_typed_text(result: Result) -> list[Finding]:
    """Template code the platform would run, and notes left in the text (TODO, {{ … }}, lorem ipsum)."""
    tags = platform_tags(result.platform)
    code_pattern = re.compile(tags.code) if tags.code else None
    places = _typed(result)
    # Nearly always nothing anywhere: one look at all the text instead of two searches per field. The look
    # may say yes where the fields say no (a match across two of them, "todo" in prose): they are searched then.
    everything = _all_of(places)
    # What IGNORECASE equates, made equal: casefold does ſ and s; ı and İ (i and a combining dot) it leaves.
    folded = everything.casefold().replace("ı", "i").replace("i\u0307", "i")
    if not any(hint in folded for hint in _PLACEHOLDER_HINTS) and not (code_pattern and code_pattern.search(everything)):
        return []
    findings = []
    for source, texts in places:
        for field, text in texts:
            if not PLACEHOLDER.search(text) and not (code_pattern and code_pattern.search(text)):
                continue
            # The platform's own tags too (*|FNAME|*): typed, they would be escaped as text is, and a quote in
            # one breaks it (Brevo's default:'there'); the greeting's {first_name} is the way to them.
            code = code_pattern.search(text) if code_pattern else None
            if code:
                snippet = _snippet(text, code.start())
                findings.append(Finding("template-code", ERROR, f"{snippet!r}: {result.platform} would read this as "
                                        "its own template code; digest adds the platform's tags itself (a reader's "
                                        "first name: see greeting), so reword it", **source(result, field, text, code.start())))
                continue
            for match in PLACEHOLDER.finditer(text):
                found = match.group(0)
                if found.lower() in _CASE_SENSITIVE and found != found.upper():
                    continue
                findings.append(Finding("placeholder", ERROR, f"{found!r} left in the text: finish or remove it "
                                        "before sending", **source(result, field, text, match.start())))
                break
    return findings


def check_first_name(result: Result) -> list[Finding]:
    """{first_name} is filled in only in the greeting: anywhere else every reader would read it as typed."""
    findings = []
    for source, texts in _typed(result):
        for field, text in texts:
            if field != "greeting" and (index := text.find(FIRST_NAME)) != -1:
                findings.append(Finding("first-name", ERROR, f"{FIRST_NAME} is filled in only in the greeting, the "
                                        f"line above the intro: move it there (greeting: \"Dear {FIRST_NAME},\")",
                                        **source(result, field, text, index)))
    return findings


def _typed(result: Result) -> tuple:
    """(where a finding points, [(field, text), …]) for the issue's texts, then digest.toml's."""
    return (_issue_place, list(issue_texts(result))), (_config_place, list(config_texts(result)))


def _all_of(places: tuple) -> str:
    # NUL never occurs in a field: what matches across two fields is only a hint, looked at field by field.
    return "\0".join(text for _, texts in places for _, text in texts)


def _snippet(text: str, start: int) -> str:
    from digest.inline import MERGE_TAG

    whole = MERGE_TAG.match(text, start)
    return whole.group(0) if whole else text[start : start + 20].split("\n")[0]


def _issue_place(result: Result, field: str, text: str, index: int) -> dict:
    return at_text(result, field, text, index)


def _config_place(result: Result, field: str, text: str, index: int) -> dict:
    place = in_config(result, field)
    source = result.newsletter.source
    place["line"] = source.line_in(field, text, index) or place["line"]
    return place


def check_starter_text(result: Result) -> list[Finding]:
    """Sample text of the files `digest init` and `digest new` write, still there: the email would say
    "Write the introduction here" to every reader."""
    from digest.starter import INIT_SUBJECT, STARTER_NAME, starter_stamp

    dirs = result.newsletter.theme.dirs
    values, sentences, links = starter_values(dirs, starter_stamp(dirs))
    # The subject `digest init` gave the first issue: with the name it was given then, or the newsletter's now.
    values |= {_plain(INIT_SUBJECT.format(name=name)).strip(" .") for name in (STARTER_NAME, result.newsletter.name)}
    places = _typed(result)
    # What is in one field's plain text is in the plain text of all of them: most issues hold none of the
    # starter's words, and then no field needs a look of its own.
    everything = _plain(_all_of(places))
    values = frozenset(value for value in values if value in everything)
    sentences = tuple(sentence for sentence in sentences if sentence in everything)
    findings = []
    for source, texts in places if values or sentences else ():
        for field, text in texts:
            found = _starter_in(text, values, sentences)
            if found is not None:
                start, typed = _typed_span(found, text)
                findings.append(Finding("starter-text", ERROR, f"{typed!r} is the starter file's sample text: "
                                        "replace it with your own", **source(result, field, text, start)))
    for entry in result.issue.entries:
        if entry.link.rstrip("/") in links:
            # The starter's link is the registry's home page: as a "Find out more" button it leads nowhere useful.
            findings.append(Finding("starter-text", ERROR, f"{entry.link} is the starter file's sample link: put the "
                                    "address of this trial's own page", **at(result, f"{entry.field}.link")))
    base = result.newsletter.asset_base_url
    for source in (result.newsletter.source, result.issue.source):
        for url, (field, line) in source.urls.items():
            if _is_example(url) and not (base and url != base and url.startswith(base) and _is_example(base)):
                findings.append(Finding("starter-text", ERROR, f"{url} is an example address from the starter file: "
                                        "put your own", source.path, line, field))
    return findings


def _is_example(url: str) -> bool:
    host = (urlsplit(url).hostname or url.rpartition("@")[2]).lower()
    return any(host == domain or host.endswith("." + domain) for domain in EXAMPLE_DOMAINS)


def _starter_in(text: str, values: frozenset[str], sentences: tuple[str, ...]) -> str | None:
    plain = _plain(text).strip(" .")
    if plain in values:
        return text
    # The first of them in the text: the one the editor reads first.
    return min((sentence for sentence in sentences if sentence in plain), key=plain.find, default=None)


def _typed_span(found: str, text: str) -> tuple[int, str]:
    """Where in `text` the starter's sentence `found` (as `_plain` has it) starts, and the sentence as typed
    there, marks, capitals and spaces as they are. (0, found) where it is not found as such."""
    if found == text:
        return 0, text
    plain, where = [], []  # `text` as _plain makes it, and where in `text` each of its characters comes from
    space = False
    for i, char in enumerate(text):
        if char in _QUOTES_AND_MARKS:
            continue
        if char.isspace():
            space = bool(plain)
            continue
        if space:
            plain.append(" ")
            where.append(i)
            space = False
        for lower in char.lower():
            plain.append(lower)
            where.append(i)
    start = "".join(plain).find(found)
    if start < 0 or not found:
        return 0, found
    return where[start], text[where[start]:where[start + len(found) - 1] + 1]


_QUOTES_AND_MARKS = "“”\"‘’'*_"


def _plain(text: str) -> str:
    for mark in _QUOTES_AND_MARKS:  # one str.replace a mark: a regex, or str.translate, goes char by char, slower
        text = text.replace(mark, "")
    return normalise(text).lower()


@functools.lru_cache(maxsize=8)
def starter_values(theme_dirs: tuple, stamp: tuple = ()) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    """The starter files' one-line values (found when a field is exactly one of them) and the sentences of
    their longer texts (found anywhere), as `_plain` text, and their entries' links. Read from the files the newsletter's `digest new`
    would use (its own templates/new/ first), so the check stays true when they change; `stamp` (which files,
    and when they changed) keys the cache."""
    import tomllib

    import yaml

    from digest.starter import STARTER_NAME, STARTER_SUBJECT, render_starter

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        issue = yaml.load(render_starter("issue.yaml.j2", theme_dirs, subject=STARTER_SUBJECT, date="2000-01-01", path="x"), Loader=loader)
        config = tomllib.loads(render_starter("digest.toml.j2", theme_dirs, name=STARTER_NAME))
    except (yaml.YAMLError, tomllib.TOMLDecodeError):
        return frozenset(), (), frozenset()  # a starter that `digest new` could not use either: it has no sample text to find
    issue = issue if isinstance(issue, dict) else {}
    entries = [e for e in issue.get("entries") or [] if isinstance(e, dict)]
    values = [issue.get("subject"), config.get("name"), config.get("organisation"), config.get("address")]
    texts = [issue.get("preheader"), issue.get("intro")]
    for entry in entries:
        values += [entry.get("institution"), entry.get("title")]
        texts.append(entry.get("summary"))
    sentences = set()
    for text in filter(lambda t: isinstance(t, str), texts):
        for sentence in re.split(r"(?<=[.!?:”])\s+|\n", text):
            sentence = _plain(sentence).strip(" .")
            if len(sentence) >= 12:  # a sentence, not a word an editor could use for their own reasons
                sentences.add(sentence)
    values = [v for v in values if isinstance(v, str)]
    links = frozenset(e["link"].rstrip("/") for e in entries if isinstance(e.get("link"), str))
    return frozenset(_plain(v).strip(" .") for v in values), tuple(sorted(sentences, key=len, reverse=True)), links


def check_entries(result: Result) -> list[Finding]:
    issue = result.issue
    if not issue.entries:
        return [Finding("no-entries", ERROR, "the issue has no entries: add at least one under 'entries:'",
                        **at(result, "entries" if "entries" in issue.source.keys else "sections"))]
    findings = [Finding("empty-section", ERROR, f"the section {section.heading!r} has no entries: add some, or remove "
                        "the section (its heading would stand alone in the email)", **at(result, f"{section.field}.heading"))
                for section in issue.sections if section.heading is not None and not section.entries]
    for key, what in (("title", "title"), ("link", "link")):
        first: dict[str, Entry] = {}
        for entry in issue.entries:
            value = getattr(entry, key)
            norm = normalise(value).lower() if key == "title" else value
            if norm in first:
                findings.append(Finding(f"entry-duplicate-{key}", WARNING, f"same {what} as {_entry_name(first[norm])} "
                                        f"(line {first[norm].line}): is it the same news twice?",
                                        **at(result, f"{entry.field}.{key}")))
            else:
                first[norm] = entry
    # A warning, not an error: an address may end so (…/Washington,_D.C.), but mostly the sentence it was
    # copied from does, and the button then leads to a page that is not there.
    findings += [Finding("link-end", WARNING, f"the link ends in '{entry.link[-1]}': if it came with the sentence it "
                         f"was copied from, leave it out: 'link: {entry.link.rstrip(''.join(PASTED_STOPS))}'",
                         **at(result, f"{entry.field}.link")) for entry in issue.entries if entry.link.endswith(PASTED_STOPS)]
    return findings


def _entry_name(entry: Entry) -> str:
    """"entry 2" in an issue of plain entries; "sections[2].entries[1]" where the numbers would be ambiguous."""
    return f"entry {entry.field[8:-1]}" if entry.field.startswith("entries[") else entry.field


def check_status(result: Result) -> list[Finding]:
    """A trial that readers cannot join any more, or a status the registry does not use (a typo)."""
    known = {label.lower(): label for label in STATUS_LABELS.values()}
    known.update({name.lower().replace("_", " "): label for name, label in STATUS_LABELS.items()})
    findings = []
    for entry in result.issue.entries:
        if entry.status is None:
            continue
        status = " ".join(entry.status.lower().replace("_", " ").split())
        place = at(result, f"{entry.field}.status")
        if status in CLOSED:
            findings.append(Finding("trial-status", WARNING, f"the trial is {entry.status} ({CLOSED[status]}): readers "
                                    "cannot join it; say so in the summary, or leave the entry out", **place))
        elif status not in known:
            import difflib  # only when something is misspelt: not on every run
            near = difflib.get_close_matches(status, known, n=1, cutoff=0.6)
            hint = f"did you mean {known[near[0]]!r}?" if near else "the registry's statuses: " + ", ".join(STATUS_LABELS.values())
            findings.append(Finding("trial-status-unknown", WARNING, f"{entry.status!r} is not a ClinicalTrials.gov "
                                    f"status; {hint}", **place))
    return findings
