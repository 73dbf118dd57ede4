"""The knowledge-base pipeline: crawl -> extract -> dedupe -> chunk -> embed (cached) -> store.

A refresh compares the crawl with the page registry: new pages are added, changed pages replaced,
gone pages (404/410, no longer linked or listed) removed, pages that fail transiently kept as they
were, and unchanged text never embedded again (vectors are cached by chunk-content hash). The new
index is built beside the live one and switched in at the end: readers keep getting answers, and a
refresh that fails half-way leaves the previous index whole.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from rag.chunker import chunk_pages
from rag.embedder import Embedder
from rag.sparse import encode_documents
from rag.units import assign_units
from scraper import extract
from scraper.crawler import Crawler, CrawlResult, PriorFetch
from scraper.sitewide import dedupe_pages
from scraper.urls import path_and_query
from storage.embedding_cache import EmbeddingCache
from storage.page_registry import PageRegistry, RegisteredPage
from storage.records import Chunk
from storage.vector_store import VectorStore

log = logging.getLogger(__name__)


class RefreshError(RuntimeError):
    """The refresh could not be applied; the previous index is untouched."""


@dataclass
class RefreshReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_after_error: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    units_total: int = 0
    unit_states_computed: int = 0  # knowledge units whose prompt state the model computed (new or changed)
    seconds: float = 0.0

    def counts(self) -> dict[str, float]:
        return {"added": len(self.added), "changed": len(self.changed), "removed": len(self.removed),
                "kept_after_error": len(self.kept_after_error), "unchanged": len(self.unchanged),
                "chunks_embedded": self.chunks_embedded, "chunks_total": self.chunks_total,
                "units_total": self.units_total, "unit_states_computed": self.unit_states_computed,
                "seconds": round(self.seconds, 2)}

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class ChunkSettings:
    """How pages become chunks (built from settings, where every default lives)."""

    max_chars: int
    min_chars: int
    sitewide_min_pages: int
    unit_max_chars: int


class Indexer:
    def __init__(self, crawler: Crawler, embedder: Embedder, store: VectorStore, registry: PageRegistry,
                 cache: EmbeddingCache, chunking: ChunkSettings) -> None:
        self.crawler = crawler
        self.embedder = embedder
        self.store = store
        self.registry = registry
        self.cache = cache
        self.chunking = chunking
        self.last_crawl: CrawlResult | None = None

    def index(self, base_url: str) -> RefreshReport:
        """Build the index from a full crawl (no conditional GET); cached vectors are still reused."""
        return self.refresh(base_url, conditional=False)

    def refresh(self, base_url: str, *, conditional: bool = True) -> RefreshReport:
        started = time.perf_counter()
        previous = self.registry.load()
        prior = _prior_fetches(previous) if conditional else {}
        crawl = self.last_crawl = self.crawler.crawl(base_url, prior)
        current, kept = self._current_pages(crawl, previous)
        if not crawl.pages and not crawl.not_modified:
            reasons = "; ".join(f"{u}: {why}" for u, why in list(crawl.failed.items())[:3])
            raise RefreshError(f"the crawl of {base_url} reached no page ({reasons}); the index is unchanged")

        report = RefreshReport(kept_after_error=sorted(kept))
        for url in sorted(current):
            if url in kept:
                continue
            if url not in previous:
                report.added.append(url)
            elif current[url].content_hash != previous[url].content_hash:
                report.changed.append(url)
            else:
                report.unchanged.append(url)
        report.removed = sorted(set(previous) - set(current))

        pages = dedupe_pages([current[u].page for u in sorted(current)], self.chunking.sitewide_min_pages)
        chunks = assign_units(chunk_pages(pages, self.chunking.max_chars, self.chunking.min_chars),
                              self.chunking.unit_max_chars)
        vectors, report.chunks_embedded = self._vectors(chunks)
        self._publish(chunks, vectors)
        per_page: dict[str, int] = {}
        for c in chunks:  # a site-wide block (its URL a fragment of the page it was seen on) counts for that page
            page_url = c.url.split("#", 1)[0]
            per_page[page_url] = per_page.get(page_url, 0) + 1
        self.registry.replace_all(
            replace(r, chunk_count=per_page.get(url, 0)) for url, r in current.items()
        )
        self.cache.keep_only(c.content_hash for c in chunks)
        report.chunks_total = len(chunks)
        report.units_total = len({c.unit for c in chunks})
        report.seconds = time.perf_counter() - started
        log.info("refresh of %s: %s", base_url, report.counts())
        return report

    def _current_pages(self, crawl: CrawlResult, previous: dict[str, RegisteredPage]
                       ) -> tuple[dict[str, RegisteredPage], set[str]]:
        """The pages the new index holds, and which of them were kept after a fetch error."""
        by_path = {path_and_query(r.fetch_url): r for r in previous.values()}
        by_path.update({path_and_query(r.url): r for r in previous.values() if path_and_query(r.url) not in by_path})
        current: dict[str, RegisteredPage] = {}
        for fetched in crawl.pages:
            if fetched.page.url in current:
                continue  # two addresses of one page: the first (sorted) wins
            current[fetched.page.url] = RegisteredPage(
                url=fetched.page.url, fetch_url=fetched.fetch_url, content_hash=fetched.page.content_hash,
                status="indexed", etag=fetched.etag, last_modified=fetched.last_modified, links=fetched.links,
                page=fetched.page, chunk_count=0,
            )
        for url in crawl.not_modified:
            record = by_path.get(path_and_query(url))
            if record and record.url not in current:
                current[record.url] = replace(record, status="indexed")
        kept: set[str] = set()
        for url, reason in crawl.failed.items():
            record = by_path.get(path_and_query(url))
            if record and record.url not in current:
                log.warning("keeping %s as it was: %s", record.url, reason)
                current[record.url] = replace(record, status="kept_after_error")
                kept.add(record.url)
        return current, kept

    def _vectors(self, chunks: list[Chunk]) -> tuple[np.ndarray, int]:
        """Dense vectors for ``chunks``: from the cache where the text is known, else embedded now."""
        hashes = [c.content_hash for c in chunks]
        cached = self.cache.get_many(hashes)
        missing: dict[str, Chunk] = {}
        for c in chunks:
            if c.content_hash not in cached:
                missing.setdefault(c.content_hash, c)
        if missing:
            fresh = self.embedder.embed_documents([c.text for c in missing.values()],
                                                  titles=[c.header for c in missing.values()])
            new = dict(zip(missing, fresh, strict=True))
            self.cache.put_many(new)
            cached.update(new)
        dim = next(iter(cached.values())).shape[0] if cached else self.embedder.dim
        vectors = np.stack([cached[h] for h in hashes]) if hashes else np.zeros((0, dim), dtype=np.float32)
        return vectors, len(missing)

    def _publish(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        sparse = encode_documents([c.search_text for c in chunks])
        dim = vectors.shape[1] if len(vectors) else self.embedder.dim
        collection = self.store.new_version(dim)
        try:
            self.store.upsert(collection, chunks, vectors, sparse)
            self.store.publish(collection)
        except BaseException:
            self.store.drop(collection)
            raise


def _prior_fetches(previous: dict[str, RegisteredPage]) -> dict[str, PriorFetch]:
    """What a conditional crawl may ask "changed since?" about: the pages the current extractor read. A page an
    older extractor read is fetched in full again, so an upgrade reaches every page, changed or not."""
    current = {url: r for url, r in previous.items() if r.page.extracted_by == extract.VERSION}
    if len(current) < len(previous):
        log.info("%d pages were read by an older extractor: fetched again in full", len(previous) - len(current))
    return {path_and_query(r.fetch_url): PriorFetch(r.etag, r.last_modified, r.links) for r in current.values()}
