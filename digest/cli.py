"""The command line: options and help only. Each command imports its work when it runs, to start fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest import __version__

CONTEXT = {"help_option_names": ["-h", "--help"]}
existing_file = click.Path(path_type=Path, dir_okay=False)


def _version_message() -> str:
    here = Path(__file__).parent
    return f"digest {__version__} from {here} (Python {sys.version.split()[0]})"


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", message=_version_message())
def cli():
    """Turn a newsletter issue file into an email that is ready to send."""


@cli.command()
@click.argument("issues", nargs=-1, required=True, type=existing_file)
@click.option("-o", "--out", "out_dir", default="build", show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write each issue's email into, as OUT/<issue>/email.html, email.txt, email.mjml.")
@click.option("--config", "config_path", type=existing_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
@click.option("--stdout", type=click.Choice(["html", "text"]), help="Print the HTML or the text part instead of writing files.")
@click.option("--platform", metavar="NAME", help="The mail platform whose merge tags the email carries: mailchimp, brevo, "
              "mailerlite, campaign-monitor, sendgrid, buttondown, listmonk or generic (default: platform in digest.toml, else generic).")
@click.option("--eml", is_flag=True, help="Also write email.eml, the whole message, to open in a mail program or send with 'digest send'.")
@click.option("--copy", type=click.Choice(["html", "text"]), help="Also put the HTML or the text part on the clipboard, to paste into the platform.")
def build(issues, out_dir, config_path, stdout, platform, eml, copy):
    """Build the email for each ISSUE file."""
    from digest.commands.build import build as run

    for folder in run(list(issues), out_dir, config_path, stdout, platform=platform, eml=eml, copy=copy):
        click.echo(f"Built {folder}/email.html and email.txt{' and email.eml' if eml else ''}", err=True)
    if copy:
        click.echo(f"Copied the {'HTML' if copy == 'html' else 'text part'} to the clipboard", err=True)


@cli.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default="My Newsletter", show_default=True, help="The newsletter's name.")
def init(directory, name):
    """Start a new newsletter in DIRECTORY: digest.toml, issues/ and an example issue."""
    from digest.commands.init import init as run

    for path in run(directory, name):
        click.echo(f"Created {path}", err=True)
    click.echo(f"Next: edit {directory / 'digest.toml'}, then run: digest build {directory / 'issues'}/*.yaml", err=True)


@cli.command()
@click.argument("title", required=False, default="")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="The issue's date (default: today).")
@click.option("--dir", "issues_dir", type=click.Path(path_type=Path, file_okay=False), help="Folder for the new issue (default: issues/ of this newsletter).")
def new(title, date_text, issues_dir):
    """Add a new issue file, dated today, with TITLE as its subject."""
    from digest.commands.new import new as run

    path = run(title, date_text, issues_dir)
    click.echo(f"Created {path}", err=True)


@cli.command()
@click.argument("issue", type=existing_file)
@click.option("--to", "recipients", multiple=True, required=True, metavar="ADDR", help="Who gets the test copy (repeat for more).")
@click.option("--smtp", "server", default="localhost", show_default=True, metavar="HOST[:PORT]",
              help="The mail server (port default: 465 with --ssl, 587 with --starttls, else 25).")
@click.option("--starttls", "security", flag_value="starttls", help="Switch the connection to TLS with STARTTLS.")
@click.option("--ssl", "security", flag_value="ssl", help="Connect with TLS from the start.")
@click.option("--user", help="Log in as USER; the password comes from DIGEST_SMTP_PASSWORD, else a hidden prompt.")
@click.option("-o", "--out", "out_dir", default="build", show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="The folder 'digest build --eml' wrote to.")
def send(issue, recipients, server, security, user, out_dir):
    """Send a test copy of ISSUE's built email.eml (made by 'digest build --eml')."""
    from digest.commands.send import send as run

    run(issue, list(recipients), server, security, user, out_dir)
    click.echo(f"Sent a test copy to {', '.join(recipients)}", err=True)


def main():
    cli(prog_name="digest")
