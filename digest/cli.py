"""The command line: options and help only. Each command imports its work when it runs, to start fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest import __version__
from digest.exceptions import display_path

CONTEXT = {"help_option_names": ["-h", "--help"]}
existing_file = click.Path(path_type=Path, dir_okay=False)


def _version_message() -> str:
    here = Path(__file__).parent
    return f"digest {__version__} from {here} (Python {sys.version.split()[0]})"


@click.group(name="digest", context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", message=_version_message())
def cli():
    """Turn a newsletter issue file into an email that is ready to send."""


@cli.command()
@click.argument("issues", nargs=-1, required=True, type=existing_file)
@click.option("-o", "--out", "out_dir", default="build", show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write each issue's email into, as OUT/<issue>/email.html, email.txt, email.mjml.")
@click.option("--config", "config_path", type=existing_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
@click.option("--stdout", type=click.Choice(["html", "text"]), help="Print the HTML or the text part instead of writing files.")
@click.option("--open", "open_browser", is_flag=True, help="Open each built email in the browser.")
def build(issues, out_dir, config_path, stdout, open_browser):
    """Build the email for each ISSUE file."""
    from digest.commands.build import build as run

    if open_browser and stdout:
        raise click.UsageError("--open shows the built files: leave out --stdout to write them")
    for folder in run(list(issues), out_dir, config_path, stdout):
        click.echo(f"Built {folder}/email.html and email.txt", err=True)
        if open_browser:
            from digest.browser import open_in_browser

            open_in_browser((folder / "email.html").resolve().as_uri())


@cli.command()
@click.argument("issue", type=existing_file)
@click.option("--port", type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (default: 8000, or the next free one).")
@click.option("--no-open", is_flag=True, help="Do not open the browser; just print the address.")
@click.option("--config", "config_path", type=existing_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
def preview(issue, port, no_open, config_path):
    """Show ISSUE in the browser as subscribers will see it, rebuilt on every save."""
    from digest.commands.preview import preview as run

    run(issue, config_path, port, open_browser=not no_open)


@cli.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default="My Newsletter", show_default=True, help="The newsletter's name.")
def init(directory, name):
    """Start a new newsletter in DIRECTORY: digest.toml, issues/ and an example issue."""
    from digest.commands.init import init as run

    for path in run(directory, name):
        click.echo(f"Created {display_path(path)}", err=True)
    click.echo(f"Next: edit {directory / 'digest.toml'}, then run: digest build {directory / 'issues'}/*.yaml", err=True)


@cli.command()
@click.argument("title", required=False, default="")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="The issue's date (default: today).")
@click.option("--dir", "issues_dir", type=click.Path(path_type=Path, file_okay=False), help="Folder for the new issue (default: issues/ of this newsletter).")
def new(title, date_text, issues_dir):
    """Add a new issue file, dated today, with TITLE as its subject."""
    from digest.commands.new import new as run

    path = run(title, date_text, issues_dir)
    click.echo(f"Created {display_path(path)}", err=True)


def main():
    cli(prog_name="digest")
