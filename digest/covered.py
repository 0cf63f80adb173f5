"""What a newsletter's issues have covered, and what became of it: the library behind `digest trial --new`
and `digest trial --updates`. Nothing here prints.

"What a trial was when featured" is what the featuring issue's entry says (its `status` and `phase`, the words
readers got), and the issue's date against the record's dates (results first posted, last update). Where
this computer's cache of ClinicalTrials.gov holds the copy of the record that was current on the issue's
day (`digest trial` fetched it then), that copy fills in what the entry does not say, enrolment first: an
entry never states it. Nothing else is stored: an issue written by hand is covered the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from digest import safe_yaml
from digest.dates import iso_date, longdate
from digest.exceptions import IssueError, cut
from digest.files import decode, read_bytes


@dataclass(frozen=True)
class Featured:
    """One entry of a past issue about a trial."""

    nct_id: str
    path: Path  # the issue file
    line: int  # where the entry starts
    field: str  # "entries[2]", "sections[1].entries[3]"
    date: datetime.date  # the issue's
    status: str | None  # as the entry says it, if it does
    phase: str | None
    institution: str | None = None  # the names the newsletter gave the trial, for an update to use again
    title: str | None = None


@dataclass
class Covered:
    """The newsletter's issues: the newest one's date, the entries about each trial (oldest issue first), and
    every trial any issue names (by `nct_id`, or a link to its study page anywhere in the file)."""

    issues: list[tuple[Path, datetime.date]] = field(default_factory=list)
    featured: dict[str, list[Featured]] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)

    @property
    def newest(self) -> tuple[Path, datetime.date] | None:
        return max(self.issues, key=lambda item: (item[1], item[0].name), default=None)

    def latest(self, nct_id: str) -> Featured:
        """The newest entry about the trial: what readers were last told."""
        return self.featured[nct_id][-1]


def read_covered(paths: Iterable[Path]) -> Covered:
    """Every issue file in `paths`, read for its date and the trials it names. An issue that cannot be read is
    an IssueError naming its line: which trials were covered cannot be known without it."""
    from digest.ctgov import NCT_ID, STUDY_LINK, study_id_in

    covered = Covered()
    found: list[Featured] = []
    for path in paths:
        root = _compose(path)
        top = {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
        if "date" not in top:
            raise IssueError("has no 'date:': digest dates what is new from each issue's date", path, None, "date")
        date_node = top["date"][1]
        try:
            if not isinstance(date_node, yaml.ScalarNode):
                raise ValueError
            date = iso_date(date_node.value.strip())
        except ValueError:
            raise IssueError("is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14", path,
                             date_node.start_mark.line + 1, "date") from None
        covered.issues.append((path, date))
        for where, item in _entries(top):
            fields = {k.value: v.value for k, v in item.value if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)}
            nct_id = (fields.get("nct_id") or "").strip().upper() or study_id_in(fields.get("link") or "")
            if nct_id and not NCT_ID.fullmatch(nct_id):  # it becomes an address and a file name: never '../'
                name = "nct_id" if (fields.get("nct_id") or "").strip() else "link"
                node = next(v for k, v in item.value if getattr(k, "value", None) == name)
                raise IssueError(f"{cut(nct_id, 40)!r} is not a ClinicalTrials.gov id like NCT03008590", path,
                                 node.start_mark.line + 1, f"{where}.{name}")
            if nct_id:
                said = {name: (fields.get(name) or "").strip() or None for name in ("status", "phase", "institution", "title")}
                found.append(Featured(nct_id, path, item.start_mark.line + 1, where, date, **said))
        for text in _scalars(root):
            covered.named.update(m.group(1).upper() for m in STUDY_LINK.finditer(text))
    covered.named.update(f.nct_id for f in found)
    for entry in sorted(found, key=lambda f: (f.date, f.path.name, f.line)):
        covered.featured.setdefault(entry.nct_id, []).append(entry)
    return covered




def _compose(path: Path) -> yaml.MappingNode:
    text = decode(read_bytes(path, IssueError, missing="no such issue file"), path, IssueError)
    try:
        root = safe_yaml.compose(text.lstrip("\ufeff"))
    except yaml.MarkedYAMLError as exc:
        from digest.reader import syntax_error  # only for a file that does not parse

        error = syntax_error(text.lstrip("\ufeff"), exc, path)
        raise IssueError(f"{error.problem}; digest reads every issue to know which trials the newsletter has covered",
                         path, error.line, error.field) from None
    except yaml.YAMLError as exc:
        raise IssueError(f"YAML syntax: {' '.join(str(exc).split())}", path) from None
    if not isinstance(root, yaml.MappingNode):
        raise IssueError("an issue starts with 'subject:', 'preheader:', 'date:' … on their own lines", path)
    return root


def _entries(top: dict) -> Iterable[tuple[str, yaml.MappingNode]]:
    """(field, node) of every entry: the issue's own `entries:`, then each section's."""
    lists = [("entries", top["entries"][1])] if "entries" in top else []
    sections = top["sections"][1] if "sections" in top else None
    for i, section in enumerate(sections.value if isinstance(sections, yaml.SequenceNode) else (), 1):
        for key, value in section.value if isinstance(section, yaml.MappingNode) else ():
            if isinstance(key, yaml.ScalarNode) and key.value == "entries":
                lists.append((f"sections[{i}].entries", value))
    for name, node in lists:
        for j, item in enumerate(node.value if isinstance(node, yaml.SequenceNode) else (), 1):
            if isinstance(item, yaml.MappingNode):
                yield f"{name}[{j}]", item


def _scalars(node: yaml.Node) -> Iterable[str]:
    if isinstance(node, yaml.ScalarNode):
        yield node.value
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value)


# --- what changed -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    what: str  # "status", "phase", "enrolment", "results", "updated"
    was: str | None  # None where there was nothing (no results yet)
    now: str


NEWS = ("status", "results", "phase", "enrolment")  # what a reader would care about; "updated" alone is not


def changes(featured: Featured, study: dict, then: dict | None) -> list[Change]:
    """What changed in the trial's record since `featured`'s issue: `study` is the record now, `then` the copy
    current on the issue's day, if the cache has it."""
    from digest.ctgov import facts

    now = facts(study)
    before = facts(then) if then is not None else None
    found = []
    was_status = featured.status or (before.status if before else None)
    if was_status and now.status and _same(was_status) != _same(now.status):
        found.append(Change("status", was_status, now.status))
    if now.results is not None and now.results >= featured.date:
        found.append(Change("results", None, now.results.isoformat()))
    elif now.results is None and now.has_results and before is not None and not before.has_results:
        found.append(Change("results", None, "posted"))
    was_phase = featured.phase or (before.phase if before else None)
    if was_phase and now.phase and _same(was_phase) != _same(now.phase):
        found.append(Change("phase", was_phase, now.phase))
    if before is not None and before.enrolment and now.enrolment and before.enrolment != now.enrolment:
        found.append(Change("enrolment", before.enrolment, now.enrolment))
    if now.last_updated is not None and now.last_updated >= featured.date:
        found.append(Change("updated", None, now.last_updated.isoformat()))
    return found


def _same(label: str) -> str:
    """A status or phase as compared: "Recruiting", "recruiting" and "RECRUITING" are one."""
    return " ".join(label.replace("_", " ").replace(",", " ").casefold().split())


def describe(change: Change) -> str:
    """One change, for the line of `digest trial --updates`."""
    if change.what == "results":
        return "results posted" + (f" {change.now}" if change.now != "posted" else "")
    if change.what == "updated":
        return f"record updated {change.now}"
    return f"{change.what}: {change.was} → {change.now}"


def update_summary(featured: Featured, found: list[Change]) -> str:
    """The words of an entry in the updates section, as the issue's Markdown (escaped: the registry's words)."""
    from digest.markup import escape

    said = []
    for change in found:
        if change.what == "status":
            said.append(f"its status changed from {change.was} to {change.now}")
        elif change.what == "results":
            when = f" on {longdate(datetime.date.fromisoformat(change.now))}" if change.now != "posted" else ""
            said.append(f"its results were posted{when}")
        elif change.what == "phase":
            said.append(f"it moved from {change.was} to {change.now}")
        elif change.what == "enrolment":
            said.append(f"its enrolment changed from {change.was} to {change.now}")
    return escape(f"Since we covered this trial on {longdate(featured.date)}, {'; '.join(said)}.")

