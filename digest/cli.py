"""The command line: options and help only. Each command imports its work when it runs, to start fast.

Exit status, one rule for every command (the group's help ends with it, and the docs say it too):

- 0: done; warnings may have been printed.
- 1: a problem with the files or the world: an input file that is missing, unreadable or not a file (the
  file's one line, `FILE: no such issue file`), a mistake in an issue or digest.toml, errors the checks
  found, a server that failed or did not answer, no clipboard.
- 2: a mistake in the command line itself: an unknown command or option, a missing argument, a value not
  of its form or not one of its choices, options that do not go together (Click's usage message, or
  `--option: what is wrong`).

So no argument is checked for existence by Click (`click.Path(exists=True)` would make a missing file a
usage error, 2): the library reads every file and says what is wrong with it.
"""

from __future__ import annotations

from digest.caches import keep_compiled_regexes, keep_dataclass_code

keep_compiled_regexes()  # before the imports below, which compile most of the patterns a run needs
keep_dataclass_code()  # and write most of the dataclasses it builds

import sys
from pathlib import Path

import click

from digest import __version__
from digest.exceptions import DigestError, display_path
from digest.starter import STARTER_NAME

CONTEXT = {"help_option_names": ["-h", "--help"]}
a_file = click.Path(path_type=Path)  # checked by whoever reads it: a missing file is 1, like any bad file
# `digest --help` lists the commands in the order an editor meets them, not alphabetically.
ORDER = ("init", "new", "trial", "preview", "check", "build", "send", "archive", "theme")
EXIT_STATUS = """\b
Exit status: 0 done (warnings may be printed); 1 a problem with a file
(missing, unreadable, a mistake in it, errors the checks found), or with
a server or the clipboard; 2 a mistake in the command line itself.
"""


def _version_message() -> str:
    here = Path(__file__).parent
    return f"digest {__version__} from {here} (Python {sys.version.split()[0]})"


class _Failed(click.ClickException):
    """A DigestError on its way out: its own line, compiler style, with no "Error:" in front."""

    def __init__(self, error: DigestError):
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


class _Group(click.Group):
    def list_commands(self, ctx):
        return sorted(self.commands, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))

    # The library raises DigestError, which knows nothing of Click: here it becomes the line and the exit code.
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            raise _Failed(exc) from None


def _examples(*lines: str) -> str:
    # \b keeps Click from joining the lines into one paragraph.
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


@click.group(name="digest", cls=_Group, context_settings=CONTEXT, epilog=EXIT_STATUS)
@click.version_option(__version__, "-V", "--version", message=_version_message())
def cli():
    """Turn a newsletter issue file into an email that is ready to send.

    Start with 'digest init', then 'digest new', 'digest preview' and 'digest build'. Every command has --help.
    """


@cli.command(short_help="Build the email to paste into your mail platform.", epilog=_examples(
    "digest build issues/2024-06-ldn-trials.yaml",
    "digest build issues/2024-06-ldn-trials.yaml --copy html",
    "digest build issues/ --platform brevo --out ~/emails",
    "digest build issues/2024-06-ldn-trials.yaml -o - > email.html"))
@click.argument("issues", nargs=-1, required=True, type=a_file)
@click.option("-o", "--out", "out_dir", default="build", show_default=True, type=click.Path(path_type=Path),
              help="Folder to write each issue's email into, as OUT/<issue>/email.html, email.txt, email.mjml; "
              "'-' prints the HTML instead (as --stdout html).")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
@click.option("--stdout", type=click.Choice(["html", "text"]), help="Print the HTML or the text part instead of writing files.")
@click.option("--platform", metavar="NAME", help="The mail platform whose merge tags the email carries: mailchimp, brevo, "
              "mailerlite, campaign-monitor, sendgrid, buttondown, listmonk or generic (default: platform in digest.toml, else generic).")
@click.option("--eml", is_flag=True, help="Also write email.eml, the whole message, to open in a mail program or send with 'digest send'.")
@click.option("--copy", type=click.Choice(["html", "text"]), help="Also put the HTML or the text part on the clipboard, to paste into the platform.")
@click.option("--force", is_flag=True, help="Write the email even when the checks find errors.")
@click.option("--open", "open_browser", is_flag=True, help="Open each built email in the browser.")
def build(issues, out_dir, config_path, stdout, platform, eml, copy, force, open_browser):
    """Build the email of each ISSUE file, after the checks of 'digest check' (without --links).

    ISSUE may be a folder: every issue file in it (*.yaml) is built. The build prints the subject and the
    preheader to paste, and where each part goes in the mail platform of digest.toml (or --platform).
    """
    from digest.commands.build import build as run

    ctx = click.get_current_context()
    if stdout and ctx.get_parameter_source("out_dir") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--stdout prints the email instead of writing it: leave out -o/--out")
    if str(out_dir) == "-":  # the field's convention: '-' is standard output
        stdout = "html"
    if stdout:
        for flag, given in (("--open", open_browser), ("--eml", eml), ("--copy", copy)):
            if given:
                raise click.UsageError(f"{flag} needs the files written: leave out {'-o -' if str(out_dir) == '-' else '--stdout'}")
    run(list(issues), out_dir, config_path, stdout, platform=platform, eml=eml, copy=copy, force=force, open_browser=open_browser)


@cli.command(short_help="Publish every issue as a website with a feed.", epilog=_examples(
    "digest archive",
    "digest archive --open",
    "digest archive issues/ --out public --no-feed"))
@click.argument("issues", nargs=-1, type=a_file)
@click.option("-o", "--out", "out_dir", default="site", show_default=True, type=click.Path(path_type=Path),
              help="Folder to write the website into (replaced whole; only a folder made by 'digest archive').")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found next to or above the first issue, or here).")
@click.option("--feed/--no-feed", default=True, show_default=True, help="Write feed.xml, an Atom feed of every issue (needs archive_url in digest.toml).")
@click.option("--open", "open_browser", is_flag=True, help="Open the index in the browser once it is written.")
@click.option("--force", is_flag=True, help="Publish even issues whose checks find errors (as 'digest build' would refuse them).")
def archive(issues, out_dir, config_path, feed, open_browser, force):
    """Write every issue (default: all of issues/; ISSUE may be a folder) as a website: an index, a page per
    issue and an Atom feed."""
    from digest.commands.archive import archive as run

    if str(out_dir) == "-":
        raise click.UsageError("a website is many files: give -o a folder, not -")
    run(list(issues), out_dir, config_path, feed=feed, open_browser=open_browser, force=force)


@cli.command(short_help="Check issues for what would embarrass you once sent.", epilog=_examples(
    "digest check issues/2024-06-ldn-trials.yaml",
    "digest check --links issues/",
    "digest check --format json --strict issues/"))
@click.argument("issues", nargs=-1, required=True, type=a_file)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to print the findings: lines for people, or JSON for other tools (see docs/checking.md).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, not only on errors.")
@click.option("--links", is_flag=True, help="Also visit every web address in the email and report broken or moved ones.")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
@click.option("--platform", metavar="NAME", help="Check for this mail platform's merge tags (default: platform in digest.toml, else generic).")
def check(issues, fmt, strict, links, config_path, platform):
    """Check each ISSUE (a file, or a folder of them) for what would embarrass the newsletter once sent.

    Exits 0 when all is well, 1 on errors (on warnings too with --strict) or an issue that cannot be read,
    2 on bad usage.
    """
    from digest.commands.check import check as run

    sys.exit(run(list(issues), config_path, fmt, strict, links, platform))


@cli.command(short_help="Show an issue in the browser, live as you edit it.", epilog=_examples(
    "digest preview issues/2024-06-ldn-trials.yaml",
    "digest preview issues/2024-06-ldn-trials.yaml --port 8080 --no-open"))
@click.argument("issue", type=a_file)
@click.option("--port", type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (default: 8000, or the next free one).")
@click.option("--no-open", is_flag=True, help="Do not open the browser; just print the address.")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
def preview(issue, port, no_open, config_path):
    """Show ISSUE in the browser as subscribers will see it, rebuilt on every save. Ctrl-C stops it."""
    from digest.commands.preview import preview as run

    run(issue, config_path, port, open_browser=not no_open)


@cli.command(short_help="Start a newsletter: digest.toml and a first issue.", epilog=_examples(
    "digest init",
    "digest init ldn-news --name \"LDN Trials News\""))
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--name", default=STARTER_NAME, show_default=True, help="The newsletter's name.")
def init(directory, name):
    """Start a new newsletter in DIRECTORY (default: here): digest.toml, issues/ and a first issue."""
    from digest.commands.init import init as run

    config, issue = run(directory, name)
    for path in (config, issue):
        click.echo(f"Created {display_path(path)}", err=True)
    click.echo(f"Next: put your newsletter's details in {display_path(config)}; write the issue while you watch it with\n"
               f"  digest preview {display_path(issue)}\n"
               f"then check and build it: digest check {display_path(issue)} && digest build {display_path(issue)}", err=True)


@cli.command(short_help="Add an issue file, dated today.", epilog=_examples(
    "digest new \"LDN trials in June\"",
    "digest new \"July news\" --date 2024-07-02"))
@click.argument("title", required=False, default="")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="The issue's date (default: today).")
@click.option("--dir", "issues_dir", type=click.Path(path_type=Path), help="Folder for the new issue (default: issues/ of this newsletter).")
def new(title, date_text, issues_dir):
    """Add a new issue file to the newsletter (digest.toml here or above), dated today, with TITLE as its
    subject."""
    from digest.commands.new import new as run

    path = run(title, date_text, issues_dir)
    click.echo(f"Created {display_path(path)}", err=True)
    click.echo(f"Next: write it while you watch it with: digest preview {display_path(path)}", err=True)


@cli.command(short_help="Add trials from ClinicalTrials.gov to an issue.", epilog=_examples(
    "digest trial NCT03008590 --issue issues/2024-06-ldn-trials.yaml",
    "digest trial --from-file ids.txt --issue issues/2024-06-ldn-trials.yaml",
    "digest trial --search \"low dose naltrexone\" --status recruiting"))
@click.argument("ids", nargs=-1, metavar="[NCT_ID]...")
@click.option("--issue", "issue_path", type=a_file, help="The issue file to add the trials to, after its last entry (default: print the entries).")
@click.option("--section", metavar="NAME", help="With --issue: add them to the section with this heading (made if the issue has no such section).")
@click.option("--from-file", type=a_file, help="Read NCT ids from this file, one a line (blank lines and # notes are ignored).")
@click.option("--max-chars", default=600, show_default=True, type=click.IntRange(min=100),
              help="Longest quote from the study's summary; it is cut after a whole sentence.")
@click.option("--quote", type=click.Choice(["brief", "detailed"]), default="brief", show_default=True,
              help="Quote the study's brief summary or its detailed description.")
@click.option("--search", metavar="WORDS", help="List the studies that match WORDS instead of adding any.")
@click.option("--status", "statuses", metavar="STATUS", help="With --search: only studies with this status, e.g. recruiting (several: recruiting,completed).")
@click.option("--limit", type=click.IntRange(1, 1000), help="With --search: how many studies to list.  [default: 20]")
@click.option("--new", is_flag=True, help="With --search: every matching study first posted or updated since the last issue, "
              "less the trials any issue already has.")
@click.option("--updates", is_flag=True, help="What changed (status, results, phase, enrolment) in each trial the issues have "
              "featured, since the issue that featured it; with --issue, an entry for each in an updates section.")
@click.option("--since", metavar="YYYY-MM-DD", help="With --new: from this day instead of the newest issue's date. "
              "With --updates: only trials whose record was updated on or after it.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With --new or --updates: a table and lines for people, or JSON for scripts.")
@click.option("--refresh", is_flag=True, help="Fetch the studies again, even those saved by an earlier run.")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
def trial(ids, issue_path, section, from_file, max_chars, quote, search, statuses, limit, new, updates, since, fmt, refresh, config_path):
    """Add an entry for each trial (NCT id) from ClinicalTrials.gov to an issue, --search for trials, list the
    --new ones since the last issue, or the --updates of those already covered.

    Studies are fetched from https://clinicaltrials.gov, or from clinicaltrials_api in digest.toml; the
    environment variable DIGEST_CTGOV_URL, when set, wins over both (a mirror, or a test server).
    """
    from digest.commands.trial import trial as run

    run(list(ids), from_file, issue_path, config_path, max_chars, search, statuses, limit, refresh, quote,
        new=new, since=since, updates=updates, fmt=fmt, section=section)


@cli.command(short_help="Send yourself a test copy of an issue.", epilog=_examples(
    "digest send issues/2024-06-ldn-trials.yaml --to you@example.org",
    "digest send issues/2024-06.yaml --to you@example.org \\",
    "    --smtp smtp.example.org:587 --starttls --user you"))
@click.argument("issue", type=a_file)
@click.option("--to", "recipients", multiple=True, required=True, metavar="ADDR", help="Who gets the test copy (repeat for more).")
@click.option("--smtp", "server", default="localhost", show_default=True, metavar="HOST[:PORT]",
              help="The mail server (port default: 465 with --ssl, 587 with --starttls, else 25).")
@click.option("--starttls", "security", flag_value="starttls", help="Switch the connection to TLS with STARTTLS.")
@click.option("--ssl", "security", flag_value="ssl", help="Connect with TLS from the start.")
@click.option("--user", help="Log in as USER; the password comes from DIGEST_SMTP_PASSWORD, else a hidden prompt.")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found next to or above the issue).")
@click.option("--platform", metavar="NAME", help="Send it with this mail platform's tags (default: platform in digest.toml).")
@click.option("--force", is_flag=True, help="Send even when the checks find errors.")
@click.option("--raw", is_flag=True, help="Keep the platform's tags as they are (*|UNSUB|*) instead of sample values.")
def send(issue, recipients, server, security, user, config_path, platform, force, raw):
    """Build ISSUE as it is now and send it as a test copy, its merge tags filled with sample values."""
    from digest.commands.send import send as run

    run(issue, list(recipients), server, security, user, config_path, platform, force, raw)
    click.echo(f"Sent a test copy to {', '.join(recipients)}", err=True)


@cli.group(context_settings=CONTEXT, short_help="List the themes, or copy one to restyle.", epilog=_examples(
    "digest theme list",
    "digest theme copy",
    "digest theme copy plain --to my-theme"))
def theme():
    """The built-in themes, and copies of them to restyle (see the Themes page of the docs)."""


@theme.command("list", short_help="List the themes, and the one this newsletter uses.", epilog=_examples(
    "digest theme list",
    "digest theme list --config ~/ldn-news/digest.toml"))
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found in this folder or above it).")
def theme_list(config_path):
    """List the built-in themes, and say which theme this newsletter uses and what its templates/ overrides."""
    from digest.commands.theme import list_themes

    list_themes(config_path)


@theme.command("copy", short_help="Copy a built-in theme into the newsletter to edit.", epilog=_examples(
    "digest theme copy",
    "digest theme copy plain",
    "digest theme copy plain --to my-theme"))
@click.argument("name", required=False)
@click.option("--to", "destination", type=click.Path(path_type=Path),
              help="Folder to copy it into (default: templates/ next to digest.toml, whose files override the theme's).")
@click.option("--config", "config_path", type=a_file, help="The newsletter's digest.toml (default: found in this folder or above it).")
def theme_copy(name, destination, config_path):
    """Copy the built-in theme NAME (default: the newsletter's) to edit, never over a file that is there."""
    from digest.commands.theme import copy

    copy(name, destination, config_path)


def main():
    cli(prog_name="digest")
