"""Builds the components from settings: the one place that picks concrete classes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rag.chat import ChatPolicy, ChatService
from rag.embedder import Embedder
from rag.generator import Generator, OpenAIGenerator, TransformersGenerator
from rag.indexer import ChunkSettings, Indexer
from rag.model_fetch import resolve_model
from rag.retriever import Retriever
from scraper.crawler import CrawlConfig, Crawler
from settings import Settings
from storage.conversations import ConversationStore
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
class Components:
    """Lazily built components sharing one database, one vector store, one embedder and one LLM."""

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

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.db, self.settings.history_retention_days)

    @cached_property
    def generator(self) -> Generator:
        s = self.settings
        s.apply_offline_environment()
        if s.llm_backend == "openai":
            if not s.llm_base_url:
                raise ValueError("LLM_BACKEND=openai needs LLM_BASE_URL (an OpenAI-compatible server)")
            return OpenAIGenerator(s.llm_base_url, s.resolved_llm_model,
                                   s.llm_api_key.get_secret_value() if s.llm_api_key else None)
        model = resolve_model(s.resolved_llm_model, s.models_dir, s.offline)
        return TransformersGenerator(model, device=s.llm_device, dtype=s.llm_dtype, queue_size=s.llm_queue_size,
                                     prompt_lookup_tokens=s.llm_prompt_lookup_tokens)

    @cached_property
    def chat(self) -> ChatService:
        s = self.settings
        return ChatService(self.retriever, self.generator, self.conversations, ChatPolicy(
            top_k=s.retrieval_top_k, history_messages=s.history_messages, min_dense_score=s.grounding_min_score,
            max_new_tokens=s.llm_max_new_tokens, max_question_chars=s.max_question_chars,
            contact=s.support_contact, context_sentences=s.context_max_sentences,
            min_answer_context_share=s.grounding_min_answer_share))

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "db" in self.__dict__:
            self.db.close()
