"""`digest trial`: add entries for registered trials to an issue, straight from ClinicalTrials.gov; search it;
list what is new since the last issue (--new) and what became of the trials already covered (--updates)."""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

import click

from digest.exceptions import IssueError, OptionError, TrialError, cut, display_path

SAVE_ATTEMPTS = 5  # saves by the editor in the moment between reading the issue and replacing it
UPDATES_SECTION = "Updates on trials we covered"
LIMIT = 20  # studies a plain --search lists


def trial(ids: list[str], from_file: Path | None, issue_path: Path | None, config_path: Path | None,
          max_chars: int, search: str | None, statuses: str | None, limit: int | None, refresh: bool,
          quote: str = "brief", new: bool = False, since: str | None = None, updates: bool = False,
          fmt: str = "text", section: str | None = None) -> None:
    from digest import ctgov

    if updates and (ids or from_file or search is not None):
        raise OptionError("--updates follows every trial the issues have featured: give no ids and no --search")
    if new and search is None:
        raise OptionError("--new lists the new trials of a search: add --search WORDS")
    if search is not None and (ids or from_file):
        raise OptionError("give NCT ids to add, or --search to look for studies, not both")
    if search is None and statuses:
        raise OptionError("--status only filters a --search")
    if since is not None and not (new or updates):
        raise OptionError("only dates --new and --updates", field="--since")
    if fmt != "text" and not (new or updates):
        raise OptionError("json is for --new and --updates", field="--format")
    if limit is not None and (new or search is None):
        raise OptionError("shortens a plain --search; --new lists every new trial" if new else "only shortens a --search",
                         field="--limit")
    if section is not None and issue_path is None:
        raise OptionError("names a section of the issue given with --issue", field="--section")
    if section is not None and not section.strip():
        raise OptionError("needs the heading of a section, e.g. --section \"New trials\"", field="--section")
    if search is None and not ids and from_file is None and not updates:
        raise OptionError("which trials? Give NCT ids (digest trial NCT03008590), --from-file, or --search WORDS")
    since_date = _date(since) if since is not None else None
    # Every id is checked before anything is fetched: a typo costs no request.
    try:
        wanted = [ctgov.parse_id(text, field="NCT id") for text in ids]
    except TrialError as exc:  # typed on the command line: a usage mistake (a file's bad id is the file's)
        raise OptionError(exc.problem, field=exc.field) from None
    if from_file is not None:
        wanted += ctgov.ids_from_file(from_file)

    newsletter = _newsletter(issue_path, config_path)
    base = ctgov.api_base(newsletter)
    if search is not None and not new:
        return _search(base, search, statuses, limit or LIMIT)
    issue = None
    if issue_path is not None:  # a broken issue, or one without a place for the entries, is said before any request
        from digest.issue_edit import check_target, open_issue

        issue = open_issue(issue_path)
        check_target(issue, section if section is not None or not updates else UPDATES_SECTION)
    adder = _Adder(newsletter, issue_path, max_chars, quote, section)
    if new:
        return _new(base, search, statuses, since_date, newsletter, issue_path, issue, refresh, fmt, adder)
    if updates:
        return _updates(base, since_date, newsletter, issue_path, refresh, fmt, adder)

    to_fetch = []
    for nct_id in wanted:
        if nct_id in to_fetch:
            continue
        if issue and nct_id in issue.trials:
            _warn(f"warning: {nct_id} is already in {issue_path} (the entry on line {issue.trials[nct_id]}): not added again")
            continue
        to_fetch.append(nct_id)

    # `usable`: a record that cannot make an entry is not kept in the cache, where it would fail every run.
    with ctgov.Client(base, ctgov.cache_dir(), refresh=refresh, usable=adder.make, notify=_warn) as client:
        with _Progress("Fetching from ClinicalTrials.gov", at_least=2) as progress:
            studies = client.studies(to_fetch, progress)
    adder.add([(asked, *adder.make(study, asked)) for asked, study in zip(to_fetch, studies)])
    return None


class _Adder:
    """The entries `digest trial` makes, and where they go: printed, or into the issue by compare-and-swap."""

    def __init__(self, newsletter, issue_path: Path | None, max_chars: int, quote: str, section: str | None):
        self.institution = newsletter.trial_institution if newsletter else "sponsor"
        self.issue_path, self.max_chars, self.quote, self.section = issue_path, max_chars, quote, section

    def make(self, study: dict, asked: str, summary: str | None = None) -> tuple[dict, list[str]]:
        from digest import ctgov

        return ctgov.entry_for(study, self.institution, self.max_chars, asked, self.quote, summary)

    def add(self, made: list[tuple[str, dict, list[str]]], section: str | None = None) -> None:
        from digest.issue_edit import append_entries, render_entries

        section = self.section or section
        issue_path = self.issue_path
        if issue_path is None:
            entries, messages = _new_entries(made, set(), "the list above")
            for message in messages:
                _warn(message)
            if entries:
                click.echo(render_entries(entries, gap=True), nl=False)
            return

        from digest.files import replace_if_unchanged, taking_turns
        from digest.issue_edit import open_issue

        # One digest at a time changes the issue (two adding trials at once lost each other's entries);
        # the editor, who takes no turn, is met by compare-and-swap.
        with taking_turns(Path(os.path.realpath(issue_path)).parent, IssueError):
            for _ in range(SAVE_ATTEMPTS):
                # Read again, and again after each save that comes in between: the file the entries go into is
                # the editor's latest, and it is replaced only while it still is (compare-and-swap).
                issue = open_issue(issue_path)
                entries, messages = _new_entries(made, set(issue.trials), issue_path)
                if not entries:
                    break
                text = append_entries(issue, entries, section)
                if replace_if_unchanged(issue_path, issue.text.encode("utf-8"), text.encode("utf-8"), IssueError):
                    break
            else:
                raise IssueError(f"changed {SAVE_ATTEMPTS} times while digest was adding the trials; nothing was "
                                 "written: run digest trial again", issue_path)
        for message in messages:
            _warn(message)
        where = f"{issue_path} (section {section!r})" if section else issue_path
        for entry in entries:
            _warn(f"Added {entry['nct_id']} ({entry['institution']}) to {where}")


def _new_entries(made: list[tuple[str, dict, list[str]]], seen: set[str], where) -> tuple[list[dict], list[str]]:
    """The entries not in `seen` yet, and the notes and warnings to print about them, in the order asked."""
    entries, messages = [], []
    for asked, entry, notes in made:
        messages += [f"warning: {note}" for note in notes]
        if entry["nct_id"] in seen:  # an old id that now redirects to a study already there, or added meanwhile
            name = asked if asked == entry["nct_id"] else f"{asked} (now {entry['nct_id']})"
            messages.append(f"warning: {name} is already in {where}: not added again")
            continue
        seen.add(entry["nct_id"])
        entries.append(entry)
    return entries, messages


def _newsletter(issue_path: Path | None, config_path: Path | None):
    """--config, else the digest.toml next to or above the issue (or here), else none: the defaults do."""
    from digest.config import find_config, load_config

    config_path = config_path or find_config(issue_path.parent if issue_path is not None else Path.cwd())
    return load_config(config_path) if config_path else None


def _statuses(statuses: str | None) -> list[str]:
    from digest import ctgov

    wanted = []
    for text in (statuses or "").split(","):
        if not text.strip():
            continue
        value = "_".join(text.replace("-", " ").replace(",", " ").split()).upper()
        if value not in ctgov.STATUS_LABELS:
            known = ", ".join(v.lower().replace("_", "-") for v in ctgov.STATUS_LABELS)
            raise OptionError(f"{text.strip()!r} is not a study status; one of: {known}", field="--status")
        wanted.append(value)
    return wanted


def _search(base: str, term: str, statuses: str | None, limit: int) -> None:
    from digest import ctgov

    term, wanted = _search_terms(term, statuses)
    with ctgov.Client(base, None) as client:
        studies, total = client.search(term, wanted, limit)
    rows = [ctgov.summary_row(study) for study in studies]
    for row in rows:
        head = " · ".join(part for part in (row["status"], row["sponsor"]) if part)
        click.echo(f"{row['nct_id']}  {head}\n    {row['title']}")
    if not rows:
        raise TrialError(f"no studies on ClinicalTrials.gov match {term!r}{_with(wanted)}")
    if total is not None and total > len(rows):
        _warn(f"Showing {len(rows)} of {total} studies (--limit shows more). Add one with: digest trial {rows[0]['nct_id']} --issue FILE")
    else:
        _warn(f"{len(rows)} {'study' if len(rows) == 1 else 'studies'}. Add one with: digest trial {rows[0]['nct_id']} --issue FILE")


def _search_terms(term: str, statuses: str | None) -> tuple[str, list[str]]:
    if not term.strip():
        raise OptionError("--search needs words to look for, e.g. --search \"low dose naltrexone\"")
    return term.strip(), _statuses(statuses)


def _with(statuses: list[str]) -> str:
    from digest.model import STATUS_LABELS

    return f" with the status {' or '.join(STATUS_LABELS[s] for s in statuses)}" if statuses else ""


# --- what is new since the last issue ------------------------------------------------------------------------

def _new(base, term, statuses, since, newsletter, issue_path, issue, refresh, fmt, adder: _Adder) -> None:
    from digest import ctgov

    term, wanted = _search_terms(term, statuses)
    covered, folder = _covered(newsletter, issue_path)
    named = set(covered.named) | set(issue.trials if issue is not None else ())
    if issue is not None:  # the issue being written names trials too, in a link anywhere in it
        from digest.covered import read_covered

        named |= read_covered([issue_path]).named
    since_from = "given with --since"
    if since is None:
        newest = covered.newest
        if newest is None:
            raise TrialError(f"no issues in {display_path(folder)}/ to count from: say since when with --since YYYY-MM-DD",
                             field="--new")
        since, since_from = newest[1], f"the date of {display_path(newest[0])}, the newest issue"

    with ctgov.Client(base, ctgov.cache_dir(), refresh=refresh, usable=adder.make, notify=_warn, fresh=ctgov.FRESH) as client:
        with _Progress("Searching ClinicalTrials.gov") as progress:
            studies, total = client.search_all(term, wanted, since, progress)
        rows, covered_count, older, listed, no_id = [], 0, 0, set(), 0
        for study in studies:
            why = ctgov.why_listed(study, since)
            first, last = ctgov.first_posted(study), ctgov.last_updated(study)
            row = {"nct_id": "", "first_posted": first.isoformat() if first else "",
                   "last_updated": last.isoformat() if last else "", **ctgov.summary_row(study)}
            if not ctgov.NCT_ID.fullmatch(row["nct_id"]):
                no_id += 1  # nothing to fetch it by, nor to add: it becomes an address and a file name
            elif why is None:
                older += 1  # the API was asked for these dates: a server that ignores the filter sends them anyway
            elif row["nct_id"] in named:
                covered_count += 1
            elif row["nct_id"] not in listed:  # a study that moved between pages while they were read
                listed.add(row["nct_id"])
                rows.append({**row, "why": why})
        rows.sort(key=lambda r: r["first_posted" if r["why"] == "new" else "last_updated"], reverse=True)
        rows.sort(key=lambda r: r["why"] != "new")  # new first, then updated; newest first within each
        matched = total if total is not None else len(studies)
        if not studies and not client.count(term, wanted):
            raise TrialError(f"no studies on ClinicalTrials.gov match {term!r}{_with(wanted)}")
        made = []
        if rows and issue_path is not None:
            ids = [r["nct_id"] for r in rows]
            with _Progress("Fetching from ClinicalTrials.gov", at_least=2) as progress:
                found = client.studies(ids, progress)
            made = [(asked, *adder.make(study, asked)) for asked, study in zip(ids, found)]
        stale = _stale(client)

    since_text = f"{since.isoformat()} ({since_from})"
    if fmt == "json":
        click.echo(json.dumps({"search": term, "statuses": wanted, "since": since.isoformat(), "matched": matched,
                               "trials": rows, "covered": covered_count, "not_new": older, "stale": stale}, indent=2))
    elif rows:
        _table(rows)
    for line in _stale_lines(stale):
        _warn(line)
    if no_id:
        _warn(f"warning: ClinicalTrials.gov's answer held {_studies(no_id)} without an id like NCT03008590: left out")
    if not rows:
        _warn(f"no new trials since {since_text}: of {_studies(len(studies))} found, {covered_count} "
              f"{'is' if covered_count == 1 else 'are'} already in an issue" + (f" and {older} not new" if older else ""))
        return
    counts = [f"{n} {why}" for why in ("new", "updated") if (n := sum(r["why"] == why for r in rows))]
    _warn(f"{' and '.join(counts)} since {since_text}" + (f"; {covered_count} more already in an issue" if covered_count else "")
          + ("" if issue_path is not None else ". Add them with --issue FILE"))
    if made:
        adder.add(made)


def _table(rows: list[dict]) -> None:
    """id, first posted, last updated, status, sponsor, title, why: long words cut to fit a line or two."""
    columns = [("id", "nct_id", 11), ("first posted", "first_posted", 12), ("last updated", "last_updated", 12),
               ("status", "status", 23), ("sponsor", "sponsor", 30), ("title", "title", 50), ("why", "why", 7)]
    click.echo("  ".join(f"{name:<{width}}" for name, _, width in columns).rstrip())
    for row in rows:
        click.echo("  ".join(f"{cut(row[key] or '-', width):<{width}}" for _, key, width in columns).rstrip())




def _studies(n: int) -> str:
    return f"{n} {'study' if n == 1 else 'studies'}"


# --- what became of the trials already covered ---------------------------------------------------------------

def _updates(base, since, newsletter, issue_path, refresh, fmt, adder: _Adder) -> None:
    from digest import covered as cov
    from digest import ctgov

    covered, folder = _covered(newsletter, issue_path)
    featured = sorted((covered.latest(nct_id) for nct_id in covered.featured), key=lambda f: (f.date, f.path.name, f.line))
    if not featured:
        _warn(f"no issue in {display_path(folder)}/ has a trial (an entry with nct_id, or a link to a study page): nothing to follow")
        return
    ids = [f.nct_id for f in featured]
    with ctgov.Client(base, ctgov.cache_dir(), refresh=refresh, notify=_warn, fresh=ctgov.FRESH) as client:
        with _Progress("Fetching from ClinicalTrials.gov", at_least=2) as progress:
            found = client.studies(ids, progress, keep_going=True)
        report, made, missing = [], [], []
        for feature, study in zip(featured, found):
            if isinstance(study, TrialError):
                missing.append(f"warning: {_place(feature)}: {study.problem}")
                continue
            updated = ctgov.last_updated(study)
            if since is not None and (updated is None or updated < since):
                continue
            changes = cov.changes(feature, study, client.saved_version(feature.nct_id, feature.date))
            if not changes:
                continue
            report.append((feature, study, changes))
            if issue_path is not None and any(c.what in cov.NEWS for c in changes):
                entry, notes = adder.make(study, feature.nct_id, cov.update_summary(feature, changes))
                # The names readers already know the trial by, from the entry that featured it.
                entry.update({name: value for name in ("institution", "title") if (value := getattr(feature, name))})
                made.append((feature.nct_id, entry, notes))
        stale = _stale(client)

    if fmt == "json":
        click.echo(json.dumps({
            "checked": len(featured), "since": since.isoformat() if since else None, "stale": stale,
            "changed": [{"nct_id": f.nct_id, "title": ctgov.summary_row(study)["title"],
                         "featured": {"file": display_path(f.path), "line": f.line, "field": f.field, "date": f.date.isoformat()},
                         "changes": [{"what": c.what, "was": c.was, "now": c.now} for c in changes]}
                        for f, study, changes in report]}, indent=2))
    else:
        for feature, _, changes in report:
            click.echo(f"{feature.nct_id}  {' · '.join(cov.describe(c) for c in changes)}  "
                       f"({_place(feature)}, {feature.date.isoformat()})")
    for line in missing + _stale_lines(stale):
        _warn(line)
    what = "since the issue that featured each" + (f", records updated on or after {since.isoformat()}" if since else "")
    if not report:
        _warn(f"no news of the {_trials(len(featured))} the issues have featured ({what})")
        return
    _warn(f"{len(report)} of the {_trials(len(featured))} the issues have featured changed ({what})")
    if issue_path is not None:
        quiet = len(report) - len(made)
        if quiet:
            _warn(f"{quiet} of them only had their record updated: not added (nothing a reader would notice)")
        if made:
            adder.add(made, UPDATES_SECTION)


def _trials(n: int) -> str:
    return f"{n} trial{'' if n == 1 else 's'}"


def _place(feature) -> str:
    return f"{display_path(feature.path)}:{feature.line}"


def _covered(newsletter, issue_path: Path | None):
    """What the newsletter's issues have covered, but for the issue being written, and their folder."""
    from digest.covered import read_covered
    from digest.files import issue_files

    if newsletter is not None:
        folder = newsletter.root / "issues"
    else:
        folder = issue_path.parent if issue_path is not None else Path.cwd() / "issues"
    target = issue_path.resolve() if issue_path is not None else None
    paths = [p for p in issue_files(folder) if p.resolve() != target]
    return read_covered(paths), folder


def _stale(client) -> list[dict]:
    return [{"what": what, "saved": day.isoformat()} for what, day in client.stale]


def _stale_lines(stale: list[dict]) -> list[str]:
    if not stale:
        return []
    oldest = min(s["saved"] for s in stale)
    return [f"warning: ClinicalTrials.gov could not be reached, so {len(stale)} of the answers are copies saved "
            f"earlier (the oldest on {oldest}): these results may be stale; run again when online"]


def _date(text: str) -> datetime.date:
    value = text.strip()
    from digest.dates import iso_date

    try:
        return iso_date(value)
    except ValueError:
        raise OptionError(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-06-04", field="--since") from None


class _Progress:
    """A progress bar on stderr where it is a terminal, fed by the library's `progress(done, total)`; a total
    of None is not known yet. Nothing is shown for fewer than `at_least` steps, or off a terminal."""

    def __init__(self, label: str, at_least: int = 1):
        self.label, self.at_least = label, at_least
        self.bar = None
        self.shown = sys.stderr.isatty()

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int | None) -> None:
        if not self.shown or (total is not None and total < self.at_least):
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total or done + 1, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = max(total or done + 1, done)
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _warn(message: str) -> None:
    click.echo(message, err=True)
