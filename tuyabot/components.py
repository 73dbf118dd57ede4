"""The composition root: builds every component from settings (the one place that picks concrete classes).

Settings are the single source of every default; the dataclasses handed to the rooms below carry none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from bot.core import BotCore, Metrics, RateLimit
from rag.answer_cache import AnswerCache
from rag.chat import ChatPolicy, ChatService
from rag.embedder import Embedder
from rag.generator import LocalChatModel, TransformersChatModel, served_chat_model
from rag.hardware import BackendChoice, choose_backend, llamacpp_unavailable_reason, physical_cores
from rag.indexer import ChunkSettings, Indexer, RefreshReport
from rag.llamacpp import LlamaCppChatModel, StateReport
from rag.model_fetch import resolve_model
from rag.prompts import context_system
from rag.retriever import HybridRetriever
from rag.units import unit_texts
from scraper.crawler import CrawlConfig, Crawler
from storage.answer_cache import AnswerCacheStore
from storage.conversations import ConversationStore
from storage.db import Database
from storage.embedding_cache import EmbeddingCache
from storage.page_registry import PageRegistry
from storage.records import Chunk
from storage.vector_store import VectorStore
from tuyabot.settings import Settings

log = logging.getLogger(__name__)


def crawl_config(settings: Settings, progress: bool | None = None) -> CrawlConfig:
    s = settings
    return CrawlConfig(
        user_agent=s.crawl_user_agent, max_pages=s.crawl_max_pages, concurrency=s.crawl_concurrency,
        delay_seconds=s.crawl_delay_seconds, timeout_seconds=s.crawl_timeout_seconds, retries=s.crawl_retries,
        retry_backoff_seconds=s.crawl_retry_backoff_seconds, max_bytes=s.crawl_max_bytes,
        max_redirects=s.crawl_max_redirects, progress=progress,
    )


def chat_policy(settings: Settings) -> ChatPolicy:
    s = settings
    return ChatPolicy(
        top_k=s.retrieval_top_k, follow_chunks=s.retrieval_follow_chunks, history_messages=s.history_messages,
        min_dense_score=s.grounding_min_score, max_new_tokens=s.llm_max_new_tokens,
        rewrite_max_new_tokens=s.llm_rewrite_max_new_tokens, max_question_chars=s.max_question_chars,
        contact=s.support_contact, context_sentences=s.context_max_sentences,
        second_pass_min_score=s.grounding_second_pass_min_score,
        second_pass_min_similarity=s.grounding_second_pass_min_similarity,
        nearest_min_similarity=s.grounding_nearest_min_similarity,
        min_answer_context_share=s.grounding_min_answer_share,
        complete_passage=s.answer_complete_passage, read_units=s.context_mode == "unit",
        unit_tries=s.context_unit_tries, search_with_previous_question=s.retrieval_followup_with_previous_question,
    )


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(settings.chunk_max_chars, settings.chunk_min_chars, settings.sitewide_block_min_pages,
                         settings.unit_max_chars)


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
        model = resolve_model(s.embedding_model, s.models_dir, s.offline)
        return Embedder(model, device=s.embedding_device, dtype=s.embedding_dtype,
                        batch_size=s.embedding_batch_size, max_seq_length=s.embedding_max_seq_length,
                        site_name=s.site_name)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(Crawler(crawl_config(self.settings, self.progress)), self.embedder, self.store,
                       PageRegistry(self.db), EmbeddingCache(self.db, self.embedder.documents_name),
                       chunk_settings(self.settings))

    @cached_property
    def retriever(self) -> HybridRetriever:
        s = self.settings
        return HybridRetriever(store=self.store, embedder=self.embedder, mode=s.retrieval_mode,
                               candidates=s.retrieval_candidates, k=s.retrieval_top_k)

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.db, self.settings.history_retention_days,
                                 self.settings.processed_event_retention_days)

    @cached_property
    def backend(self) -> BackendChoice:
        """Which LLM backend answers here, and why (logged once)."""
        s = self.settings
        has_gguf = s.llm_backend != "openai" and (Path(self.llm_model_ref) / "model.gguf").is_file()
        choice = choose_backend(s.llm_backend, has_gguf=has_gguf, device=s.llm_device)
        log.info(choice.describe())
        return choice

    @cached_property
    def llm_model_ref(self) -> str:
        """The LLM as its loader takes it: a local folder (offline copies), or a hub id (production)."""
        s = self.settings
        return resolve_model(s.resolved_llm_model, s.models_dir, s.offline)

    @cached_property
    def generator(self) -> BaseChatModel:
        s = self.settings
        if s.llm_backend == "openai":
            if not s.llm_base_url:
                raise ValueError("LLM_BACKEND=openai needs LLM_BASE_URL (an OpenAI-compatible server)")
            return served_chat_model(s.llm_base_url, s.resolved_llm_model,
                                     s.llm_api_key.get_secret_value() if s.llm_api_key else None,
                                     max_tokens=s.llm_max_new_tokens, timeout=s.llm_timeout_seconds,
                                     max_retries=s.llm_max_retries)
        if self.backend.backend == "llamacpp":
            return self._llamacpp()
        return TransformersChatModel.create(self.llm_model_ref, device=s.llm_device, dtype=s.llm_dtype,
                                            queue_size=s.llm_queue_size, max_tokens=s.llm_max_new_tokens,
                                            prompt_lookup_tokens=s.llm_prompt_lookup_tokens)

    def _llamacpp(self) -> BaseChatModel:
        s = self.settings
        gguf = Path(self.llm_model_ref) / "model.gguf"
        unavailable = llamacpp_unavailable_reason() or ("" if gguf.is_file() else f"no GGUF file at {gguf}")
        if unavailable:
            raise ValueError(f"LLM_BACKEND=llamacpp cannot run: {unavailable}")
        return LlamaCppChatModel(model_path=str(gguf), threads=s.llm_threads or physical_cores(),
                                 context_tokens=s.llm_context_tokens, lookup_tokens=s.llm_prompt_lookup_tokens,
                                 time_limit_seconds=s.llm_time_limit_seconds, queue_size=s.llm_queue_size,
                                 max_tokens=s.llm_max_new_tokens, name=f"{Path(self.llm_model_ref).name}@gguf",
                                 state_dir=str(s.unit_state_dir) if s.llm_keep_unit_state else None)

    @cached_property
    def answer_cache(self) -> AnswerCache | None:
        s = self.settings
        if not s.answer_cache:
            return None
        return AnswerCache(AnswerCacheStore(self.db, self.embedder.name), s.answer_cache_min_similarity)

    @cached_property
    def chat(self) -> ChatService:
        return ChatService(self.retriever, self.generator, self.conversations, chat_policy(self.settings),
                           self.answer_cache)

    @cached_property
    def core(self) -> BotCore:
        """The core every chat adapter calls, over these components."""
        s = self.settings
        return BotCore(self.chat, self.conversations, lambda: self.refresh_index(s.crawl_base_url),
                       max_message_chars=s.bot_max_message_chars,
                       rate_limit=RateLimit(s.bot_rate_limit, s.bot_rate_limit_storage_uri),
                       max_answers=s.llm_queue_size, metrics=Metrics(queue_depth=self._queue_depth))

    def _queue_depth(self) -> float:
        """Generations admitted (running or waiting) by the in-process model; 0 before it is built."""
        model = self.__dict__.get("generator")
        return float(model.queue_depth) if isinstance(model, LocalChatModel) else 0.0

    def refresh_index(self, base_url: str, *, conditional: bool = True, warm: bool = True) -> RefreshReport:
        """Crawl and apply the changes, then compute the prompt state of the knowledge units that changed (``warm``;
        else each at its first question)."""
        report = self.indexer.refresh(base_url, conditional=conditional)
        started = time.perf_counter()
        chunks = self.store.all_chunks()  # read once for both
        self.forget_stale_answers(chunks)
        states = self.keep_unit_states(chunks, compute=warm)
        report.unit_states_computed = states.computed if states else 0
        report.seconds += time.perf_counter() - started
        return report

    def forget_stale_answers(self, chunks: Sequence[Chunk]) -> int:
        """Drop the kept answers drawn from text the index (``chunks``) no longer holds."""
        if self.answer_cache is None or not self.store.live_collection():
            return 0
        dropped = self.answer_cache.store.keep_only_units(c.content_hash for c in chunks)
        if dropped:
            log.info("answer cache: %d answers dropped (their pages changed)", dropped)
        return dropped

    def keep_unit_states(self, chunks: Sequence[Chunk] | None = None, *, compute: bool = True
                         ) -> StateReport | None:
        """With llama.cpp keeping unit states (LLM_KEEP_UNIT_STATE), keep those of the index's units (computed
        now, or at each unit's first question) and drop the others; None where no backend here keeps them."""
        s = self.settings
        if not s.llm_keep_unit_state or s.llm_backend == "openai" or self.backend.backend != "llamacpp":
            return None
        model = self.generator
        if not isinstance(model, LlamaCppChatModel) or not self.store.live_collection():
            return None
        chunks = self.store.all_chunks() if chunks is None else chunks
        return model.keep_states((context_system(text) for text in unit_texts(chunks)), compute=compute)

    def warm_up(self) -> None:
        """Load the embedder and the model before the first user waits for them; the units' states are restored
        from disk at each question (one without is computed at its first, as after an index built elsewhere)."""
        self.retriever.search("tarjeta", 1)
        load = getattr(self.generator, "load", None)
        if load:
            load()
        if self.store.live_collection():
            chunks = self.store.all_chunks()  # read once for both
            self.forget_stale_answers(chunks)
            self.keep_unit_states(chunks, compute=False)

    def close(self) -> None:
        if "core" in self.__dict__:
            self.core.close()
        if isinstance(self.__dict__.get("generator"), LocalChatModel):
            self.generator.close()
        if "store" in self.__dict__:
            self.store.close()
        if "db" in self.__dict__:
            self.db.close()
