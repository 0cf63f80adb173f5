"""`digest trial`: add entries for registered trials to an issue, straight from ClinicalTrials.gov, or search it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest.exceptions import IssueError, OptionError, TrialError

SAVE_ATTEMPTS = 5  # saves by the editor in the moment between reading the issue and replacing it


def trial(ids: list[str], from_file: Path | None, issue_path: Path | None, config_path: Path | None,
          max_chars: int, search: str | None, statuses: str | None, limit: int, refresh: bool,
          quote: str = "brief") -> None:
    from digest import ctgov

    if search is not None and (ids or from_file):
        raise OptionError("give NCT ids to add, or --search to look for studies, not both")
    if search is None and statuses:
        raise OptionError("--status only filters a --search")
    if search is None and not ids and from_file is None:
        raise OptionError("which trials? Give NCT ids (digest trial NCT03008590), --from-file, or --search WORDS")
    # Every id is checked before anything is fetched: a typo costs no request.
    try:
        wanted = [ctgov.parse_id(text, field="NCT id") for text in ids]
    except TrialError as exc:  # typed on the command line: a usage mistake (a file's bad id is the file's)
        raise OptionError(exc.problem, field=exc.field) from None
    if from_file is not None:
        wanted += ctgov.ids_from_file(from_file)

    newsletter = _newsletter(issue_path, config_path)
    base = ctgov.api_base(newsletter)
    if search is not None:
        return _search(base, search, statuses, limit)

    issue = None
    if issue_path is not None:
        from digest.issue_edit import open_issue

        issue = open_issue(issue_path)
    to_fetch = []
    for nct_id in wanted:
        if nct_id in to_fetch:
            continue
        if issue and nct_id in issue.trials:
            _warn(f"warning: {nct_id} is already in {issue_path} (the entry on line {issue.trials[nct_id]}): not added again")
            continue
        to_fetch.append(nct_id)

    institution = newsletter.trial_institution if newsletter else "sponsor"

    def make_entry(study: dict, asked: str) -> tuple[dict, list[str]]:
        return ctgov.entry_for(study, institution, max_chars, asked, quote)

    # `usable`: a record that cannot make an entry is not kept in the cache, where it would fail every run.
    with ctgov.Client(base, ctgov.cache_dir(), refresh=refresh, usable=make_entry, notify=_warn) as client:
        if len(to_fetch) > 1 and sys.stderr.isatty():
            with click.progressbar(length=len(to_fetch), label="Fetching from ClinicalTrials.gov", file=sys.stderr) as bar:
                studies = client.studies(to_fetch, bar.update)
        else:
            studies = client.studies(to_fetch)
    made = [(asked, *make_entry(study, asked)) for asked, study in zip(to_fetch, studies)]

    from digest.issue_edit import append_entries, render_entries

    if issue is None:
        entries, messages = _new_entries(made, set(), "the list above")
        for message in messages:
            _warn(message)
        if entries:
            click.echo(render_entries(entries, gap=True), nl=False)
        return None

    from digest.files import replace_if_unchanged
    from digest.issue_edit import open_issue

    for _ in range(SAVE_ATTEMPTS):
        # Read again, and again after each save that comes in between: the file the entries go into is the
        # editor's latest, and it is replaced only while it still is (compare-and-swap).
        issue = open_issue(issue_path)
        entries, messages = _new_entries(made, set(issue.trials), issue_path)
        if not entries:
            break
        text = append_entries(issue, entries)
        if replace_if_unchanged(issue_path, issue.text.encode("utf-8"), text.encode("utf-8"), IssueError):
            break
    else:
        raise IssueError(f"changed {SAVE_ATTEMPTS} times while digest was adding the trials; nothing was written: "
                         "run digest trial again", issue_path)
    for message in messages:
        _warn(message)
    for entry in entries:
        _warn(f"Added {entry['nct_id']} ({entry['institution']}) to {issue_path}")
    return None


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


def _search(base: str, term: str, statuses: str | None, limit: int) -> None:
    from digest import ctgov

    if not term.strip():
        raise OptionError("--search needs words to look for, e.g. --search \"low dose naltrexone\"")
    wanted = []
    for text in (statuses or "").split(","):
        if not text.strip():
            continue
        value = "_".join(text.replace("-", " ").replace(",", " ").split()).upper()
        if value not in ctgov.STATUS_LABELS:
            known = ", ".join(v.lower().replace("_", "-") for v in ctgov.STATUS_LABELS)
            raise OptionError(f"{text.strip()!r} is not a study status; one of: {known}", field="--status")
        wanted.append(value)
    with ctgov.Client(base, None) as client:
        studies, total = client.search(term.strip(), wanted, limit)
    rows = [ctgov.summary_row(study) for study in studies]
    for row in rows:
        head = " · ".join(part for part in (row["status"], row["sponsor"]) if part)
        click.echo(f"{row['nct_id']}  {head}\n    {row['title']}")
    if not rows:
        _warn("No studies found.")
    elif total is not None and total > len(rows):
        _warn(f"Showing {len(rows)} of {total} studies (--limit shows more). Add one with: digest trial {rows[0]['nct_id']} --issue FILE")
    else:
        _warn(f"{len(rows)} {'study' if len(rows) == 1 else 'studies'}. Add one with: digest trial {rows[0]['nct_id']} --issue FILE")


def _warn(message: str) -> None:
    click.echo(message, err=True)
