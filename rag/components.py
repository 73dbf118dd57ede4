"""Builds the knowledge-base components from settings: the one place that picks concrete classes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rag.embedder import Embedder
from rag.indexer import ChunkSettings, Indexer
from rag.model_fetch import resolve_model
from rag.retriever import Retriever
from scraper.crawler import CrawlConfig, Crawler
from settings import Settings
from storage.db import Database
from storage.embedding_cache import EmbeddingCache
from storage.page_registry import PageRegistry
from storage.vector_store import VectorStore


def crawl_config(settings: Settings, progress: bool | None = None) -> CrawlConfig:
    return CrawlConfig(
        user_agent=settings.crawl_user_agent, max_pages=settings.crawl_max_pages,
        concurrency=settings.crawl_concurrency, delay_seconds=settings.crawl_delay_seconds,
        timeout_seconds=settings.crawl_timeout_seconds, retries=settings.crawl_retries,
        retry_backoff_seconds=settings.crawl_retry_backoff_seconds, progress=progress,
    )


@dataclass
class KnowledgeBase:
    """Lazily built components sharing one database, one vector store and one embedder."""

    settings: Settings
    progress: bool | None = None

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.resolved_database_url)

    @cached_property
    def store(self) -> VectorStore:
        s = self.settings
        return VectorStore(
            s.qdrant_collection, path=s.resolved_qdrant_path, url=s.qdrant_url,
            api_key=s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None,
        )

    @cached_property
    def embedder(self) -> Embedder:
        s = self.settings
        s.apply_offline_environment()
        model = resolve_model(s.embedding_model, s.models_dir, s.offline)
        return Embedder(model, device=s.embedding_device, dtype=s.embedding_dtype,
                        batch_size=s.embedding_batch_size, max_seq_length=s.embedding_max_seq_length)

    @cached_property
    def indexer(self) -> Indexer:
        s = self.settings
        return Indexer(
            Crawler(crawl_config(s, self.progress)), self.embedder, self.store, PageRegistry(self.db),
            EmbeddingCache(self.db, self.embedder.name),
            ChunkSettings(s.chunk_max_chars, s.chunk_min_chars, s.sitewide_block_min_pages),
        )

    @cached_property
    def retriever(self) -> Retriever:
        s = self.settings
        return Retriever(self.store, self.embedder, s.retrieval_mode, s.retrieval_candidates)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "db" in self.__dict__:
            self.db.close()
