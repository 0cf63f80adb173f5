"""`digest preview`: serve an issue on 127.0.0.1 and rebuild it on every save, until Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path

import click

from digest.config import config_for


def preview(issue_path: Path, config_path: Path | None, port: int | None, open_browser: bool) -> None:
    # Ctrl-C, or a polite kill (SIGTERM), stops the server the same clean way, whenever it comes: the
    # handler is in place before the address is printed, since whoever reads it may stop us right away.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with running(issue_path, config_path, port) as server:
            click.echo(f"Previewing {issue_path} at {server.url}")
            click.echo("It rebuilds on every save of the issue, digest.toml or the theme. Press Ctrl-C to stop.", err=True)
            if open_browser:
                from digest.commands.browser import open_in_browser

                open_in_browser(server.url)
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("Stopped the preview.", err=True)


@contextlib.contextmanager
def running(issue_path: Path, config_path: Path | None = None, port: int | None = None, report=None):
    """A preview server, watching and serving in background threads while the `with` block runs."""
    from digest.preview.server import bind
    from digest.preview.state import Preview
    from digest.preview.watch import start_watching

    # Without the issue file or digest.toml there is nothing to watch; any other error shows in the page.
    config_path = config_for(issue_path, config_path)
    report = report or _report
    shown = Preview(issue_path, config_path)
    report(*shown.rebuild())
    server = bind(shown, port)
    server.start()
    stop = threading.Event()
    watchers = []
    try:
        watchers = start_watching(shown, lambda: report(*shown.rebuild()), stop, lambda line: click.echo(line, err=True))
        yield server
    finally:
        stop.set()
        server.close()
        for thread in watchers:
            thread.join(timeout=2)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _report(ok: bool, line: str) -> None:
    suffix = "" if ok else "  (shown in the page too; fix it and save again)"
    click.echo(f"{time.strftime('%H:%M:%S')} {line}{suffix}", err=True)
