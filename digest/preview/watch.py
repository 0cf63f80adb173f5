"""Rebuild on every save of the issue, digest.toml, the theme, or an image the email uses (with watchfiles)."""

from __future__ import annotations

import threading
from pathlib import Path


def start_watching(preview, on_change, stop: threading.Event, on_error) -> list[threading.Thread]:
    """Call `on_change()` after each save, from background threads, until `stop` is set; `on_error(line)`
    if a watch ends early.

    Returns once the watches are in place, so a save made right after is never missed.
    """
    issue, config = preview.issue_path.resolve(), preview.config_path.resolve()
    themes = preview.themes

    def wanted(change, path: str) -> bool:
        path = Path(path)
        return path in (issue, config) or path in preview.image_sources() or any(path.is_relative_to(t) for t in themes)

    # Folders, not files: an editor that saves by writing a new file and renaming it over the old one
    # replaces the file, and a watch on the old file would hear nothing after the first save.
    # The issue's and the newsletter's folders are watched without their subfolders (the newsletter folder
    # may hold a .venv of thousands); the themes with them (icons/, new/).
    flat = {issue.parent, config.parent} | {source.parent for source in preview.image_sources()}
    flat = {folder for folder in flat if not any(folder.is_relative_to(t) for t in themes)}
    groups = [(sorted(flat), False), (themes, True)]
    stops = [_Stop(stop) for _ in groups]
    threads = [
        threading.Thread(target=_watch, args=(folders, recursive, wanted, on_change, on_error, group_stop), daemon=True)
        for (folders, recursive), group_stop in zip(groups, stops)
    ]
    for thread in threads:
        thread.start()
    for group_stop in stops:
        group_stop.ready.wait(timeout=5)
    return threads


def _watch(folders, recursive, wanted, on_change, on_error, stop) -> None:
    from watchfiles import watch

    # step: how long the folder must be quiet before a build starts, so one save is one build.
    try:
        for _ in watch(*folders, watch_filter=wanted, recursive=recursive, stop_event=stop, step=30, raise_interrupt=False):
            on_change()
    except Exception as exc:  # a watched folder deleted, or the system's limit on watches reached
        stop.ready.set()
        on_error(f"digest preview: no longer sees saves in {', '.join(map(str, folders))} ({exc}); restart it")


class _Stop:
    """The stop event watchfiles polls. It first polls it once the watch is in place: then `ready` is set."""

    def __init__(self, stop: threading.Event):
        self.stop, self.ready = stop, threading.Event()

    def is_set(self) -> bool:
        self.ready.set()
        return self.stop.is_set()
