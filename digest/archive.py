"""Every issue of a newsletter as a static website with an Atom feed: the library behind `digest archive`.

read (digest.toml and every issue, with the readers `digest build` uses) -> model (`Site`: the issues newest
first) -> render (the theme's web templates, feedgen for the feed) -> write (a page whose bytes have not
changed is a hard link to the old site's file, not a new file; the whole folder is swapped in at once).

Nothing here prints. An unchanged rebuild reads no issue: the inputs' fingerprint matches the manifest kept
in the site folder, and the site is left as it is.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from digest.exceptions import BuildError, ConfigError, DigestError, IssueError, display_path
from digest.files import expand_folders, issue_files

if TYPE_CHECKING:  # an unchanged rebuild imports as little as it can
    from digest.model import Issue, Newsletter

PER_PAGE = 50  # issues on one page of the index: page 1 is index.html, the next ones page/2/index.html, …
MANIFEST = ".digest-archive.json"  # in the site folder: what the site was built from, and each file's hash
MANIFEST_VERSION = 1
WEB = "web/"  # the theme's folder of web templates, beside the email's


class UnreadableIssues(IssueError):
    """Issues that could not be read: every one of them is in `errors`, and nothing was written."""

    def __init__(self, errors: list[DigestError], total: int):
        self.errors = errors
        super().__init__(f"{len(errors)} of {total} issue{'s' if total != 1 else ''} could not be read, so nothing was written")


class IssuesWithErrors(BuildError):
    """Issues whose checks found errors, as (issue file, finding) in `findings`; nothing was written."""

    def __init__(self, findings: list):
        self.findings = findings
        n = len(findings)
        super().__init__(f"{n} error{'s' if n != 1 else ''} found, so nothing was written: fix {'it' if n == 1 else 'them'}, or use --force "
                         "to publish anyway")


@dataclass(frozen=True)
class Site:
    newsletter: Newsletter
    issues: tuple[Issue, ...]  # newest first
    feed: bool  # write feed.xml

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.issues) // PER_PAGE))


@dataclass(frozen=True)
class Built:
    folder: Path
    issues: int
    pages: int  # pages of the index
    feed: bool
    written: int  # files written anew
    unchanged: int  # files kept as they were
    archive_url: str | None


def build_site(out_dir: str | os.PathLike, issue_paths: list[Path] | None = None, *,
               config: str | os.PathLike | None = None, feed: bool = True, force: bool = False) -> Built:
    """Write the archive of `issue_paths` (default: every issue file in the newsletter's issues/) to `out_dir`.

    Raises UnreadableIssues (all the issues that failed, at once), IssuesWithErrors (what the checks of
    `digest build` refuse, unless `force`) or a DigestError; in each case nothing is written. `config` is
    digest.toml (default: found next to or above the first issue, or the current folder).
    """
    from digest.config import required_config
    from digest.writer import clear_leftovers

    out_dir = Path(out_dir)
    start = Path(issue_paths[0]).parent if issue_paths else Path(".")
    config_path = Path(config) if config is not None else required_config(start, start)
    root = config_path.resolve().parent
    paths = expand_folders(issue_paths, IssueError) if issue_paths else issue_files(root / "issues")
    if not paths:
        raise IssueError("has no issue files (*.yaml): nothing to publish", root / "issues")
    inputs = fingerprint(config_path, paths, feed, force)
    old = read_manifest(out_dir)
    if old is not None and old["inputs"] == inputs and _intact(out_dir, old, root):
        # What a run killed after its swap left (the old site, hidden): a full build clears it under its turn;
        # here, one old enough that no run can still be writing it.
        site = Path(os.path.realpath(out_dir))
        clear_leftovers(site.parent, site.name, older_than=3600)
        return Built(out_dir, old["issues"], old["pages"], feed, 0, len(old["files"]), old.get("archive_url"))

    from digest.config import load_config

    site = read_site(paths, load_config(config_path), feed=feed, force=force)
    files = render_site(site)
    manifest = {
        "version": MANIFEST_VERSION, "inputs": inputs, "issues": len(site.issues), "pages": site.pages,
        "archive_url": site.newsletter.archive_url,
        "images": sorted({img.path for img in (site.newsletter.logo, *(e.logo for i in site.issues for e in i.entries))
                          if img and img.source}),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    written = write_site(files, out_dir, manifest)
    return Built(out_dir, len(site.issues), site.pages, feed, written, len(files) - written, site.newsletter.archive_url)


# -- read -------------------------------------------------------------------------------------------------

def read_site(issue_paths: list[Path], newsletter: Newsletter, *, feed: bool = True, force: bool = False) -> Site:
    from digest.model import BUILT_PARTS, ERROR
    from digest.pipeline import build

    issues, errors, refused = [], [], {}
    for path in issue_paths:
        try:
            # Built and checked as `digest build` does: the web publishes what was sent, and an issue the
            # build refuses (a TODO, the starter's text, template code) was not sent.
            result = build(path, config=newsletter)
        except DigestError as exc:
            errors.append(exc)
            continue
        issues.append(result.issue)
        for finding in result.findings:
            # A mistake of digest.toml's once, not once for every issue; the email's parts are each issue's own.
            own = finding.path is None or finding.path in BUILT_PARTS
            if finding.severity == ERROR and (key := (finding, path if own else None)) not in refused:
                refused[key] = path
    if errors:
        raise UnreadableIssues(errors, len(issue_paths))
    if refused and not force:
        raise IssuesWithErrors([(path, finding) for (finding, _), path in refused.items()])
    seen: dict[str, Issue] = {}
    for issue in issues:
        first = seen.setdefault(issue.slug, issue)
        if first is not issue:
            raise IssueError(f"has the same page in the archive ({issue.slug}/) as {display_path(first.path)}: "
                             "rename one of the two files", issue.path)
    if feed and newsletter.archive_url is None:
        raise ConfigError("is missing: feed.xml needs the https:// address the archive is published at: add a line "
                          "such as archive_url = \"https://www.example.org/newsletter/\" with the settings at the top "
                          "(or leave the feed out with --no-feed)", newsletter.config_path, None, "archive_url")
    issues.sort(key=lambda i: (i.date, i.slug), reverse=True)
    return Site(newsletter, tuple(issues), feed)


# -- render -----------------------------------------------------------------------------------------------

def index_path(page: int) -> str:
    return "index.html" if page == 1 else f"page/{page}/index.html"


def render_site(site: Site) -> dict[str, bytes]:
    """Every file of the site, by its path inside the site folder."""
    from markupsafe import Markup

    from digest.platforms import FIRST_NAME
    from digest.render import environment, render_template
    from digest.theme import DEFAULT_THEME

    n = site.newsletter
    # The newsletter's templates/web/, then its theme's web/, then the default theme's (the plain theme has none).
    env = environment(tuple(dict.fromkeys((*n.theme.dirs, DEFAULT_THEME))))
    common = {"newsletter": n, "colours": n.colours, "feed": site.feed}
    files = {"style.css": render_template(env, WEB + "style.css.j2", common)}
    for page in range(1, site.pages + 1):
        root = "../" * index_path(page).count("/")
        files[index_path(page)] = render_template(env, WEB + "index.html.j2", {
            **common, "root": root, "page": page, "pages": site.pages,
            "issues": site.issues[(page - 1) * PER_PAGE: page * PER_PAGE],
            "newer_url": root + index_path(page - 1) if page > 1 else None,
            "older_url": root + index_path(page + 1) if page < site.pages else None,
            "canonical": (n.archive_url + index_path(page).removesuffix("index.html")) if n.archive_url else None,
        })
    articles = {}
    for i, issue in enumerate(site.issues):
        greeting = issue.greeting if issue.greeting and FIRST_NAME not in issue.greeting else None
        article = render_template(env, WEB + "article.html.j2", {**common, "issue": issue, "greeting": greeting})
        articles[issue.slug] = article
        files[f"{issue.slug}/index.html"] = render_template(env, WEB + "issue.html.j2", {
            **common, "root": "../", "issue": issue, "article": Markup(article),
            "newer": site.issues[i - 1] if i > 0 else None,
            "older": site.issues[i + 1] if i + 1 < len(site.issues) else None,
            "index_url": "../" + index_path(i // PER_PAGE + 1),
            "canonical": f"{n.archive_url}{issue.slug}/" if n.archive_url else None,
        })
    if site.feed:
        files["feed.xml"] = render_feed(site, articles)
    return {name: text.encode("utf-8") if isinstance(text, str) else text for name, text in files.items()}


def render_feed(site: Site, articles: dict[str, str]) -> bytes:
    """feed.xml: one Atom entry per issue, newest first. An entry's id is its page's address and its dates
    are the issue's date, so neither changes from one build to the next."""
    from feedgen.feed import FeedGenerator

    from digest import __version__

    n = site.newsletter
    feed = FeedGenerator()
    feed.id(n.archive_url)
    feed.title(n.name)
    if n.description:
        feed.subtitle(n.description)
    feed.author(name=n.organisation, uri=n.website)
    feed.link(href=n.archive_url, rel="alternate", type="text/html")
    feed.link(href=n.archive_url + "feed.xml", rel="self", type="application/atom+xml")
    feed.language(n.language)
    feed.generator("digest", __version__)
    feed.updated(_midnight(site.issues[0].date))  # else feedgen says "now", and the feed changes every build
    for issue in site.issues:
        url = f"{n.archive_url}{issue.slug}/"
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(issue.subject)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(_midnight(issue.date))
        entry.updated(_midnight(issue.date))
        entry.summary(issue.preheader)
        entry.content(articles[issue.slug], type="html")
    return feed.atom_str(pretty=True)


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc)


# -- write ------------------------------------------------------------------------------------------------

def fingerprint(config_path: Path, issue_paths: list[Path], feed: bool, force: bool = False) -> str:
    """A hash of everything the site is made from: digest itself, digest.toml, each issue file, the theme."""
    import digest
    from digest.theme import watched_folders

    # force: a site published with --force is checked again by the next run without it.
    h = hashlib.sha256(f"{MANIFEST_VERSION} {digest.__version__} feed={feed} force={force}\n".encode())
    code = Path(digest.__file__).parent
    for path in sorted(code.rglob("*.py")):  # a digest run from a checkout that has changed since
        stat = path.stat()
        h.update(os.fsencode(f"{path.relative_to(code)} {stat.st_size} {stat.st_mtime_ns}\n"))
    for path in [config_path, *issue_paths]:
        h.update(os.fsencode(f"{Path(path).resolve()}\n"))  # a name in no encoding (an old disk's) hashes too
        h.update(_input_bytes(path))
    for folder in watched_folders(config_path):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                h.update(os.fsencode(f"{path.relative_to(folder)}\n"))
                try:
                    h.update((_file_sha256(path) or "not a file").encode())
                except OSError:
                    h.update(b"\0missing")  # the full build that follows says what is wrong with it
    return h.hexdigest()


def _input_bytes(path: Path) -> bytes:
    """An issue's or digest.toml's bytes by the bounded reader: a FIFO, /dev/zero or a 3 GB file named as one
    must not hang or fill the memory before the readers get to say what it is."""
    from digest.files import read_bytes

    try:
        return read_bytes(path)
    except DigestError as exc:
        return f"\0{exc}".encode()  # the full build that follows says what is wrong with it


def read_manifest(out_dir: Path) -> dict | None:
    from digest.files import MAX_INPUT_BYTES, read_bytes

    try:  # bounded, as every read of a file digest did not just write: it may have been replaced by anything
        manifest = json.loads(read_bytes(out_dir / MANIFEST, limit=10 * MAX_INPUT_BYTES))
    except (DigestError, ValueError, RecursionError):
        return None
    keys = {"version": int, "inputs": str, "issues": int, "pages": int, "images": list, "files": dict}
    if not isinstance(manifest, dict) or any(not isinstance(manifest.get(k), t) for k, t in keys.items()):
        return None
    return manifest if manifest["version"] == MANIFEST_VERSION else None


def _intact(out_dir: Path, manifest: dict, root: Path | None = None) -> bool:
    """Every file of the site as the last build wrote it, and every logo (under `root`) still an image the
    reader takes. Any of them may have been replaced by anything since: a pipe or a device is not read, a
    file is hashed a block at a time."""
    from digest.assets import read_image

    for image in manifest["images"] if root is not None else ():
        try:
            read_image(root / image, whole=False)
        except (TypeError, ValueError):
            return False
    for name, sha in manifest["files"].items():
        try:
            if _file_sha256(out_dir / name) != sha:
                return False
        except (OSError, TypeError, ValueError):
            return False
    return True


def _file_sha256(path: Path) -> str | None:
    """The hash of a regular file's bytes; None for anything else. Opened without waiting, so a FIFO
    cannot hold the run."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        file = os.fdopen(fd, "rb") if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except BaseException:
        os.close(fd)
        raise
    if file is None:
        os.close(fd)
        return None
    with file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def write_site(files: dict[str, bytes], out_dir: Path, manifest: dict) -> int:
    """Make the new site beside the old one and swap it in whole. Returns how many files were written anew:
    the others are hard links to the old site's files, which keep their dates (an upload by rsync or the
    like sends only what changed)."""
    from digest.writer import followed, replacing, write_file

    if out_dir.is_symlink():  # site/ linked into a web server's folder, say: the new site goes where it points
        out_dir = followed(out_dir)
    # The swap would move the terminal's folder away; and '..' names no folder to make a staging one beside.
    # The guard and the write name one folder: where the path leads, links followed ('link/..' included).
    shown, out_dir = out_dir, Path(os.path.realpath(out_dir))
    if Path(os.path.realpath(os.curdir)).is_relative_to(out_dir):
        raise BuildError("is the folder you are in, or holds it, and the site would replace it whole: name a folder "
                         "for the site, such as --out site (nothing was written, nothing was removed)", shown)
    if os.path.lexists(out_dir) and not out_dir.is_dir():  # a file, a FIFO …
        raise BuildError("is a file, not a folder 'digest archive' made: choose another --out "
                         "(nothing was written, nothing was removed)", out_dir)
    _last_files(out_dir)  # before anything is made: a folder that is not the site's stops the run here
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot write the output folder ({exc.strerror})", out_dir) from None
    # As builds do: one archive at a time writes here, and what a killed one left is cleared first.
    written = 0
    try:
        with replacing(out_dir, out_dir) as staging:
            for name, data in files.items():
                destination = staging / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                if not _link_if_same(out_dir / name, data, destination):
                    write_file(staging, name, data, out_dir)
                    written += 1
            write_file(staging, MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"), out_dir)
            # Read again now that this run holds its turn: another run may have replaced the site meanwhile,
            # and its pages are not the editor's files.
            _keep_own_files(out_dir, staging, files, _last_files(out_dir))
    except OSError as exc:
        raise BuildError(f"cannot write the site ({exc.strerror})", exc.filename or out_dir) from None
    return written


def _last_files(out_dir: Path) -> dict:
    """The files of the site's last build, by its manifest: what tells the editor's own files, to be carried
    over, from the site's. Without it, none can be replaced."""
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return {}
    old = read_manifest(out_dir)
    if old is None and os.path.lexists(out_dir / MANIFEST):
        raise BuildError(f"holds a {MANIFEST} that digest cannot read (damaged, or changed by hand), so it can no "
                         "longer tell its own files from yours there: move your own files out of it and delete it, "
                         "or choose another --out (nothing was written, nothing was removed)", out_dir)
    if old is None:
        raise BuildError("is not empty and was not made by 'digest archive': choose another --out "
                         "(nothing was written, nothing was removed)", out_dir)
    return old["files"]


def _keep_own_files(out_dir: Path, staging: Path, files: dict, old: dict) -> None:
    """The editor's own files in a site digest made (a CNAME for GitHub Pages, an empty .well-known/), carried
    into the new site: the swap replaces the folder whole, and they went with it, without a word. `old`: the
    files of the last build. One the new site now needs the place of (a new issue's folder, or a file in
    it: it would be published there) stops the build."""
    folders = {parent.as_posix() for name in files for parent in Path(name).parents}  # the site's own folders
    new_folders = folders - {parent.as_posix() for name in old for parent in Path(name).parents}
    for folder, dirs, names in os.walk(out_dir):
        linked = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        empty = [] if names or dirs else [""]  # a folder of the editor's with nothing in it yet
        for name in names + linked + empty:
            path = Path(folder, name) if name else Path(folder)
            inside = path.relative_to(out_dir).as_posix()
            if inside in old or inside in (MANIFEST, "."):
                continue
            if not name and inside in folders:
                continue  # a folder of the site's, emptied: the new site fills it again
            parents = {p.as_posix() for p in Path(inside).parents}
            if inside in files or inside in folders or parents & set(files) or parents & new_folders:
                raise BuildError(f"holds {inside}, which is not the site's own, and the site now needs its place: "
                                 "move it away (nothing was written, nothing was removed)", out_dir)
            destination = staging / inside
            if not name:
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                os.symlink(os.readlink(path), destination)
            else:
                try:
                    os.link(path, destination)
                except OSError:  # no hard link here: a copy, with its mode and date (a FIFO is not read)
                    if path.is_file():
                        shutil.copy2(path, destination)
    for folder, _, _ in os.walk(staging):  # the editor's folders keep their own mode (a 0700 stays 0700)
        inside = Path(folder).relative_to(staging)
        if inside != Path(".") and inside.as_posix() not in folders and (out_dir / inside).is_dir():
            shutil.copystat(out_dir / inside, folder)


def _link_if_same(old: Path, data: bytes, destination: Path) -> bool:
    try:
        if old.stat().st_size != len(data) or old.read_bytes() != data:
            return False
        os.link(old, destination)
    except OSError:  # no old file, or a file system without hard links: write it
        return False
    return True
