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
class EntryList:
    """One `entries:` of the file: the issue's own, or a section's."""

    field: str  # as messages name it: "entries", "sections[2].entries"
    heading: str | None  # the section's heading; None for the issue's own entries
    key: yaml.Node  # the `entries` key
    node: yaml.Node  # its value: a list, or nothing yet


@dataclass
class IssueFile:
    """An issue file as text, with where its entries lists are and the trials already in them."""

    path: Path
    text: str  # decoded exactly: text.encode() gives the file's bytes back, for the compare-and-swap
    root: yaml.Node
    entries: EntryList | None  # the issue's own `entries:`
    sections: list[EntryList]  # each section's, in order
    sections_key: yaml.Node | None  # the `sections` key, if the file has one
    trials: dict[str, int]  # NCT id -> line of the entry that has it, in any list


def open_issue(path: Path) -> IssueFile:
    from digest.ctgov import study_id_in

    text = decode(read_bytes(path, IssueError, missing="no such issue file"), path, IssueError)  # a BOM stays
    root = _compose(text, path)
    if not isinstance(root, yaml.MappingNode):
        raise IssueError("an issue starts with 'subject:', 'preheader:', 'date:' … on their own lines", path)
    top = _pairs(root)
    entries = EntryList("entries", None, *top["entries"]) if "entries" in top else None
    sections, sections_key = [], None
    if "sections" in top:
        sections_key, value = top["sections"]
        for i, item in enumerate(value.value if isinstance(value, yaml.SequenceNode) else (), 1):
            fields = _pairs(item) if isinstance(item, yaml.MappingNode) else {}
            heading = fields.get("heading", (None, None))[1]
            if "entries" in fields and isinstance(heading, yaml.ScalarNode):
                sections.append(EntryList(f"sections[{i}].entries", heading.value.strip(), *fields["entries"]))
    if entries is None and sections_key is None:
        raise IssueError("has no 'entries:' list to add the trials to", path)
    trials: dict[str, int] = {}
    for entry_list in ([entries] if entries else []) + sections:
        for item in entry_list.node.value if isinstance(entry_list.node, yaml.SequenceNode) else ():
            for k, v in item.value if isinstance(item, yaml.MappingNode) else ():
                if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode) and k.value in ("nct_id", "link"):
                    nct = v.value.strip().upper() if k.value == "nct_id" else study_id_in(v.value)
                    if nct:
                        trials.setdefault(nct, item.start_mark.line + 1)
    return IssueFile(path, text, root, entries, sections, sections_key, trials)


def _pairs(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's scalar keys -> (key node, value node); the first of a key given twice, as the reader names it."""
    found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            found.setdefault(key.value, (key, value))
    return found


def section_named(issue: IssueFile, name: str) -> EntryList | None:
    """The section whose heading is `name`, as the reader compares them (case aside)."""
    return next((s for s in issue.sections if s.heading.casefold() == name.strip().casefold()), None)


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


def append_entries(issue: IssueFile, entries: list[dict], section: str | None = None) -> str:
    """The issue file's text with `entries` added, the rest byte for byte: at the end of the issue's own
    `entries:`, or of the section headed `section`, which is added after the others when there is none yet."""
    text = issue.text
    lines = _lines(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    check_target(issue, section)
    target = issue.entries if section is None else section_named(issue, section)
    if target is not None:
        end, block = _into_list(issue, target, entries, lines, newline)
    else:
        end, block = _new_section(issue, section.strip(), entries, lines, newline)
    head = "".join(lines[: end + 1])
    if head and not head.endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
        block = newline + block
    result = head + block + text[len(head):]
    _check(issue, result, entries, target, section)
    return result


def check_target(issue: IssueFile, section: str | None) -> None:
    """An IssueError if entries cannot go where `section` says (None: the issue's own `entries:`); said before
    anything is fetched."""
    if section is None and issue.entries is None:
        names = ", ".join(repr(s.heading) for s in issue.sections)
        raise IssueError("has no 'entries:' of its own, only sections: say which one the trials go in with --section NAME "
                         + (f"(the sections: {names})" if names else "(a new one is made)"), issue.path)


def _into_list(issue: IssueFile, target: EntryList, entries: list[dict], lines: list[str], newline: str) -> tuple[int, str]:
    """Where the entries go at the end of an existing `entries:` (the line after which), and their text."""
    node = target.node
    if _block_list(node):
        end, content_col, dash = _after_last(lines, node)
        gap = len(node.value) > 1 and not lines[node.value[-1].start_mark.line - 1].strip()
        return end, render_entries(entries, dash, content_col, gap, newline)
    if isinstance(node, yaml.ScalarNode) and node.value == "" and node.tag.endswith(":null"):
        # `entries:` with nothing under it yet: the list starts on the next line.
        dash = target.key.start_mark.column + 2
        return target.key.start_mark.line, render_entries(entries, dash, dash + 2, True, newline)[len(newline):]
    raise _refuse(issue, target, "write 'entries:' on its own line with the entries under it, each starting with '- '")


def _new_section(issue: IssueFile, heading: str, entries: list[dict], lines: list[str], newline: str) -> tuple[int, str]:
    """A section headed `heading` holding `entries`: after the last section, or, in a file without `sections:`,
    a `sections:` of its own after the issue's entries."""
    key = issue.sections_key
    if key is not None:
        node = _pairs(issue.root)["sections"][1]
        if _block_list(node):
            end, col, dash = _after_last(lines, node)
            lead = newline
        elif isinstance(node, yaml.ScalarNode) and node.value == "" and node.tag.endswith(":null"):
            dash, col, end, lead = key.start_mark.column + 2, key.start_mark.column + 4, key.start_mark.line, ""
        else:
            raise _refuse(issue, None, "write 'sections:' on its own line with the sections under it, each starting with '- heading:'")
        head = ""
    else:
        col = issue.entries.key.start_mark.column  # the issue's own keys' column
        target = issue.entries
        if _block_list(target.node):
            end = _after_last(lines, target.node)[0]
        else:
            end = target.key.start_mark.line
        head = newline + " " * col + "sections:" + newline
        dash, col, lead = col + 2, col + 4, ""
    block = (head + lead + " " * dash + "-" + " " * (col - dash - 1) + "heading: " + _scalar(heading) + newline
             + " " * col + "entries:" + newline + render_entries(entries, col + 2, col + 4, newline=newline))
    return end, block


def _block_list(node) -> bool:
    """A list written one '- ' item a line, with items: the kind digest adds to."""
    return isinstance(node, yaml.SequenceNode) and bool(node.value) and not node.flow_style


def _after_last(lines: list[str], node: yaml.SequenceNode) -> tuple[int, int, int]:
    """For a block list: the line its last item ends on, that item's column, and the column of its '-'."""
    last = node.value[-1]
    start, col = last.start_mark.line, last.start_mark.column
    dash = lines[start].rfind("-", 0, col) if start < len(lines) else -1
    dash = dash if dash >= 0 else max(0, col - 2)
    return _last_line_of_item(lines, start, dash), col, dash


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


def _check(issue: IssueFile, result: str, entries: list[dict], target: EntryList | None, section: str | None) -> None:
    """Parse the result: every old value there and unchanged, the new entries where they were meant to go, as
    rendered."""
    try:
        new = _tree(yaml.compose(result.lstrip("\ufeff"), Loader=_FAST_LOADER))
        added = _tree(yaml.compose(render_entries(entries, 0, 2), Loader=_FAST_LOADER))
    except (yaml.YAMLError, IssueError):
        raise _refuse(issue, target, _LAYOUT) from None
    expected = _tree(issue.root)
    if target is None:  # a new section, at the end of `sections:` (made if need be)
        sections = expected.get("sections")
        expected["sections"] = (sections if isinstance(sections, list) else []) + [{"heading": section.strip(), "entries": added}]
    else:
        parent = expected
        if target.heading is not None:  # "sections[2].entries"
            parent = expected["sections"][int(target.field.split("[")[1].split("]")[0]) - 1]
        old = parent["entries"]
        parent["entries"] = (old if isinstance(old, list) else []) + added
    if new != expected or _stripped(entries) != [_strip(e) for e in added]:
        raise _refuse(issue, target, _LAYOUT)


_LAYOUT = "the entries list has a layout digest cannot add to safely"


def _tree(node):
    """A node as comparable Python data: scalars as the text typed (so `no` stays "no")."""
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_tree(n) for n in node.value]
    return {(k.value if isinstance(k, yaml.ScalarNode) else repr(_tree(k))): _tree(v) for k, v in node.value}


def _strip(value: dict) -> dict:
    return {k: ([i.strip() for i in v] if isinstance(v, list) else v.strip()) for k, v in value.items()}


def _stripped(entries: list[dict]) -> list[dict]:
    # The reader strips every value; a `|` block keeps its final line break, so compare as the reader will.
    return [_strip(e) for e in entries]


def _refuse(issue: IssueFile, target: EntryList | None, why: str) -> IssueError:
    key = target.key if target is not None else issue.sections_key
    where = target.field if target is not None else "sections"
    if key is None:  # a `sections:` that does not exist yet goes after the issue's entries
        key, where = issue.entries.key, "entries"
    return IssueError(f"{why}; nothing was changed (run without --issue to print the entries and paste them in)",
                      issue.path, key.start_mark.line + 1, where)


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

