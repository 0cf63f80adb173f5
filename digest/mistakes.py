"""Plain words for the mistakes editors make in an issue file (YAML) and in digest.toml (TOML).

A parser says where it gave up, in its own terms ("did not find expected key"), often a line or more after
the mistake. When one gives up, these functions read the file's lines again the way an editor lays them
out (fields, entries starting with '- ', text indented under 'summary: |'), and name the first line that
breaks that layout and what to do: indent it like the line above, add '- ' before a new entry, put the text
in quotes. They run only on a file that failed to parse, so a good file pays nothing for them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from digest.exceptions import cut
from digest.markup import PASTED_QUOTES, PASTED_STOPS

_ITEM = re.compile(r"( *)-( +|$)(.*)")
_KEY = re.compile(r"( *)([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*)|$)")
_DASH_GLUED = re.compile(r"( *)-([A-Za-z_][\w-]*:(?:\s.*|$))")
_BLOCK = re.compile(r"[|>][-+0-9]*\s*(?:#.*)?")
_GLUED_KEY = re.compile(r"([A-Za-z_][\w-]*):(\S.*)")
_WEB_ADDRESS = re.compile(r"https?://[^\s\"'<>“”‘’«»()]+", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\((\S+?)\)")
# What YAML reads as something other than text when a value starts with it.
SHOWN = 80  # characters of a value shown in a message: it stays one line an editor can read
_SPECIAL_START = "*&!@`%{[]}|>"


@dataclass
class Mistake:
    line: int
    field: str | None
    problem: str


@dataclass
class _Frame:
    kind: str  # "map": fields at `col`; "seq": items ('- ') at `col`
    col: int
    path: str
    line: int  # the line of its last field or item, to point at as an example
    name: str = ""  # the last field's name (map), or how many items so far (seq: in `count`)
    count: int = 0
    keys: dict[str, int] = field(default_factory=dict)


def _spaces(n: int) -> str:
    return "at the start of the line" if n == 0 else f"{n} space{'s' if n != 1 else ''}"


def quoted(key: str, value: str) -> str:
    """`key: "value"`, the way to write a value YAML would otherwise misread (a long value cut short: the
    message stays one line an editor can read)."""
    value = cut(value.strip(), SHOWN)
    if '"' in value and "'" not in value:
        return f"{key}: '{value}'"
    return f"{key}: {json.dumps(value, ensure_ascii=False)}"


class _Layout:
    """One pass over an issue's lines, keeping the fields and lists open at each indentation."""

    def __init__(self, lines: list[str], top_fields, entry_fields):
        self.lines = [line.rstrip("\r") for line in lines]
        self.top_fields, self.entry_fields = set(top_fields), set(entry_fields)
        self.stack = [_Frame("map", 0, "", 0)]
        # What the last field's line leaves open: ("block", frame, key line, key, key column) for 'key: |';
        # ("empty", …) for 'key:'; ("plain", …) for 'key: text', which may go on over more-indented lines.
        self.pending = None
        self.block = None  # inside a '|' text: [its path, key line, key, key column, indentation, first line, lines]
        self.ended_block = None  # the '|' text the line before ended, for a line meant to be part of it
        self.closing = None  # inside a quoted or bracketed value that goes on to the next lines: what ends it
        self.paths: dict[int, str] = {}  # line -> the field it starts, as messages name it

    def walk(self, last: int) -> Mistake | None:
        for number in range(1, min(last, len(self.lines)) + 1):
            if found := self.line(number, self.lines[number - 1]):
                return found
        return None

    @staticmethod
    def path(frame: _Frame, key: str) -> str:
        if not key:
            return frame.path
        return f"{frame.path}.{key}" if frame.path else key

    def next_indent(self, number: int) -> int | None:
        """The indentation of the first line with text after line `number`."""
        for line in self.lines[number:]:
            if line.strip():
                return len(line) - len(line.lstrip(" "))
        return None

    def line(self, number: int, text: str) -> Mistake | None:
        stripped = text.strip()
        if self.closing is not None:
            if self.closing in stripped:
                self.closing = None
            return None
        indent = len(text) - len(text.lstrip(" "))
        if stripped and "\t" in text[: len(text) - len(text.lstrip())]:
            return Mistake(number, None, "a tab character at the start of this line: indent with spaces, like the lines around it")
        if self.block is not None:
            if found := self.in_block(number, indent, stripped):
                return found
            if self.block is not None:
                return None
        if not stripped or stripped in ("---", "..."):
            return None
        if stripped[:1] in _DASHES and _KEY.fullmatch(stripped[1:]):  # '– institution: …'
            return Mistake(number, None, f"this line starts with '{stripped[0]}', which a word processor typed for '-': "
                                         "type the plain '-' instead")
        if "\u00a0" in text[: len(text) - len(text.lstrip())]:
            return Mistake(number, None, "this line is indented with non-breaking spaces (pasted from a word processor): "
                                         "delete them and indent with ordinary spaces, like the lines around it")
        if stripped.startswith("#"):
            if self.pending and self.pending[0] == "plain":
                self.pending = None  # a note ends a value that goes on over several lines
            return None
        ended, self.ended_block = self.ended_block, None
        item, key, glued = _ITEM.fullmatch(text), _KEY.fullmatch(text), _DASH_GLUED.fullmatch(text)

        pending, self.pending = self.pending, None
        if pending is not None:
            kind, frame, key_line, key_name, key_col = pending
            path = self.path(frame, key_name)
            if kind == "block":
                if indent > key_col:
                    self.block = [path, key_line, key_name, key_col, indent, number, 1]
                    return None
                if not item and not key:
                    return Mistake(number, path, f"the text under '{key_name}: |' (line {key_line}) must be indented "
                                                 f"more than '{key_name}:': indent this line by {key_col + 2} spaces")
            elif kind == "empty":
                if item and indent >= key_col:
                    self.stack.append(_Frame("seq", indent, path, number))
                elif key and indent > key_col:
                    if path.rpartition(".")[2] in ("entries", "sections"):
                        what = "entry" if path.endswith("entries") else "section"
                        return Mistake(number, f"{path}[1]", f"each {what} starts with '- ' before its first field: "
                                                             f"'{' ' * max(indent - 2, 0)}- {key.group(2)}: …'")
                    self.stack.append(_Frame("map", indent, path, number))
                elif not item and not key and not glued:
                    if indent > key_col:
                        self.pending = ("plain", frame, key_line, key_name, key_col)
                        return None
                    if key_name in self.top_fields | self.entry_fields and key_name not in ("entries", "conditions"):
                        return Mistake(number, path, f"the text under '{key_name}:' (line {key_line}) must be indented "
                                                     f"more than '{key_name}:'; to keep its lines and paragraphs, write "
                                                     f"'{key_name}: |' and indent each line of the text by {key_col + 2} spaces")
            elif kind == "plain" and indent > key_col and not key and not glued and not (item and _KEY.fullmatch(item.group(3))):
                self.pending = pending  # a value going on over the next lines, as YAML allows ('- ' too)
                return None
            elif kind == "plain" and indent == key_col and not key and not glued and not item \
                    and key_name in self.top_fields | self.entry_fields and stripped[:1] not in _DASHES \
                    and re.split(r"[\s:]", stripped, maxsplit=1)[0] not in self.top_fields | self.entry_fields:
                return Mistake(number, path, f"this line goes on the text of '{key_name}:' (line {key_line}) but is not "
                                             f"indented more than it: to write '{key_name}' over several lines, write "
                                             f"'{key_name}: |' and indent each line of the text by {key_col + 2} spaces")

        if glued:
            return Mistake(number, None, f"put a space after '-': '{glued.group(1)}- {glued.group(2).strip()}'")
        if item:
            return self.item(number, indent, item)
        if key:
            return self.key(number, indent, key.group(2), key.group(3))
        return self.text(number, indent, stripped, ended)

    def in_block(self, number: int, indent: int, stripped: str) -> Mistake | None:
        """A line after 'key: |': more of its text, or the end of it (then None, and self.block is None)."""
        path, key_line, key, key_col, block_indent, first, count = self.block
        if not stripped or indent >= block_indent:
            self.block[6] += bool(stripped)
            return None
        self.block, self.ended_block = None, (path, key_line, key, block_indent, first)
        if indent <= key_col:
            return None
        # YAML takes the first line's indentation for the whole text: when only the first line so far is
        # indented more, and the next lines agree with this one, the first line is the odd one out.
        if count == 1 and self.next_indent(number) == indent:
            return Mistake(first, path, f"indent this line like the lines of text after it ({_spaces(indent)}, not "
                                        f"{block_indent}): YAML takes the first line's indentation for the whole "
                                        f"text of '{key}' (line {key_line})")
        return Mistake(number, path, f"indent this line like line {first} ({_spaces(block_indent)}, not "
                                     f"{indent}): it is part of the text of '{key}' (line {key_line})")

    def pop_to(self, indent: int) -> None:
        while len(self.stack) > 1 and self.stack[-1].col > indent:
            self.stack.pop()

    def item(self, number: int, indent: int, match: re.Match) -> Mistake | None:
        seqs = [f for f in self.stack if f.kind == "seq"]
        if not any(f.col == indent for f in seqs):
            if not seqs:
                return Mistake(number, None, "a line starting with '- ' where no list can start: indent it like the "
                                             "lines it belongs with, or take the '- ' away")
            nearest = min(seqs, key=lambda f: (abs(f.col - indent), -f.col))
            what = {"entries": "entry", "sections": "section"}.get(nearest.path.rpartition(".")[2], "item")
            return Mistake(number, f"{nearest.path}[{nearest.count + 1}]",
                           f"start this {what}'s '- ' in the same column as the '- ' on line {nearest.line} "
                           f"({_spaces(nearest.col)}, not {indent})")
        self.pop_to(indent)
        while self.stack[-1].kind != "seq":
            self.stack.pop()
        seq = self.stack[-1]
        seq.count += 1
        seq.line = number
        path = f"{seq.path}[{seq.count}]"
        rest = match.group(3)
        inner = _KEY.fullmatch(" " * (indent + 1 + len(match.group(2))) + rest) if rest else None
        if inner:
            frame = _Frame("map", indent + 1 + len(match.group(2)), path, number)
            self.stack.append(frame)
            return self.field(number, frame, inner.group(2), inner.group(3))
        if not rest.strip():  # the item's fields may follow on the next lines
            self.pending = ("empty", _Frame("map", indent, path, number), number, "", indent)
        elif (glued := _GLUED_KEY.fullmatch(rest)) and glued.group(1) in self.top_fields | self.entry_fields:
            return Mistake(number, f"{path}.{glued.group(1)}", glued_problem(glued.group(1), glued.group(2)))
        elif (first := rest.split()[0]) in self.top_fields | self.entry_fields:
            return Mistake(number, f"{path}.{first}", f"put ':' after '{first}': '{first}: {rest[len(first):].strip()}'")
        return None

    def key(self, number: int, indent: int, name: str, value: str | None) -> Mistake | None:
        maps = [f for f in self.stack if f.kind == "map"]
        seqs = [f for f in self.stack if f.kind == "seq"]
        if not any(f.col == indent for f in maps):
            # The field's own kind of place first: an entry's field among an entry's, the at the top.
            if name in self.entry_fields and name not in self.top_fields:
                maps = [f for f in maps if f.path.startswith("entries[")] or maps
            elif name in self.top_fields and name not in self.entry_fields:
                maps = maps[:1]
            nearest = min(maps, key=lambda f: (abs(f.col - indent), -f.col))
            if not nearest.name:
                return Mistake(number, self.path(nearest, name), f"take away the {_spaces(indent)} before '{name}:': "
                                                                 "the issue's fields start at the start of the line")
            again = (f"; if a new entry starts here, put '- ' before '{name}:'" if name in nearest.keys
                     and nearest.path.startswith("entries[") else "")
            return Mistake(number, self.path(nearest, name), f"indent this line like '{nearest.name}:' on line "
                                                              f"{nearest.line} ({_spaces(nearest.col)}, not {indent}){again}")
        self.pop_to(indent)
        if self.stack[-1].kind == "seq":  # a list at its field's own indentation has ended
            self.stack.pop()
        frame = self.stack[-1]
        entries = next((f for f in seqs if f.path == "entries"), None)
        if frame.path == "" and entries and name not in self.top_fields and name in self.entry_fields:
            return Mistake(number, name, f"'{name}' is a field of an entry: start a new entry with '- ' before it, "
                                         f"indented like line {entries.line}: '{' ' * entries.col}- {name}: …'")
        return self.field(number, frame, name, value)

    def field(self, number: int, frame: _Frame, name: str, value: str | None) -> Mistake | None:
        frame.name, frame.line = name, number
        frame.keys.setdefault(name, number)
        self.paths[number] = self.path(frame, name)
        value = (value or "").strip()
        if not value or value.startswith("#"):
            self.pending = ("empty", frame, number, name, frame.col)
        elif _BLOCK.fullmatch(value):
            self.pending = ("block", frame, number, name, frame.col)
        elif value[0] in "\"'" and value.count(value[0]) == 1:
            self.closing = value[0]  # a quoted value going on over the next lines (or a quote never closed)
        elif value[0] in "[{" and value.count(value[0]) > value.count("]}"["[{".index(value[0])]):
            self.closing = "]}"["[{".index(value[0])]
        else:
            self.pending = ("plain", frame, number, name, frame.col)
        return None

    def text(self, number: int, indent: int, stripped: str, ended) -> Mistake | None:
        frame = next((f for f in reversed(self.stack) if f.kind == "map" and f.col <= indent), self.stack[0])
        first = stripped.split()[0]
        known = self.top_fields | self.entry_fields
        if first in known:
            return Mistake(number, self.path(frame, first), f"put ':' after '{first}': '{first}: {stripped[len(first):].strip()}'")
        if glued := _GLUED_KEY.fullmatch(stripped):
            if glued.group(1) in known:
                return Mistake(number, self.path(frame, glued.group(1)), glued_problem(glued.group(1), glued.group(2)))
        if ended is not None:
            path, key_line, key, block_indent, first_line = ended
            return Mistake(number, path, f"indent this line like line {first_line} ({_spaces(block_indent)}, not "
                                         f"{indent}): it is part of the text of '{key}' (line {key_line})")
        return Mistake(number, None, "this line is not 'field: value', nor indented under a field as part of its "
                                     "text: check its indentation against the lines above")


def yaml_mistake(text: str, problem_line: int, context_line: int | None, context: str | None,
                 top_fields=(), entry_fields=()) -> Mistake | None:
    """The mistake behind a YAML error the parser reported at `problem_line` (1-based), in plain words;
    None when nothing better than the parser's own words can be said."""
    lines = text.splitlines()
    layout = _Layout(lines, top_fields, entry_fields)
    if context == "while scanning a quoted scalar" and context_line:
        # The walk stops at the quote's line: what follows is inside the quotes, for YAML.
        found = layout.walk(context_line)
        if found and found.line < context_line:
            return found
        quote = _opening_quote(lines[context_line - 1]) if context_line <= len(lines) else '"'
        return Mistake(context_line, layout.paths.get(context_line, _key_of(lines, context_line)),
                       f"the quote {quote} that starts this value is never closed: end the value with {quote}")
    found = layout.walk(problem_line)
    if found:
        return found
    for number in dict.fromkeys(n for n in (problem_line, context_line) if n):
        if 0 < number <= len(lines) and (value := _value_mistake(lines[number - 1], text)):
            return Mistake(number, layout.paths.get(number, _key_of(lines, number)), value)
    return None


def _key_of(lines: list[str], number: int) -> str | None:
    match = _KEY.fullmatch(lines[number - 1].lstrip(" -")) if 0 < number <= len(lines) else None
    return match.group(2) if match else None


def _opening_quote(line: str) -> str:
    match = re.search(r""":\s+(["'])""", line) or re.search(r"""(["'])""", line)
    return match.group(1) if match else '"'


# Words, then the address alone to the end: "Find out more: https://…", quoted or not. Words after the
# address are not taken for a label: a mailto's subject or a file name may hold spaces of their own.
_WORDS_THEN_ADDRESS = re.compile(r"""["']?(?P<words>[^"'/]*?[^\W\d_][^"'/]*?)[\s:–—-]+(?P<url>(?:https?://|mailto:)[^\s"']+)["']?""")
_DASHES = "–—‒−•"  # what a word processor turns '- ' into
_CURLY = {"“": "”", "‘": "’", "«": "»", "„": "“"}
_WRAPPED = {"“": "”", "‘": "’", "<": ">", "(": ")", "[": "]", "«": "»"}


def glued_problem(key: str, value: str) -> str:
    """For `key:value`, no space after the ':' (YAML then reads one word, not a field)."""
    value = value.strip()
    fix = f"{key}: {value}" if value[:1] in "\"'" or not value_mistake(key, value) else quoted(key, value)
    return f"put a space after '{key}:': '{fix}'"


def link_with_words(value: str) -> str | None:
    """For `link: Find out more: https://…` (quoted or not): the button's words go in link_label; and for an
    address pasted with marks around it (“https://…”, <https://…>)."""
    value = value.strip()
    if value[:1] in _WRAPPED and value.endswith(_WRAPPED[value[0]]) and " " not in value:
        return f"the link is the address alone, without {value[0]} {_WRAPPED[value[0]]} around it: 'link: {value[1:-1]}'"
    address = value.lower().startswith(("https://", "http://", "mailto:"))
    if value.endswith(PASTED_QUOTES) and address:
        return f"the link ends in {value[-1]}, a quotation mark pasted with it: 'link: {value[:-1]}'"
    if (bare := value.rstrip("".join(PASTED_STOPS))).endswith(PASTED_QUOTES) and address:
        return f"the link ends in {value[len(bare) - 1:]}, pasted with it from a sentence: 'link: {bare[:-1]}'"
    match = _WORDS_THEN_ADDRESS.fullmatch(value)
    if not match:
        # "See https://… for details": a web address among words (a mailto's subject has spaces of its own).
        if " " in value and (found := _WEB_ADDRESS.search(value)):
            return f"the link is the address alone, without the words around it: 'link: {found.group().rstrip(''.join(PASTED_STOPS))}'"
        return None
    return (f"the link is the address alone: 'link: {match['url']}'; the words on the button go in link_label: "
            f"'link_label: {match['words'].strip(' :-–—')}'")


def value_mistake(key: str, value: str, text: str = "") -> str | None:
    """What is wrong with `key: value` written on one line, when YAML would misread it."""
    value = value.strip()
    if not value:
        return None
    if key == "link" and (link := _MARKDOWN_LINK.fullmatch(value)):
        return f"the link is the address alone: 'link: {link.group(1)}' (the words on the button are link_label)"
    if key == "link" and (found := link_with_words(value)):
        return found
    if value[0] in _CURLY and value.endswith(_CURLY[value[0]]) and len(value) > 1:  # pasted from a word processor
        return f"use straight quotes (\"), not curly ones: {quoted(key, value[1:-1])}"
    if value[0] in "\"'":
        end = value.find(value[0], 1)
        while end != -1 and value[0] == "'" and value[end + 1 : end + 2] == "'":
            end = value.find("'", end + 2)
        if end != -1 and value[end + 1 :].strip() and not value[end + 1 :].strip().startswith("#"):
            return f"there is text after the closing quote: put the whole value in quotes: {quoted(key, value)}"
        return None
    if value[0] == "*" and "&" in text:
        return None  # a real alias: safe_yaml names it
    if value == "-" or value.startswith("- "):  # YAML would start a list there
        return f"a value starting with '-' must be in quotes: {quoted(key, value)}"
    if value[0] in _SPECIAL_START and not _BLOCK.fullmatch(value):
        return f"a value starting with '{value[0]}' must be in quotes: {quoted(key, value)}"
    if ": " in value or value.endswith(":"):
        return f"the ':' in this value makes YAML read it as another field: put the whole value in quotes: {quoted(key, value)}"
    return None


def _value_mistake(line: str, text: str) -> str | None:
    match = _KEY.fullmatch(line.lstrip(" -")) if line.lstrip().startswith("- ") else _KEY.fullmatch(line)
    if match is None or match.group(3) is None:
        return None
    return value_mistake(match.group(2), match.group(3), text)


# digest.toml

def toml_mistake(text: str, message: str, line: int | None) -> Mistake | None:
    """The mistake behind tomllib's `message` (reported at `line`, or at the end of the document), in plain words."""
    lines = text.splitlines()

    def at(number: int, problem: str) -> Mistake:
        return Mistake(number, _toml_key(lines, number) or _first_word(lines[number - 1]), problem)

    if message.startswith("Cannot overwrite a value") or message.startswith("Cannot declare"):
        return _toml_twice(lines, line)
    if message.startswith("Unterminated string") or message == "Illegal character '\\n'":
        number = _toml_unclosed(lines) or line
        if number:
            quote = _toml_value(lines[number - 1])[:1] or '"'
            return at(number, f"the quote {quote} that starts this value is never closed: end the value with {quote}")
        return None
    if line is None and message == "Invalid value":  # at the end of the document: a list or table left open?
        for number, _, key, _ in _toml_tables(lines):  # each key's line, read once (not _toml_key's search a line)
            value = _toml_value(lines[number - 1]) if key else ""
            if value[:1] in ("[", "{"):
                close = "]" if value[0] == "[" else "}"
                rest = "\n".join(lines[number - 1:]).partition("=")[2]
                if rest.count(value[0]) > rest.count(close):  # everything after it is inside it
                    return at(number, f"the {value[0]} that starts this value is never closed: end it with {close}")
        return None
    if line is None or not 0 < line <= len(lines):
        return None
    source = lines[line - 1]
    key = _toml_key(lines, line)
    name = (key or "key").rpartition(".")[2]
    value = cut(_toml_value(source), SHOWN)  # a long one cut short: the message stays a line
    if message.startswith("Invalid value"):
        if value.startswith(tuple("“”‘’«»„")):
            return at(line, f"use straight quotes (\"), not curly ones: {name} = \"{value.strip('“”‘’«»„')}\"")
        if value.startswith("#"):
            return at(line, f"a value starting with # must be in quotes (a # starts a note): {name} = \"{value}\"")
        if value.lower() in ("yes", "no", "on", "off") or value in ("True", "False"):
            return at(line, f"write true or false in small letters, or put text in quotes: {name} = \"{value}\"")
        shown = value.split(" #")[0].strip()
        return at(line, f"put the text in quotes: {name} = {json.dumps(shown, ensure_ascii=False)}")
    if message.startswith("Expected '=' after a key"):
        head = source.strip()
        if ":" in head.split('"')[0]:
            key_text, _, rest = head.partition(":")
            return at(line, f"write settings with '=', not ':': {key_text.strip()} = {_toml_ready(rest)}")
        key_text, _, rest = head.partition(" ")
        return at(line, f"put '=' between the setting's name and its value: {key_text} = {_toml_ready(rest)}")
    if message.startswith("Unescaped '\\'"):
        return at(line, "a \\ inside double quotes starts an escape: write paths with / (\"images/logo.png\"), "
                        "or put the value in single quotes")
    if message.startswith("Expected newline or end of document after a statement") and value.startswith(("\"", "'")):
        inner = value[1:-1] if value[-1:] == value[0] else value[1:]
        return at(line, f"there is more after the closing quote: put the whole value in double quotes: "
                        f"{name} = {json.dumps(inner, ensure_ascii=False)}")
    if message.startswith("Expected newline or end of document after a statement"):
        return at(line, "one setting a line, and nothing after its value but a # note")
    return None


def _toml_ready(value: str) -> str:
    """`value` as the fix should write it: as typed where TOML reads it so (a number, "text", [a list]),
    else as text in quotes (name: Trial Watch -> name = "Trial Watch"), so the fix is not the next mistake."""
    import tomllib

    value = value.strip()
    try:
        tomllib.loads(f"x = {value}")
        return value
    except tomllib.TOMLDecodeError:
        return json.dumps(value, ensure_ascii=False)


def _first_word(line: str) -> str | None:
    match = re.match(r"\s*([\w.-]+)", line)
    return match.group(1) if match else None


def _toml_value(line: str) -> str:
    return line.partition("=")[2].strip()


def _toml_tables(lines: list[str]):
    """(line number, table the line is in, key or None, is a [table] header) for every line."""
    table, counts = "", {}
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if header := re.match(r"\[\[?\s*([\w.-]+)\s*\]\]?", stripped):
            table = header.group(1)
            if stripped.startswith("[["):  # named as messages name them: social[1], social[2] …
                counts[table] = counts.get(table, 0) + 1
                table = f"{table}[{counts[table]}]"
            yield number, table, None, stripped.startswith("[[")
        elif pair := re.match(r"""(["']?)([\w.-]+)\1\s*=""", stripped):
            yield number, table, pair.group(2), False


def _toml_key(lines: list[str], number: int) -> str | None:
    for at_line, table, key, _ in _toml_tables(lines):
        if at_line == number:
            if key is None:
                return table
            return f"{table}.{key}" if table else key
    return None


def _toml_twice(lines: list[str], reported: int | None) -> Mistake | None:
    seen: dict[tuple[str, str | None], int] = {}
    arrays = set()
    for number, table, key, array in _toml_tables(lines):
        if array:
            arrays.add(table)
            seen = {k: v for k, v in seen.items() if k[0] != table}  # each [[table]] starts a new one
            continue
        if key is None and table in arrays:
            continue
        if (table, key) in seen:
            first = seen[(table, key)]
            if key is None:
                return Mistake(number, table, f"[{table}] appears twice (first on line {first}): put its settings "
                                              f"under one [{table}] and delete the other line")
            name = f"{table}.{key}" if table else key
            return Mistake(number, name, f"appears twice (first on line {first}): delete one of them")
        seen[(table, key)] = number
    return None if reported is None else Mistake(reported, _toml_key(lines, reported), "appears twice: delete one of them")


def _toml_unclosed(lines: list[str]) -> int | None:
    """The first line whose quote is never closed (outside ''' and \"\"\" strings and notes)."""
    closing = None
    for number, line in enumerate(lines, 1):
        if closing:
            if closing in line:
                closing = None
            continue
        quote, i = None, 0
        while i < len(line):
            char = line[i]
            if quote is None:
                if line.startswith(('"""', "'''"), i):
                    rest = line[i + 3 :]
                    if line[i : i + 3] not in rest:
                        closing = line[i : i + 3]
                        break
                    i += 3 + rest.index(line[i : i + 3]) + 3
                    continue
                if char == "#":
                    break
                if char in "\"'":
                    quote = char
            elif char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                quote = None
            i += 1
        if quote is not None:
            return number
    return None
