"""The llama.cpp backend: a GGUF model run as it is (no de-quantisation) through xllamacpp's embedded server.

Why: on CPUs without native bf16 transformers runs a model in float32 (several GB, slow); llama.cpp's
quantised kernels need about a quarter of the memory and are faster there. What it keeps of llama.cpp's
strengths: the prompt cache (the KV of the system prompt and of earlier prompts is reused, so only the
new part of a prompt is processed), streaming, threads = physical cores, greedy decoding with n-gram
lookup drafting (the same text, faster when the answer quotes the context). Decoding is bounded in
tokens and in time (``time_limit_seconds``, also the longest silence before the first token). The
embedded server listens on an ephemeral loopback port only, behind a random API key that nothing outside
this object knows.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Iterator
from typing import Any

from rag.generator import ChatMessages, GenerationError, GenerationStats, LocalChatModel

log = logging.getLogger(__name__)

_END = object()


class LlamaCppChatModel(LocalChatModel):
    """A GGUF chat model in-process through llama.cpp (greedy, streamed, prompt cache, bounded in time)."""

    model_path: str
    threads: int
    context_tokens: int
    lookup_tokens: int
    time_limit_seconds: float

    @property
    def _llm_type(self) -> str:
        return "tuyabot-llamacpp"

    def _load(self) -> Any:
        import xllamacpp as xlc

        params = xlc.CommonParams()
        params.model.path = self.model_path
        params.n_ctx = self.context_tokens * 2  # two slots: the answer prompts and the rewrite prompts
        params.n_parallel = 2
        params.kv_unified = True
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.cache_ram_mib = 512  # earlier prompts' KV in host memory, restored when a prefix matches
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.api_keys = [secrets.token_urlsafe(32)]  # the loopback HTTP endpoint is closed to others
        params.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 0  # llama.cpp's own log lines at DEBUG only
        if self.lookup_tokens:
            params.speculative.types = [xlc.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
            params.speculative.ngram_simple.size_n = 3  # the last 3 tokens are looked up in the context
            params.speculative.ngram_simple.size_m = self.lookup_tokens
        server = xlc.Server(params)
        log.info("generator %s loaded (llama.cpp, %d threads)", self.name, self.threads)
        return server

    def _pieces(self, messages: ChatMessages, max_tokens: int) -> Iterator[str]:
        server = self.weights
        chunks: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        request = {"messages": messages, "max_tokens": max_tokens, "stream": True, "temperature": 0.0,
                   "top_k": 1, "cache_prompt": True, "t_max_predict_ms": int(self.time_limit_seconds * 1000)}

        def on_chunk(chunk: Any) -> bool:
            chunks.put(chunk)
            return stop.is_set()  # True: llama.cpp stops generating

        def run() -> None:
            try:
                with self._queue.turn:
                    result = server.handle_chat_completions(request, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    chunks.put(GenerationError(f"llama.cpp: {result['error']}"))
            except Exception as exc:  # surfaced to the caller below
                chunks.put(GenerationError(f"llama.cpp: {exc}"))
            finally:
                chunks.put(_END)

        worker = threading.Thread(target=run, daemon=True, name="llamacpp")
        worker.start()
        try:
            yield from _deltas(chunks, self.time_limit_seconds, self.last_stats)
        finally:
            stop.set()  # llama.cpp stops at its next token; the worker is waited for, never left in C++ at exit
            worker.join(timeout=self.time_limit_seconds)


def _deltas(chunks: queue.Queue[Any], silence_limit: float, stats: GenerationStats) -> Iterator[str]:
    """Text deltas from the server's stream chunks until it ends (errors raised; ``silence_limit`` seconds
    without a chunk is a failure; the server's timings recorded in ``stats``). Decoding itself is bounded
    by the server (``t_max_predict_ms``)."""
    while True:
        try:
            chunk = chunks.get(timeout=silence_limit)
        except queue.Empty as exc:
            raise GenerationError(f"llama.cpp gave nothing for {silence_limit:.0f} s") from exc
        if chunk is _END:
            return
        if isinstance(chunk, Exception):
            raise chunk
        if isinstance(chunk, dict) and "error" in chunk:
            raise GenerationError(f"llama.cpp: {chunk['error']}")
        if isinstance(chunk, dict) and "timings" in chunk:
            t = chunk["timings"]
            stats.prompt_tokens, stats.prompt_seconds = t.get("prompt_n", 0), t.get("prompt_ms", 0.0) / 1000
            stats.new_tokens, stats.decode_seconds = t.get("predicted_n", 0), t.get("predicted_ms", 0.0) / 1000
        for choice in (chunk.get("choices") or []) if isinstance(chunk, dict) else []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield piece
