"""Rebuild on every save of the issue, digest.toml, the theme, or an image the email uses (with watchfiles)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from digest.theme import OWN, named_theme


def start_watching(preview, on_change, stop: threading.Event, on_error) -> list[threading.Thread]:
    """Call `on_change()` after each save, from background threads, until `stop` is set; `on_error(line)`
    if a watch ends early.

    Returns once the watches are in place, so a save made right after is never missed. The list returned
    gains the threads of the theme's watch each time it follows the theme to other folders.
    """
    issue, config = preview.issue_path.resolve(), preview.config_path.resolve()
    own = config.parent / OWN  # the newsletter's templates/, which the editor may make while the preview runs
    threads: list[threading.Thread] = []
    themes = {"stop": None}  # the watch of the theme's folders now running: replaced when they change
    following = threading.Lock()

    def wanted(change, path: str) -> bool:
        path = Path(path)
        return path in (issue, config, own) or path in preview.image_sources() \
            or any(path.is_relative_to(t) for t in preview.themes) or path.parent == config.parent and named(path)

    def named(path: Path) -> bool:
        """Whether `path` is (or holds) the theme folder digest.toml names: made after it was named, by `digest
        theme copy default --to mytheme` say, while the page says there is no such theme."""
        try:
            named = config.parent / named_theme(config)
            # As typed, and where links lead: the folder may be a link made to a theme elsewhere.
            return Path(os.path.normpath(named)).is_relative_to(path) or named.resolve().is_relative_to(path)
        except (OSError, RuntimeError, ValueError):
            return False

    def changed() -> None:
        on_change()
        with following:
            if not preview.follow_theme():
                return
            themes["stop"].stop_own.set()
            watch_themes()
        on_change()  # again, now that the new folders are watched: a save made in between is not missed

    def watch_themes() -> None:
        group_stop = _Stop(stop)
        themes["stop"] = group_stop
        thread = threading.Thread(target=_watch, args=(preview.themes, True, wanted, changed, on_error, group_stop), daemon=True)
        threads.append(thread)
        thread.start()
        group_stop.ready.wait(timeout=5)

    # Folders, not files: an editor that saves by writing a new file and renaming it over the old one
    # replaces the file, and a watch on the old file would hear nothing after the first save.
    # The issue's and the newsletter's folders are watched without their subfolders (the newsletter folder
    # may hold a .venv of thousands); the themes with them (icons/, new/).
    flat = {issue.parent, config.parent} | {source.parent for source in preview.image_sources()}
    flat = sorted(folder for folder in flat if not any(folder.is_relative_to(t) for t in preview.themes))
    flat_stop = _Stop(stop)
    thread = threading.Thread(target=_watch, args=(flat, False, wanted, changed, on_error, flat_stop), daemon=True)
    threads.append(thread)
    thread.start()
    flat_stop.ready.wait(timeout=5)
    watch_themes()
    return threads


def _watch(folders, recursive, wanted, on_change, on_error, stop) -> None:
    from watchfiles import watch

    # step: how long the folder must be quiet before a build starts, so one save is one build.
    try:
        for _ in watch(*folders, watch_filter=wanted, recursive=recursive, stop_event=stop, step=30, raise_interrupt=False):
            if stop.is_set():  # a theme's watch replaced by one of other folders
                return
            on_change()
    except Exception as exc:  # a watched folder deleted, or the system's limit on watches reached
        stop.ready.set()
        if not stop.is_set():
            on_error(f"digest preview: no longer sees saves in {', '.join(map(str, folders))} ({exc}); restart it")


class _Stop:
    """The stop event watchfiles polls: the preview's, or this watch's own when it is replaced. It first
    polls it once the watch is in place: then `ready` is set."""

    def __init__(self, stop: threading.Event):
        self.stop, self.stop_own, self.ready = stop, threading.Event(), threading.Event()

    def is_set(self) -> bool:
        self.ready.set()
        return self.stop.is_set() or self.stop_own.is_set()
