"""What the inbox shows (subject and preheader), and the plain-text part that some readers read instead."""

from __future__ import annotations

import re
from collections.abc import Iterator

from digest.checks.base import at, words
from digest.inline import MERGE_TAG
from digest.model import TEXT_PART, WARNING, Finding, Result

SUBJECT_RANGE = (30, 60)  # shorter says too little; longer is cut off on phones
PREHEADER_RANGE = (40, 130)  # shorter lets the body's first words fill the preview; longer is never shown
TEXT_WIDTH = 78


def check_subject(result: Result) -> list[Finding]:
    issue = result.issue
    findings = []
    for name, (low, high), why in (
        ("subject", SUBJECT_RANGE, "phones cut off a subject past 60 characters, and a short one says too little"),
        ("preheader", PREHEADER_RANGE, "inboxes show 40 to 130 characters of it next to the subject"),
    ):
        value = getattr(issue, name)
        if not low <= len(value) <= high:
            findings.append(Finding(f"{name}-length", WARNING, f"the {name} is {len(value)} characters; "
                                    f"aim for {low}–{high}: {why}", **at(result, name)))
    subject, preheader = words(issue.subject), words(issue.preheader)
    if subject and (preheader[: len(subject)] == subject or preheader == subject[: len(preheader)]):
        findings.append(Finding("preheader-repeats-subject", WARNING, "the preheader repeats the subject: "
                                "inboxes show both side by side, so say something new", **at(result, "preheader")))
    return findings


def check_text_part(result: Result) -> list[Finding]:
    findings = []
    for number, line in enumerate(result.text.splitlines(), 1):
        # What runs past the margin because of a platform's tags is for the theme to place, not the editor.
        if len(line) > TEXT_WIDTH and not _overflow_is_an_address(line) and len(MERGE_TAG.sub("", line)) > TEXT_WIDTH:
            findings.append(Finding("text-line-length", WARNING, f"this line of the text part is {len(line)} "
                                    f"characters: some email programs break lines past {TEXT_WIDTH}", TEXT_PART, number))
    # Every word a reader sees in the HTML must be in the text part (alt texts and the hidden preheader aside;
    # merge tags too: the platform fills in each part's own, such as an address in HTML or in text).
    text_pieces = set(_untagged(result.text).split())
    # A piece of the HTML's text that the text part has as it is holds no missing word: most do, and only the
    # others are lowered and read word by word.
    rest = [piece for piece in dict.fromkeys(_untagged(result.page.visible).split()) if piece not in text_pieces]
    missing = []
    if rest:
        text_words = set(words(" ".join(text_pieces)))
        missing = [w for w in dict.fromkeys(words(" ".join(rest))) if w not in text_words]
    if missing:
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        findings.append(Finding("text-missing", WARNING, f"the text part lacks {len(missing)} word(s) that the HTML "
                                f"shows: {shown}; the theme's email.txt.j2 leaves something out", TEXT_PART))
    return findings


def _overflow_is_an_address(line: str) -> bool:
    # Web addresses are never broken, so a line may run long when what runs past the margin is one address.
    head, _, last = line.rstrip().rpartition(" ")
    return bool(re.match(r"(https?://|mailto:)\S+$", last)) and len(head) < TEXT_WIDTH


_TAG_STARTS = ("*|", "{", "[", "<", "&lt;%")  # what each of MERGE_TAG's forms starts with


def _untagged(text: str) -> str:
    """`MERGE_TAG.sub(" ", text)`, the expression tried only where a tag can start: over a whole long text
    it costs as much as the rest of the check, and a text holds a few tags at most."""
    starts = sorted(i for start in _TAG_STARTS for i in _found(text, start))
    kept, done = [], 0
    for i in starts:
        if i >= done and (tag := MERGE_TAG.match(text, i)):
            kept += text[done:i], " "
            done = tag.end()
    return "".join(kept) + text[done:]


def _found(text: str, needle: str) -> Iterator[int]:
    i = text.find(needle)
    while i != -1:
        yield i
        i = text.find(needle, i + 1)
