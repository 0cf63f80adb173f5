"""Add entries to an editor's issue file without touching a byte of what is already there.

The new entries are rendered as YAML text (plain scalars where they read back unchanged, JSON-style
double-quoted scalars otherwise, the summary as a `|` block) with the indentation of the entries above, and
inserted right after the last entry's last line. Before anything is written, the result is parsed and
checked: every old value the same, the new entries read back exactly. A layout where that fails is refused,
never "fixed".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from digest import safe_yaml
from digest.exceptions import IssueError
from digest.files import decode, read_bytes

# libyaml, where PyYAML has it, for reading back what digest wrote (its limits were checked on the way in);
# the pure-Python parser where positions matter, since its marks count characters (libyaml's count bytes).
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a line break
_PLAIN = re.compile(r"[\w(][^\n]*")


@dataclass
class IssueFile:
    """An issue file as text, with where its entries list is and the trials already in it."""

    path: Path
    text: str  # decoded exactly: text.encode() gives the file's bytes back, for the compare-and-swap
    entries: yaml.Node
    entries_key: yaml.Node
    trials: dict[str, int]  # NCT id -> line of the entry that has it
    root: yaml.Node


def open_issue(path: Path) -> IssueFile:
    from digest.ctgov import study_id_in

    text = decode(read_bytes(path, IssueError, missing="no such issue file"), path, IssueError)  # a BOM stays
    root = _compose(text, path)
    if not isinstance(root, yaml.MappingNode):
        raise IssueError("an issue starts with 'subject:', 'preheader:', 'date:' … on their own lines", path)
    found = [(key, value) for key, value in root.value if isinstance(key, yaml.ScalarNode) and key.value == "entries"]
    if not found:
        raise IssueError("has no 'entries:' list to add the trials to", path)
    key, entries = found[0]
    trials: dict[str, int] = {}
    if isinstance(entries, yaml.SequenceNode):
        for item in entries.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            for k, v in item.value:
                if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode) and k.value in ("nct_id", "link"):
                    nct = v.value.strip().upper() if k.value == "nct_id" else study_id_in(v.value)
                    if nct:
                        trials.setdefault(nct, item.start_mark.line + 1)
    return IssueFile(path, text, entries, key, trials, root)


def render_entries(entries: list[dict], dash: int = 2, indent: int = 4, gap: bool = False, newline: str = "\n") -> str:
    """Entries as YAML list items: `dash` is the column of their '-', `indent` that of their fields."""
    out = []
    lead = " " * dash + "-" + " " * (indent - dash - 1)
    pad = " " * indent
    for entry in entries:
        if gap:
            out.append("")
        for i, (name, value) in enumerate(entry.items()):
            prefix = lead if i == 0 else pad
            if isinstance(value, list):
                out.append(f"{prefix}{name}:")
                out.extend(f"{pad}  - {_scalar(item)}" for item in value)
            elif "\n" in value or name == "summary":
                out.append(f"{prefix}{name}: |")
                out.extend(f"{pad}  {line}" if line else "" for line in value.split("\n"))
            else:
                out.append(f"{prefix}{name}: {_scalar(value)}")
    return "".join(line + newline for line in out)


def append_entries(issue: IssueFile, entries: list[dict]) -> str:
    """The issue file's text with `entries` added at the end of its entries list; the rest byte for byte."""
    text, node = issue.text, issue.entries
    lines = _lines(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        start = last.start_mark.line
        content_col = last.start_mark.column
        dash = lines[start].rfind("-", 0, content_col) if start < len(lines) else -1
        if dash < 0:
            dash = max(0, content_col - 2)
        end = _last_line_of_item(lines, start, dash)
        gap = len(node.value) > 1 and not lines[node.value[-1].start_mark.line - 1].strip()
        block = render_entries(entries, dash, content_col, gap, newline)
    elif isinstance(node, yaml.ScalarNode) and node.value == "" and node.tag.endswith(":null"):
        # `entries:` with nothing under it yet: the list starts on the next line.
        end = issue.entries_key.start_mark.line
        block = render_entries(entries, gap=True, newline=newline)[len(newline):]
    else:
        raise _refuse(issue, "write 'entries:' on its own line with the entries under it, each starting with '- '")
    head = "".join(lines[: end + 1])
    if head and not head.endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
        block = newline + block
    result = head + block + text[len(head):]
    _check(issue, result, entries, block)
    return result


def _last_line_of_item(lines: list[str], start: int, dash: int) -> int:
    """The last line that belongs to the list item starting on `start`: indented deeper than its '-'.

    Blank lines and comments at the list's own indentation after it (they introduce what follows) are not
    the item's."""
    last = start
    for i in range(start + 1, len(lines)):
        line = lines[i]
        content = line.lstrip(" ")
        if not content.strip():
            continue
        if len(line) - len(content) <= dash:
            break
        last = i
    return last


def _check(issue: IssueFile, result: str, entries: list[dict], block: str) -> None:
    """Parse the result: the old document's values all there and unchanged, the new entries as rendered."""
    try:
        old_root = issue.root
        new_root = yaml.compose(result.lstrip("\ufeff"), Loader=_FAST_LOADER)
        expected_new = [_value(n) for n in yaml.compose(render_entries(entries, 0, 2), Loader=_FAST_LOADER).value]
    except (yaml.YAMLError, IssueError):
        raise _refuse(issue, "the entries list has a layout digest cannot add to safely") from None
    old, new = dict(_value(old_root)), dict(_value(new_root))
    old_entries = old.pop("entries", ())
    old_entries = list(old_entries) if isinstance(old_entries, tuple) else []
    new_entries = list(new.pop("entries", ()))
    if old != new or new_entries != old_entries + expected_new or _stripped(entries) != [_as_dict(e) for e in expected_new]:
        raise _refuse(issue, "the entries list has a layout digest cannot add to safely")


def _value(node):
    """A node as comparable Python data: scalars as the text typed (so `no` stays "no"), order kept."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return tuple(_value(n) for n in node.value)
    return tuple((_value(k), _value(v)) for k, v in node.value)


def _as_dict(value) -> dict:
    return {k: ([i.strip() for i in v] if isinstance(v, tuple) else v.strip()) for k, v in value}


def _stripped(entries: list[dict]) -> list[dict]:
    # The reader strips every value; a `|` block keeps its final line break, so compare as the reader will.
    return [{k: ([i.strip() for i in v] if isinstance(v, list) else v.strip()) for k, v in e.items()} for e in entries]


def _refuse(issue: IssueFile, why: str) -> IssueError:
    return IssueError(f"{why}; nothing was changed (run without --issue to print the entries and paste them in)",
                      issue.path, issue.entries_key.start_mark.line + 1, "entries")


def _scalar(value: str) -> str:
    """`value` as a plain YAML scalar when it reads back as the same text, else as a double-quoted one."""
    if _PLAIN.fullmatch(value) and value == value.strip() and ": " not in value and " #" not in value and not value.endswith(":"):
        try:
            node = yaml.compose(f"k: {value}\n", Loader=yaml.SafeLoader).value[0][1]
            if isinstance(node, yaml.ScalarNode) and node.style is None and node.value == value:
                return value
        except yaml.YAMLError:
            pass
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(value, ensure_ascii=False)


def _lines(text: str) -> list[str]:
    """`text` split after each YAML line break, the breaks kept: joining the list gives `text` back."""
    parts, start = [], 0
    for match in _BREAK.finditer(text):
        parts.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        parts.append(text[start:])
    return parts


def _compose(text: str, path: Path) -> yaml.Node:
    try:
        return safe_yaml.compose(text.lstrip("\ufeff"), positions=True)
    except yaml.MarkedYAMLError as exc:
        from digest.reader import syntax_error  # only for a file that does not parse

        error = syntax_error(text.lstrip("\ufeff"), exc, path)
        raise IssueError(f"{error.problem}; fix it before adding trials", path, error.line, error.field) from None
    except yaml.YAMLError as exc:
        raise IssueError(f"YAML syntax: {exc}", path) from None

