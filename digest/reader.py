"""Read an issue file (YAML) into an `Issue`, checking every field and naming the line of anything wrong.

YAML is composed into nodes rather than loaded into Python values, so every value keeps its line, and
values are taken as the text the editor typed: `title: no` stays "no" instead of becoming False.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from pathlib import Path

import yaml

from digest import safe_yaml
from digest.assets import resolve_image
from digest.dates import date_problem, iso_date
from digest.exceptions import IssueError
from digest.files import decode, is_utf16, read_bytes
from digest.markup import PASTED_QUOTES, PASTED_STOPS, MarkdownLinkError, control_problem, encoded_word_problem, link_problem, render
from digest.model import Entry, Image, Issue, Newsletter, Section, SourceMap, Text
from digest.platforms import FIRST_NAME

# `entries` or `sections` (or both): checked in `issue`, since the mapping knows only one field at a time.
ISSUE_FIELDS = {"subject": True, "preheader": True, "date": True, "intro": True, "entries": False, "sections": False,
                "outro": False, "greeting": False}
SECTION_FIELDS = {"heading": True, "entries": True}
ENTRY_FIELDS = {
    "institution": True,
    "title": True,
    "summary": True,
    "link": True,
    "link_label": False,
    "logo": False,
    "logo_alt": False,
    "nct_id": False,
    "status": False,
    "phase": False,
    "conditions": False,
}
_FRIENDLIER = {
    "mapping values are not allowed here": "a ': ' inside a value: put the whole value in quotes, or use '|' and write it on the next lines",
    "mapping values are not allowed in this context": "a ': ' inside a value: put the whole value in quotes, or use '|' and write it on the next lines",
    "found invalid Unicode character escape code": "a \\u escape that is not a character: delete it",
    "could not find expected ':'": "a line that is neither 'field: value' nor part of the text above it (check its indentation)",
    "found character '\\t' that cannot start any token": "a tab character: indent with spaces",
}
_NCT = re.compile(r"NCT[0-9]{8}")  # ASCII digits, as the registry writes ids
_VALUE = re.compile(r"[ -]*([A-Za-z_][\w-]*)[ \t]*:[ \t]+(.*)")


def slug_for(path: Path) -> str:
    """The issue's name in addresses and folders (its build folder, its archive page): the file's name in
    a-z, 0-9 and hyphens, safe in every address and on every disk. Accents come off (café: cafe); a name
    with letters of another script gets a code made from the whole name, so two such names never meet."""
    import unicodedata

    bare = "".join(c for c in unicodedata.normalize("NFKD", path.stem) if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
    if any(c.isalnum() and not c.isascii() for c in bare):
        import hashlib

        # The name as NFC: macOS stores names decomposed (NFD), other systems composed; one name, one slug.
        slug = f"{slug or 'issue'}-{hashlib.sha256(os.fsencode(unicodedata.normalize('NFC', path.stem))).hexdigest()[:8]}"
    return slug or "issue"


def read_issue(path: Path, newsletter: Newsletter) -> Issue:
    return _IssueReader(Path(path), newsletter).issue()


class _IssueReader:
    def __init__(self, path: Path, newsletter: Newsletter):
        self.path, self.newsletter = path, newsletter
        self.source = SourceMap(path)
        self.images: dict[str, Image] = {}  # by src: an institution's logo is often in several entries

    def image(self, src: str, alt: str) -> Image:
        if src not in self.images:
            self.images[src] = resolve_image(src, alt, self.path.parent, self.newsletter.root, self.newsletter.asset_base_url)
        return dataclasses.replace(self.images[src], alt=alt)

    def error(self, node_or_line, field: str | None, problem: str) -> IssueError:
        line = node_or_line if isinstance(node_or_line, int) or node_or_line is None else _line(node_or_line)
        return IssueError(problem, self.path, line, field)

    def issue(self) -> Issue:
        root = self.compose()
        fields = self.mapping(root, None, ISSUE_FIELDS)
        if "entries" not in fields and "sections" not in fields:
            raise self.error(root, "entries", "is missing: list the entries under 'entries:' (or under headings, with 'sections:')")
        sections = []
        if "entries" in fields:  # the entries without a heading come first, wherever the key is
            sections.append(Section(None, self.entries(fields["entries"][1], ""), "entries", _line(fields["entries"][0])))
        if "sections" in fields:
            sections += self.sections(fields["sections"][1])
        return Issue(
            path=self.path,
            slug=slug_for(self.path),
            subject=self.header_text(fields, "subject"),
            preheader=self.line_text(fields, "preheader"),
            date=self.date(fields["date"][1]),
            intro=self.markdown(fields, "intro"),
            entries=tuple(entry for section in sections for entry in section.entries),
            outro=self.markdown(fields, "outro") if "outro" in fields else None,
            greeting=self.greeting(fields) if "greeting" in fields else None,
            sections=tuple(sections),
            source=self.source,
        )

    def entries(self, node: yaml.Node, where: str) -> tuple[Entry, ...]:
        """The list under an `entries:` key; `where` is "" for the issue's own, "sections[2]." for a section's."""
        if _is_null(node):  # `entries:` with nothing under it yet
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{where}entries", "must be a list of entries, each starting with '- institution:'")
        return tuple(self.entry(item, f"{where}entries[{i}]") for i, item in enumerate(node.value, 1))

    def sections(self, node: yaml.Node) -> list[Section]:
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, "sections", "must be a list of sections, each starting with '- heading:'")
        sections: list[Section] = []
        for i, item in enumerate(node.value, 1):
            where = f"sections[{i}]"
            self.source.keys[where] = _line(item)
            if not isinstance(item, yaml.MappingNode):
                raise self.error(item, where, "each section is a heading and its entries: '- heading: …' then 'entries:'")
            fields = self.mapping(item, where, SECTION_FIELDS)
            heading = self.line_text(fields, "heading", where)
            for other in sections:
                if other.heading.casefold() == heading.casefold():
                    raise self.error(fields["heading"][1], f"{where}.heading", f"the same heading as {other.field} "
                                     f"(line {other.line}): give each section its own, or put their entries together")
            sections.append(Section(heading, self.entries(fields["entries"][1], f"{where}."), where, _line(item)))
        return sections

    def compose(self) -> yaml.Node:
        data = read_bytes(self.path, IssueError, missing="no such issue file")
        if not data.strip():
            raise IssueError("the issue file is empty", self.path)
        if b"\x00" in data and not is_utf16(data):
            raise IssueError("is not a text file (it contains binary data)", self.path, data[: data.index(b"\x00")].count(b"\n") + 1)
        text = decode(data, self.path, IssueError)
        self.lines = text.splitlines()
        try:
            node = safe_yaml.compose(text.lstrip("\ufeff"))
        except yaml.MarkedYAMLError as exc:
            raise syntax_error(text.lstrip("\ufeff"), exc, self.path) from None
        except yaml.reader.ReaderError as exc:
            line = text[: exc.position].count("\n") + 1
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            raise IssueError(f"a character that cannot be in an issue file (U+{code:04X}): delete it", self.path, line) from None
        except yaml.YAMLError as exc:
            raise IssueError(f"YAML syntax: {' '.join(str(exc).split())}", self.path) from None
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, None, "an issue starts with 'subject:', 'preheader:', 'date:' … on their own lines")
        return node

    def mapping(self, node: yaml.MappingNode, where: str | None, spec: dict[str, bool]):
        """The fields of a mapping node as name -> (key node, value node), unknown and missing ones refused;
        each field's line goes into the source map."""
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(key, where, "field names must be plain words")
            name = key.value
            label = f"{where}.{name}" if where else name
            if name not in spec and (glued := re.fullmatch(r"([A-Za-z_][\w-]*):(\S.*)", name)) and glued[1] in spec:
                # `subject:"Our news: …"`: YAML read a field named 'subject:"Our news'.
                from digest import mistakes

                line = self.lines[key.start_mark.line].strip() if key.start_mark.line < len(self.lines) else name
                value = line.partition(":")[2]
                raise self.error(key, f"{where}.{glued[1]}" if where else glued[1], mistakes.glued_problem(glued[1], value))
            if name not in spec:
                entries = next((v for k, v in node.value if where is None and k.value == "entries"), None)
                if name in ENTRY_FIELDS and isinstance(entries, yaml.SequenceNode) and entries.value \
                        and key.start_mark.line > entries.start_mark.line:  # below the entries, not a misspelt field above
                    # A new entry typed at the start of the line, without its '- ': the entries' own column.
                    first = entries.value[0].start_mark
                    raise self.error(key, name, f"'{name}' is a field of an entry: start a new entry with '- ' "
                                                f"before it, indented like line {first.line + 1}: "
                                                f"'{' ' * max(first.column - 2, 0)}- {name}: …'")
                import difflib  # only when something is misspelt: not on every run
                near = difflib.get_close_matches(name, spec, n=1)
                hint = f"did you mean '{near[0]}'?" if near else "known fields: " + ", ".join(spec)
                raise self.error(key, label, f"unknown field; {hint}")
            if name in fields:
                first = _line(fields[name][0])
                if where is None:
                    raise self.error(key, label, f"appears twice (first on line {first}): delete one of them")
                kind = _kind(where)
                raise self.error(key, label, f"appears twice in this {kind} (first on line {first}): if a new {kind} "
                                             f"starts here, put '- ' before '{name}:' as on line {_line(node)}; "
                                             "if not, delete one of them")
            fields[name] = (key, value)
            self.source.keys[label] = _line(key)
            if isinstance(value, yaml.ScalarNode):
                # A `|` block's lines are the file's lines; a value folded from several lines is not.
                literal = value.style == "|" or value.start_mark.line == value.end_mark.line
                self.source.values[label] = (_line(value) + (value.style in ("|", ">")), literal)
                if not literal:
                    self.source.folds[label] = _folds(value, self.lines)
        for name, required in spec.items():
            if required and name not in fields:
                needed = ", ".join(n for n, r in spec.items() if r)
                # `- institution: …` then `- title: …`: a '- ' too many splits one entry in two.
                kind = _kind(where) if where else ""
                split = "; only an entry's first field starts with '- '" if kind == "entry" and len(fields) == 1 else ""
                hint = f" ({'an' if kind == 'entry' else 'a'} {kind} needs {needed}{split})" if where else ""
                raise self.error(node, f"{where}.{name}" if where else name, f"is missing{hint}")
        return fields

    def scalar(self, node: yaml.Node, field: str, *, optional: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a group of fields"
            raise self.error(node, field, f"must be text, not {kind}")
        if problem := self.misread(node):
            raise self.error(node, field, problem)
        value = node.value.strip() if isinstance(node.value, str) else ""
        if problem := control_problem(value):
            raise self.error(node, field, problem)
        if not value and not optional:
            raise self.error(node, field, "is empty")
        return value

    def misread(self, node: yaml.ScalarNode) -> str | None:
        """What YAML took from a one-line value other than the text typed: a '!tag' it dropped, or what follows
        ' #' (a note to YAML), as in `title: Trial #2 of LDN`, which would be "Trial"."""
        if node.style or node.start_mark.line >= len(self.lines):  # plain: None, or "" from libyaml
            return None
        line = self.lines[node.start_mark.line]
        typed = _VALUE.fullmatch(line)
        if typed is None:
            return None
        key, value = typed.group(1), typed.group(2)
        if not node.tag.startswith("tag:yaml.org,2002:") or not node.value and value.startswith("#"):
            from digest import mistakes  # the words for an editor's slip: only when there is one

            if not node.value and value.startswith("#") and not value.startswith(("# ", "#\t")) and value != "#":
                # `title: #2 trial`: all of it a note to YAML. '# a note' after a field is meant as one.
                return (f"a value starting with '#' is read as a note and left out: put the whole value in quotes: "
                        f"{mistakes.quoted(key, value)}")
            return mistakes.value_mistake(key, value)
        rest = line[line.find(node.value, typed.start(2)) + len(node.value):] if node.value else ""
        if note := re.match(r"\s+(#\S.*)", rest):
            from digest import mistakes

            return (f"everything from '{note.group(1).split()[0]}' on is read as a note and left out: put the whole value "
                    f"in quotes: {mistakes.quoted(key, value)}")
        return None

    def line_text(self, fields, name: str, where: str | None = None) -> str:
        key, node = fields[name]
        label = f"{where}.{name}" if where else name
        value = self.scalar(node, label)
        if len(value.splitlines()) > 1:  # \r, \u2028 and the like too: a subject becomes a mail header
            raise self.error(node, label, "must fit on one line")
        return value

    def header_text(self, fields, name: str) -> str:
        """A line that becomes a mail header: never one a mail program would decode into more headers."""
        value = self.line_text(fields, name)
        if problem := encoded_word_problem(value):
            raise self.error(fields[name][1], name, problem)
        return value

    def markdown(self, fields, name: str, where: str | None = None) -> Text:
        key, node = fields[name]
        label = f"{where}.{name}" if where else name
        source = self.scalar(node, label)
        try:
            text = render(source)
        except MarkdownLinkError as exc:
            raise self.error(self.source.line_at(label, exc.line_offset, source), label, exc.problem) from None
        for _, href, offset in text.links:
            # Markdown counts lines; in text folded from several, the address itself says which line it is on.
            at = source.find(href) if label in self.source.folds else -1
            self.note_url(href, label, self.source.line_in(label, source, at) if at >= 0 else self.source.line_at(label, offset, source))
        return text

    def note_url(self, url: str, field: str, line: int | None) -> None:
        # An address typed twice is known by its first place in the file, which readers meet first: the
        # entries are read before the intro above them.
        known = self.source.urls.get(url)
        if known is None or line is not None and (known[1] is None or line < known[1]):
            self.source.urls[url] = (field, line)

    def greeting(self, fields) -> str:
        """One line above the intro, e.g. "Dear {first_name},": {first_name} is the only placeholder."""
        value = self.line_text(fields, "greeting")
        # Anything else in braces could be a platform's own template code: digest adds tags, editors do not.
        if re.search(r"[{}]", value.replace(FIRST_NAME, "")):
            raise self.error(fields["greeting"][1], "greeting", f"braces are only for {FIRST_NAME}: remove the others")
        return value

    def date(self, node: yaml.Node) -> datetime.date:
        value = self.scalar(node, "date")
        try:
            return iso_date(value)
        except ValueError:
            raise self.error(node, "date", date_problem(value)) from None

    def entry(self, node: yaml.Node, where: str) -> Entry:
        self.source.keys[where] = _line(node)
        if _is_null(node):
            raise self.error(node, where, "an entry with nothing after its '- ': write its fields (institution, "
                                          "title, summary, link), or delete the line")
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, where, "each entry is a group of fields: institution, title, summary, link …")
        fields = self.mapping(node, where, ENTRY_FIELDS)
        institution = self.line_text(fields, "institution", where)
        optional = {name: self.line_text(fields, name, where) for name in ("link_label", "logo", "logo_alt", "status", "phase") if name in fields}

        link_node = fields["link"][1]
        link = self.scalar(link_node, f"{where}.link")
        if (problem := link_problem(link)) or link.rstrip("".join(PASTED_STOPS)).endswith(PASTED_QUOTES):
            from digest.mistakes import link_with_words  # the words for an editor's slip: only when there is one

            raise self.error(link_node, f"{where}.link", link_with_words(link) or problem)
        self.note_url(link, f"{where}.link", _line(link_node))

        logo = None
        if "logo" in optional:
            try:
                logo = self.image(optional["logo"], optional.get("logo_alt", institution))
            except ValueError as exc:
                raise self.error(fields["logo"][1], f"{where}.logo", str(exc)) from None
            self.note_url(logo.url, f"{where}.logo", _line(fields["logo"][1]))
        elif "logo_alt" in optional:
            raise self.error(fields["logo_alt"][0], f"{where}.logo_alt", "there is no logo to describe: add 'logo:' or remove this line")

        nct_id = None
        if "nct_id" in fields:
            nct_node = fields["nct_id"][1]
            nct_id = self.scalar(nct_node, f"{where}.nct_id").upper()
            if not _NCT.fullmatch(nct_id):
                raise self.error(nct_node, f"{where}.nct_id", f"{nct_id!r} is not a ClinicalTrials.gov id like NCT03008590")

        conditions: tuple[str, ...] = ()
        if "conditions" in fields:
            cond_node = fields["conditions"][1]
            if not isinstance(cond_node, yaml.SequenceNode):
                raise self.error(cond_node, f"{where}.conditions", "must be a list, one '- condition' a line")
            conditions = tuple(self.scalar(c, f"{where}.conditions") for c in cond_node.value)

        return Entry(
            institution=institution,
            title=self.line_text(fields, "title", where),
            summary=self.markdown(fields, "summary", where),
            link=link,
            line=_line(node),
            link_label=optional.get("link_label", "Find out more"),
            logo=logo,
            nct_id=nct_id,
            status=optional.get("status"),
            phase=optional.get("phase"),
            conditions=conditions,
            field=where,
        )


def syntax_error(text: str, exc: yaml.MarkedYAMLError, path: Path) -> IssueError:
    """A YAML syntax error as the editor's mistake: the line to fix and what to do, in plain words."""
    mark = exc.problem_mark or exc.context_mark
    context_line = exc.context_mark.line + 1 if exc.context_mark else None
    # safe_yaml's own refusals (an alias, deep nesting) say what they are, but for `title: *Big news`, which
    # is Markdown to the editor and an alias to YAML, in a file that names nothing to repeat (no &anchor).
    markdown = isinstance(exc, safe_yaml.AliasRefused) and "&" not in text
    ours = isinstance(exc, yaml.composer.ComposerError) and not markdown
    if mark is not None and not ours:
        from digest import mistakes

        found = mistakes.yaml_mistake(text, mark.line + 1, context_line, exc.context,
                                      {**ISSUE_FIELDS, **SECTION_FIELDS}, ENTRY_FIELDS)
        if found:
            return IssueError(found.problem, path, found.line, found.field)
    problem = exc.problem or exc.context or "not valid YAML"
    problem = _FRIENDLIER.get(problem, problem)
    if mark and _char_at(text, mark.line, mark.column) == "\t":
        problem = "a tab character: indent with spaces"
    return IssueError(f"YAML syntax: {problem}", path, mark.line + 1 if mark else None)


def _kind(where: str) -> str:
    """What a list item is, from its field's name: "sections[2].entries[1]" is an entry, "sections[2]" a section."""
    return "section" if where.rpartition(".")[2].startswith("sections[") else "entry"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def _folds(node: yaml.ScalarNode, lines: list[str]) -> tuple[tuple[int, int], ...]:
    """(index in the value's text, line) where each line of the file a folded or quoted value goes on to
    starts, found by its words in the text, in order: YAML joins those lines with a space and keeps their
    words as typed (a line with an escape, `\\"`, is not found and reads as the line before it)."""
    text = node.value.strip()  # as the reader keeps it
    first = node.start_mark.line + (node.style == ">")  # a `>` block starts on the line after its key
    # The first line's words come first in the text: the next line is looked for after them, not among them.
    start = 0 if node.style == ">" else node.start_mark.column + (node.style in ("'", '"'))
    cursor = len(lines[first][start:].strip()) if first < len(lines) else 0
    folds = [(0, first + 1)]
    last = node.end_mark.line - (node.end_mark.column == 0)  # a block ends at the start of the line after it
    for number in range(first + 1, min(last + 1, len(lines))):
        words = lines[number].strip()
        if number == node.end_mark.line and node.style in ("'", '"'):
            words = words[: words.rfind(node.style)].rstrip()  # the closing quote, and what may follow it
        found = text.find(words, cursor) if words else -1
        if found > 0:
            folds.append((found, number + 1))
            cursor = found + len(words)
    return tuple(folds)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~", "null")
