"""`digest check --links`: visit every web address of an issue, politely, and say which are broken or moved.

httpx does the HTTP (redirects, timeouts, a bounded connection pool); a small thread pool runs the checks side
by side, at most `per_host` at once to any one site and `delay` seconds apart, so a newsletter with twenty
links to one registry does not hammer it. Links found fine are remembered for an hour in a JSON cache, so a
re-run while the editor fixes the broken ones asks again only about those.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from digest.checks.base import of_url
from digest.checks.links import is_merge_tag
from digest.exceptions import DigestError
from digest.files import MAX_INPUT_BYTES, read_bytes, write_atomically
from digest.model import ERROR, INFO, WARNING, Finding, Result
from digest.platforms import platform_tags

CACHE_ENV = "DIGEST_LINK_CACHE"  # a file path; tests and CI point it away from the user's cache
CACHE_SECONDS = 3600
TIMEOUT = 10.0  # seconds for a link, however slowly its site answers (and for each read within)
MAX_CONNECTIONS = 8
PER_HOST = 2
MAX_REDIRECTS = 20  # as browsers follow: a chain longer than that never reaches a page in one
DELAY = 0.1  # seconds between two requests to the same host
PERMANENT = (301, 308)
# Where HEAD is refused or not implemented, GET tells the truth; some sites also answer HEAD wrongly with 403/404.
HEAD_REFUSED = range(400, 600)


@dataclass(frozen=True)
class LinkResult:
    url: str
    ok: bool
    status: int | None = None  # the final HTTP status
    final_url: str | None = None  # where redirects ended, when they did
    redirect: int | None = None  # the first redirect's status (301, 302 …), when there was one
    problem: str | None = None  # why the link is broken, for an editor
    cached: bool = False
    content_type: str | None = None  # of the final answer, without parameters: "image/png"


def urls_to_check(result: Result) -> list[str]:
    """Every http(s) address of the email: its links, and its images, the ones to upload included (are they
    there yet?)."""
    tags = platform_tags(result.platform)
    found = [link.href for link in result.page.links if not is_merge_tag(link.href, tags)]
    found += [img.attrs.get("src", "") for img in result.page.images]
    return [url for url in dict.fromkeys(found) if urlsplit(url).scheme.lower() in ("http", "https")]


def check_urls(
    urls: list[str],
    *,
    timeout: float = TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    per_host: int = PER_HOST,
    delay: float = DELAY,
    cache_path: Path | None = None,
    progress: Callable[[LinkResult], None] | None = None,
    images: frozenset[str] = frozenset(),
) -> dict[str, LinkResult]:
    """Visit each of `urls` (HEAD, else GET for the headers alone), at most `max_connections` at once and
    `per_host` to one site. `images`: those of `urls` that must answer with an image; an answer that is no
    image is not kept in the cache, as a broken link is not (it is uploaded next)."""
    import httpx

    from digest import __version__

    cache = _Cache(cache_path or default_cache_path())
    results: dict[str, LinkResult] = {}
    todo = []
    for url in dict.fromkeys(urls):
        hit = cache.get(url)
        if hit is not None:
            results[url] = hit
            if progress:
                progress(hit)
        else:
            todo.append(url)
    if todo:
        from digest import fetch

        hosts: dict[str, _Host] = {}
        for url in todo:
            hosts.setdefault(_host(url), _Host(per_host, delay))
        client = fetch.client(
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": f"digest/{__version__} (newsletter link check)"},
            event_hooks={"response": [_note_location]},
        )
        with client, ThreadPoolExecutor(max_workers=max_connections) as pool:
            futures = {pool.submit(_visit, client, url, hosts[_host(url)], timeout): url for url in todo}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as exc:  # one link that trips up httpx must not cost the others their results
                    result = LinkResult(futures[future], False, problem=f"could not be checked ({type(exc).__name__}: {exc})")
                results[result.url] = result
                if progress:
                    progress(result)
        cache.save(r for r in results.values() if r.url not in images or not r.content_type or r.content_type.startswith("image/"))
    return {url: results[url] for url in dict.fromkeys(urls)}


class _Host:
    """At most `per_host` requests at once to one host, each starting `delay` seconds after the one before."""

    def __init__(self, per_host: int, delay: float):
        self.slots = threading.Semaphore(per_host)
        self.lock = threading.Lock()
        self.delay, self.next_start = delay, 0.0
        self.silent = False  # one visit found no answer in time: the others would wait as long, in turn

    def __enter__(self):
        self.slots.acquire()
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + self.delay
        time.sleep(start - now)

    def __exit__(self, *exc):
        self.slots.release()


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # such as an unclosed [ of an IPv6 address
        return ""


def _visit(client, url: str, host: _Host, timeout: float) -> LinkResult:
    import httpx

    from digest import fetch

    answered = False
    _seen.location = None
    try:
        with host, fetch.deadline(timeout):  # the whole visit, HEAD, GET and redirects, within `timeout`
            if host.silent:  # 16 links to a silent site took 16 / 2 × 10 s
                return LinkResult(url, False, problem=f"could not be reached: the site took no connection within "
                                                      f"{timeout:g} seconds for another link")
            response = client.head(url)  # a HEAD answer has no body, its redirects' neither
            history = response.history
            answered = True
            if response.status_code in HEAD_REFUSED:
                response, history = _get_headers(client, url)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError, ValueError) as exc:
        if _seen.location is not None:  # the address typed was asked: where it leads is no address
            return LinkResult(url, False, problem=f"redirects to {_seen.location[:200]}, an address no browser "
                                                  f"opens ({exc})")
        return LinkResult(url, False, problem=f"is not a valid web address ({exc})")
    except httpx.TooManyRedirects:
        return LinkResult(url, False, problem=f"redirects more than {MAX_REDIRECTS} times (in a loop, or further than "
                                              "a browser follows) and never reaches a page")
    except httpx.TimeoutException as exc:
        # A site that takes no connection at all takes none for its other links either; one slow page, or a
        # redirect to another site, says nothing about them.
        # Only the first connection of a visit: a later one may fail for the visit's own deadline, spent on
        # a slow answer before it.
        request = getattr(exc, "_request", None)
        if isinstance(exc, httpx.ConnectTimeout) and not answered and request is not None and request.url == httpx.URL(url):
            host.silent = True
        return LinkResult(url, False, problem=f"did not answer within {timeout:g} seconds")
    except httpx.ConnectError as exc:
        if "name or service not known" in str(exc).lower() or "nodename nor servname" in str(exc).lower() \
                or "name resolution" in str(exc).lower():
            return LinkResult(url, False, problem=f"the site {urlsplit(url).hostname} could not be found "
                                                  "(no such name, or this computer is offline)")
        return LinkResult(url, False, problem="the site refused the connection or could not be reached")
    except httpx.HTTPError as exc:
        return LinkResult(url, False, problem=f"could not be checked ({type(exc).__name__}: {exc})")
    redirect = history[0].status_code if history else None
    final = str(response.url) if history else None
    status = response.status_code
    if 300 <= status < 400:  # a redirect that names no page (no Location) ends here: nowhere to read
        return LinkResult(url, False, status, final, redirect, problem=f"the site answers {status} but names no "
                                                                       "page to go to")
    if status >= 400:
        reason = response.reason_phrase or "error"
        return LinkResult(url, False, status, final, redirect, problem=f"the site answers {status} {reason}")
    content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower() or None
    return LinkResult(url, True, status, final, redirect, content_type=content_type)


_seen = threading.local()  # the Location of the last redirect this thread's visit was answered with


def _note_location(response) -> None:
    if response.is_redirect:
        _seen.location = response.headers.get("location")


def _get_headers(client, url: str):
    """GET for the headers alone, its redirects followed here: httpx reads the whole body of each redirect it
    follows itself, and a redirect whose body never ends filled the memory (3.7 GB from one link)."""
    import httpx

    history = []
    for _ in range(MAX_REDIRECTS + 1):
        with client.stream("GET", url, follow_redirects=False) as response:  # the body is never read
            if response.next_request is None:
                return response, history
            history.append(response)
            url = response.next_request.url
    raise httpx.TooManyRedirects("too many redirects", request=response.request)


def link_findings(results: dict[str, LinkResult], result: Result, build_dir: Path | None = None) -> list[Finding]:
    """Findings for the links and images of `result` that `check_urls` visited. An image digest uploads is
    reported as not uploaded yet, naming the build folder that holds it."""
    uploads = {image.url: image for image in result.images}
    lines: dict[str, int] = {}  # a link or image only the theme writes is found on its line of the HTML
    for link in result.page.links if result.page else ():
        lines.setdefault(link.href, link.line)
    for img in result.page.images if result.page else ():
        lines.setdefault(img.attrs.get("src", ""), img.line)
    findings = []
    for url, visit in results.items():
        here = of_url(result, url, lines.get(url))
        if url in uploads:
            if not visit.ok or (visit.content_type and not visit.content_type.startswith("image/")):
                findings.append(Finding("image-not-uploaded", ERROR, _not_uploaded(uploads[url], visit, result, build_dir), **here))
            continue
        if not visit.ok:
            moved = f" (after a redirect to {visit.final_url})" if visit.final_url and visit.status else ""
            findings.append(Finding("link-broken", ERROR, f"the link {url} is broken: {visit.problem}{moved}", **here))
        elif visit.redirect in PERMANENT:
            findings.append(Finding("link-moved", WARNING, f"the link {url} has moved for good to "
                                    f"{visit.final_url}: use the new address", **here))
        elif visit.redirect:
            findings.append(Finding("link-redirect", INFO, f"the link {url} redirects to {visit.final_url} "
                                    "(a temporary redirect: nothing to change)", **here))
    return findings


def _not_uploaded(image, visit: LinkResult, result: Result, build_dir: Path | None) -> str:
    why = visit.problem if not visit.ok else f"it answers with {visit.content_type}, not an image"
    folder = (build_dir or Path("build")) / result.issue.slug / image.path.split("/")[0]
    return (f"the image {image.url} is not on the web yet ({why}): upload the folder {folder}/ "
            f"to {result.newsletter.asset_base_url}")


def default_cache_path() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digest" / "links.json"


class _Cache:
    """url -> result of links found fine, for CACHE_SECONDS. Broken links are always asked again."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(read_bytes(path, limit=10 * MAX_INPUT_BYTES))
            self.entries = data["links"] if isinstance(data.get("links"), dict) else {}
        except (DigestError, ValueError, AttributeError, RecursionError):
            self.entries = {}  # no cache yet, or a damaged one: start afresh

    def get(self, url: str) -> LinkResult | None:
        entry = self.entries.get(url)
        if not _fresh(entry, time.time()):
            return None
        return LinkResult(url, True, entry["status"], entry["final_url"], entry["redirect"], cached=True,
                          content_type=entry.get("content_type"))

    def save(self, results) -> None:
        now = time.time()
        self.entries = {u: e for u, e in self.entries.items() if _fresh(e, now)}
        for result in results:
            if result.ok and not result.cached:
                self.entries[result.url] = {"checked": now, "status": result.status, "final_url": result.final_url,
                                            "redirect": result.redirect, "content_type": result.content_type}
        try:
            write_atomically(self.path, json.dumps({"version": 1, "links": self.entries}).encode("utf-8"))
        except DigestError:
            pass  # a cache we cannot write only costs time on the next run


def _fresh(entry, now: float) -> bool:
    """An entry as `save` writes it, checked within the hour: a damaged file (a date as text, a status as a
    list, a time in the future, which would stand for ever) is asked again, never trusted or crashed on."""
    def kind(value, *types) -> bool:
        return value is None or (isinstance(value, types) and not isinstance(value, bool))

    return isinstance(entry, dict) and isinstance(entry.get("checked"), (int, float)) \
        and not isinstance(entry["checked"], bool) and -60 <= now - entry["checked"] < CACHE_SECONDS \
        and all(k in entry for k in ("status", "final_url", "redirect")) and kind(entry["status"], int) \
        and kind(entry["redirect"], int) and kind(entry["final_url"], str) and kind(entry.get("content_type"), str)
