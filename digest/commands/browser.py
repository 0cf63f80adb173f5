"""Open a page in the editor's browser, or say where it is when this machine has none."""

from __future__ import annotations

import click


def open_in_browser(url: str) -> None:
    import webbrowser

    if not webbrowser.open(url):
        click.echo(f"Open {url} in your browser (no browser could be started here).", err=True)
