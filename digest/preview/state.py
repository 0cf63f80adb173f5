"""The issue being previewed: its last good build, the error of the last save if it broke, and who to tell."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from digest.exceptions import DigestError, where
from digest.theme import watched_folders


class Preview:
    def __init__(self, issue_path: Path, config_path: Path):
        self.issue_path, self.config_path = issue_path, config_path
        self.follow_theme()
        self.email = None  # the last good build; kept while a save is broken
        self.frames: dict[str, str] = {}
        self.assets: dict[str, Path] = {}
        self.version = 0  # counts every build, good or not
        self.email_version = 0  # counts good builds: the page reloads its frame when this changes
        self.closed = False
        # Tells the page a restarted preview from the one it saw: its counts start again from 1.
        self.run = time.time_ns()
        self._state = {"version": 0, "email_version": 0, "error": None, "run": self.run}
        self._state_json = json.dumps(self._state)
        self._build_lock = threading.Lock()
        self._changed = threading.Condition()

    def rebuild(self) -> tuple[bool, str]:
        """Build the issue with `digest build`'s own function; returns (ok, a line for the terminal)."""
        import digest
        from digest.checks.delivery import GMAIL_CLIP_BYTES
        from digest.preview.frame import frame_html

        with self._build_lock:
            start = time.perf_counter()
            error = None
            try:
                email = digest.build(self.issue_path, config=self.config_path)
                frames = {scheme: frame_html(email, scheme) for scheme in ("light", "dark")}
            except DigestError as exc:
                error = str(exc)
            except Exception as exc:  # a bug in a theme or in digest must not end the preview; the next save retries
                error = f"{where(self.issue_path)}: the build failed unexpectedly ({type(exc).__name__}: {exc})"
            elapsed_ms = round((time.perf_counter() - start) * 1000)
            with self._changed:
                self.version += 1
                if error is None:
                    self.email, self.frames, self.email_version = email, frames, self.email_version + 1
                    self.assets = {image.path: image.source for image in email.images}
                    issue = email.issue
                    self._state = {
                        "sender": email.newsletter.name if email.newsletter else "",
                        "subject": issue.subject,
                        "preheader": issue.preheader,
                        "date": f"{issue.date.day} {issue.date:%b %Y}",
                        "size": len(email.html.encode("utf-8")),
                        "clip": GMAIL_CLIP_BYTES,
                        "links": [{"text": link.text, "href": link.href} for link in email.page.links],
                        "findings": [_finding(f, self.issue_path) for f in email.findings],
                        "build_ms": elapsed_ms,
                    }
                self._state.update(version=self.version, email_version=self.email_version, error=error, run=self.run,
                                   issue=where(self.issue_path), time=time.strftime("%H:%M:%S"))
                self._state_json = json.dumps(self._state)
                self._changed.notify_all()
        return error is None, error or f"Built {where(self.issue_path)} in {elapsed_ms} ms"

    def follow_theme(self) -> bool:
        """Find the theme's folders again (a templates/ folder made, digest.toml naming another theme);
        True when they changed, and the watch must follow them."""
        try:
            themes = watched_folders(self.config_path)  # the theme's folders, which the watch follows too
        except (OSError, RuntimeError):  # digest.toml's theme a loop of links, unreadable …: the page says so
            if not hasattr(self, "themes"):
                raise
            return False  # the watch goes on where it was, and a fixed digest.toml is heard
        if themes == getattr(self, "themes", None):
            return False
        self.themes = themes
        # The only folders a request may read from: the issue's, the newsletter's, and the themes'.
        self.roots = tuple({p.resolve() for p in (self.issue_path.parent, self.config_path.parent, *themes)})
        return True

    def state_json(self) -> str:
        with self._changed:
            return self._state_json

    def wait(self, seen: int | None, timeout: float) -> tuple[int, str] | None:
        """The state once its version differs from `seen` (at once if it already does); None on timeout or close."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen or self.closed, timeout)
            if self.closed or self.version == seen:
                return None
            return self.version, self._state_json

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def asset(self, path: str) -> Path | None:
        """The file behind an image of the current email, or None.

        Only images the email itself uses are served, and only while they really are files inside the
        issue's, newsletter's or theme's folder: a symlink swapped in since the build is checked again here.
        """
        source = self.assets.get(path)
        if source is None:
            return None
        real = source.resolve()
        if not real.is_file() or not any(real.is_relative_to(root) for root in self.roots):
            return None
        return real

    def image_sources(self) -> set[Path]:
        """Each image of the email where its path leads, and where its path is (its folder's links followed):
        a file replaced by a link to another is a save at the second."""
        return {path for source in self.assets.values() for path in (source.resolve(), source.parent.resolve() / source.name)}


def _finding(finding, issue_path: Path) -> dict:
    """A finding as the page lists it: where (file and line, as the terminal shows them) and what."""
    from digest.model import BUILT_PARTS

    if finding.path in BUILT_PARTS:
        place = f"{finding.path}:{finding.line}" if finding.line else finding.path
    else:
        place = where(finding.path if finding.path is not None else issue_path, finding.line, finding.field)
    return {"id": finding.id, "severity": finding.severity, "where": place, "line": finding.line,
            "field": finding.field, "message": finding.message}
