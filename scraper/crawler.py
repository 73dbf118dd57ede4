"""A polite site crawler: robots.txt, sitemap, same site only, canonical URLs, retries, conditional GET.

It starts at the base URL and the sitemap(s), follows links on the same site, never requests what
robots.txt disallows, follows redirects itself (so a redirect never leads off-site or into a
disallowed path), skips non-HTML by Content-Type, bounds concurrency and spaces requests per host,
retries 5xx/429/timeouts with exponential backoff, stops at ``max_pages`` and sends If-None-Match /
If-Modified-Since where an earlier crawl saw an ETag / Last-Modified.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.message import Message

import httpx
from bs4 import BeautifulSoup
from protego import Protego
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from tqdm import tqdm

from scraper.extract import extract
from scraper.page import Page
from scraper.urls import normalize, origin, path_and_query, rebase

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECTS = (301, 302, 303, 307, 308)
GONE = (404, 410)


@dataclass(frozen=True)
class CrawlConfig:
    """How to crawl (built from settings, where every default lives)."""

    user_agent: str
    max_pages: int
    concurrency: int
    delay_seconds: float
    timeout_seconds: float
    retries: int
    retry_backoff_seconds: float
    max_bytes: int
    max_redirects: int
    progress: bool | None = None  # None: a bar only on a terminal


@dataclass(frozen=True)
class PriorFetch:
    """What an earlier crawl learned about a URL (keyed by its path and query)."""

    etag: str | None
    last_modified: str | None
    links: tuple[str, ...]


@dataclass(frozen=True)
class FetchedPage:
    fetch_url: str
    page: Page
    etag: str | None
    last_modified: str | None
    links: tuple[str, ...]


@dataclass
class CrawlResult:
    pages: list[FetchedPage] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)


class InvalidBaseURL(ValueError):
    """The address to crawl is not an http(s) URL."""


class RetryableStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass
class _Response:
    status: int
    headers: httpx.Headers
    body: bytes | None


class Crawler:
    def __init__(self, config: CrawlConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport

    def crawl(self, base_url: str, prior: Mapping[str, PriorFetch] | None = None) -> CrawlResult:
        return asyncio.run(self.crawl_async(base_url, prior or {}))

    async def crawl_async(self, base_url: str, prior: Mapping[str, PriorFetch]) -> CrawlResult:
        run = _CrawlRun(self.config, base_url, prior)
        headers = {"User-Agent": self.config.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}
        async with httpx.AsyncClient(headers=headers, timeout=self.config.timeout_seconds,
                                     follow_redirects=False, transport=self._transport) as client:
            run.client = client
            await run.execute()
        return run.result


class _CrawlRun:
    """State of one crawl: the frontier, what was seen, the politeness clock."""

    def __init__(self, config: CrawlConfig, base_url: str, prior: Mapping[str, PriorFetch]) -> None:
        base = normalize(base_url)
        if base is None:
            raise InvalidBaseURL(f"not an http(s) URL: {base_url!r}")
        self.config = config
        self.base = base
        self.origin = origin(base)
        self.site_origins = {self.origin}
        self.prior = prior
        self.result = CrawlResult()
        self.client: httpx.AsyncClient
        self.robots: Protego | None = None
        self.delay = config.delay_seconds
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.seen: set[str] = set()
        self.next_request_at = 0.0
        self.clock = asyncio.Lock()
        self.bar = tqdm(desc="crawl", unit="page", total=0, disable=_bar_disabled(config.progress))

    async def execute(self) -> None:
        try:
            if not await self._load_robots():
                return
            self._enqueue(self.base)
            for sitemap in await self._sitemap_urls():
                self._enqueue(sitemap)
            workers = [asyncio.create_task(self._worker()) for _ in range(self.config.concurrency)]
            await self.queue.join()
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            self.bar.close()
        self.result.pages.sort(key=lambda p: p.page.url)

    # -- frontier --------------------------------------------------------------------------------
    def _same_site(self, url: str) -> bool:
        return origin(url) in self.site_origins

    def _allowed(self, url: str) -> bool:
        return self.robots is None or self.robots.can_fetch(url, self.config.user_agent)

    def _enqueue(self, url: str | None) -> None:
        if url is None or not self._same_site(url):
            return
        url = rebase(url, self.origin)
        if url in self.seen:
            return
        if not self._allowed(url):
            self.seen.add(url)
            self.result.skipped[url] = "disallowed by robots.txt"
            return
        if len(self.seen) >= self.config.max_pages:
            return
        self.seen.add(url)
        self.bar.total += 1
        self.bar.refresh()
        self.queue.put_nowait(url)

    async def _worker(self) -> None:
        while True:
            url = await self.queue.get()
            try:
                await self._visit(url)
            except Exception as exc:  # one bad page never stops the crawl
                expected = isinstance(exc, httpx.HTTPError | RetryableStatus | UnicodeError)
                # an expected failure (timeout, reset, too large, bad status) is one line; a bug keeps its traceback
                log.warning("crawl of %s failed: %s", url, exc or type(exc).__name__, exc_info=not expected)
                self.result.failed[url] = f"error: {exc or type(exc).__name__}"
            finally:
                self.bar.update(1)
                self.queue.task_done()

    # -- fetching --------------------------------------------------------------------------------
    async def _visit(self, url: str) -> None:
        prior = self.prior.get(path_and_query(url))
        conditional = {}
        if prior and prior.etag:
            conditional["If-None-Match"] = prior.etag
        if prior and prior.last_modified:
            conditional["If-Modified-Since"] = prior.last_modified
        target = url
        for _ in range(self.config.max_redirects + 1):
            try:
                response = await self._get(target, conditional)
            except (httpx.TransportError, RetryableStatus) as exc:
                self.result.failed[url] = f"{type(exc).__name__}: {exc}"
                return
            if response.status not in REDIRECTS:
                break
            location = normalize(response.headers.get("location", ""), target)
            if location is None or not self._same_site(location):
                self.result.skipped[url] = f"redirects off-site to {location}"
                return
            location = rebase(location, self.origin)
            if not self._allowed(location):
                self.result.skipped[url] = f"redirects to {location}, disallowed by robots.txt"
                return
            if location != url and location in self.seen:
                self.result.skipped[url] = f"redirects to {location}, crawled on its own"
                return
            self.seen.add(location)
            target = location
        else:
            self.result.failed[url] = "too many redirects"
            return
        self._handle(url, target, response, prior)

    def _handle(self, url: str, final: str, response: _Response, prior: PriorFetch | None) -> None:
        status = response.status
        if status == 304 and prior is not None:
            self.result.not_modified.append(url)
            for link in prior.links:
                self._enqueue(normalize(link, final))
            return
        if status in GONE:
            self.result.gone.append(url)
            return
        if status >= 400 or status < 200 or status == 304:
            self.result.failed[url] = f"HTTP {status}"
            return
        ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in HTML_TYPES or response.body is None:
            self.result.skipped[url] = f"not HTML ({ctype or 'no Content-Type'})"
            return
        extracted = extract(response.body, final, declared_charset(response.headers.get("content-type", "")))
        links = tuple(dict.fromkeys(u for u in (normalize(h, final) for h in extracted.links) if u))
        if extracted.canonical and path_and_query(final) == path_and_query(self.base):
            canonical = normalize(extracted.canonical, final)
            if canonical:  # the home page names the site's public origin: its links are ours too
                self.site_origins.add(origin(canonical))
        for link in links:
            self._enqueue(link)
        if extracted.page is None:
            self.result.skipped[url] = "noindex"
            return
        canonical_url = normalize(extracted.page.url, final) or final
        page = replace(extracted.page, url=canonical_url)
        self.result.pages.append(FetchedPage(
            fetch_url=final, page=page, etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"), links=links,
        ))

    async def _get(self, url: str, headers: Mapping[str, str]) -> _Response:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((httpx.TransportError, RetryableStatus)),
            stop=stop_after_attempt(self.config.retries),
            wait=wait_exponential(multiplier=self.config.retry_backoff_seconds, max=30),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._wait_turn()
                self.result.requested.append(url)
                async with self.client.stream("GET", url, headers=dict(headers)) as r:
                    if r.status_code >= 500 or r.status_code in (408, 429):
                        raise RetryableStatus(r.status_code)
                    ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
                    body = None
                    if r.status_code == 200 and (ctype in HTML_TYPES or ctype.endswith("xml") or ctype == "text/plain"):
                        body = await _read_bounded(r, self.config.max_bytes)
                    return _Response(r.status_code, r.headers, body)
        raise AssertionError("unreachable")

    async def _wait_turn(self) -> None:
        """Space request starts on this host by the crawl delay."""
        async with self.clock:
            now = time.monotonic()
            wait = self.next_request_at - now
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_request_at = max(now, self.next_request_at) + self.delay

    # -- robots.txt and sitemaps -----------------------------------------------------------------
    async def _load_robots(self) -> bool:
        """Read robots.txt. Missing (4xx): everything allowed. Unreachable (5xx, network): crawl nothing."""
        url = f"{self.origin}/robots.txt"
        try:
            response = await self._get(url, {})
        except (httpx.HTTPError, RetryableStatus) as exc:  # unreachable, or over the size bound
            self.result.failed[url] = f"robots.txt unreadable: {exc}"
            return False
        if response.status == 200 and response.body is not None:
            self.robots = Protego.parse(response.body.decode("utf-8", errors="replace"))
            crawl_delay = self.robots.crawl_delay(self.config.user_agent)
            if crawl_delay:
                self.delay = max(self.delay, float(crawl_delay))
        return True

    async def _sitemap_urls(self) -> list[str]:
        listed = list(self.robots.sitemaps) if self.robots else []
        pending = [normalize(u, self.origin) for u in listed] or [f"{self.origin}/sitemap.xml"]
        urls: list[str] = []
        done: set[str] = set()
        while pending and len(done) < 50:
            sitemap = pending.pop(0)
            if not sitemap or sitemap in done or not self._same_site(sitemap):
                continue
            done.add(sitemap)
            try:
                response = await self._get(rebase(sitemap, self.origin), {})
            except (httpx.HTTPError, RetryableStatus) as exc:  # unreachable, or over the size bound
                log.warning("sitemap %s unreadable: %s", sitemap, exc)
                continue
            if response.status != 200 or not response.body:
                continue
            soup = BeautifulSoup(response.body, "xml")
            locs = [loc.get_text(strip=True) for loc in soup.find_all("loc")]
            if soup.find("sitemapindex"):
                pending.extend(normalize(u, sitemap) for u in locs)
            else:
                urls.extend(u for u in (normalize(x, sitemap) for x in locs) if u)
        return urls


def declared_charset(content_type: str) -> str | None:
    """The charset a Content-Type header declares, if any (``text/html; charset=ISO-8859-1`` -> iso-8859-1)."""
    header = Message()
    header["content-type"] = content_type
    return header.get_content_charset()


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise httpx.DecodingError(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _bar_disabled(progress: bool | None) -> bool | None:
    return None if progress is None else not progress
