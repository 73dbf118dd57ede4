"""The llama.cpp backend: a GGUF model run as it is (no de-quantisation) through xllamacpp's embedded server.

Why: on CPUs without native bf16 transformers runs a model in float32 (several GB, slow); llama.cpp's
quantised kernels need about a quarter of the memory and are faster there. What it keeps of llama.cpp's
strengths: the prompt cache (the KV of the system prompt and of earlier prompts is reused, so only the
new part of a prompt is processed), streaming, threads = physical cores, greedy decoding with n-gram
lookup drafting (the same text, faster when the answer quotes the context). Decoding is bounded in
tokens and in time (``time_limit_seconds``, also the longest silence before the first token). The
embedded server listens on an ephemeral loopback port only, behind a random API key that nothing outside
this object knows.

Read once (``state_dir`` set): the state of a prompt's system message (the rules and one knowledge unit,
``rag.units``) is computed once by ``keep_states``, saved as a file named by its content, and restored
into the slot before any request that starts with the same system message (milliseconds), so only the
question's tokens are processed. The files survive restarts; a refresh computes only changed units.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import PrivateAttr

from rag.generator import ChatMessages, GenerationError, GenerationStats, LocalChatModel

log = logging.getLogger(__name__)

_END = object()
_SLOT = 0  # the slot every request runs in (requests take turns), whose state is saved and restored
_STATE_SUFFIX = ".state"


@dataclass
class StateReport:
    """What ``keep_states`` did: states computed now, already kept, and files of states no longer wanted."""

    computed: int = 0
    kept: int = 0
    removed: int = 0
    seconds: float = 0.0


class LlamaCppChatModel(LocalChatModel):
    """A GGUF chat model in-process through llama.cpp (greedy, streamed, prompt cache, bounded in time)."""

    model_path: str
    threads: int
    context_tokens: int
    lookup_tokens: int
    time_limit_seconds: float
    state_dir: str | None = None
    _api_key: str = PrivateAttr(default_factory=lambda: secrets.token_urlsafe(32))
    _slot_holds: str = PrivateAttr(default="")
    _wanted: set[str] = PrivateAttr(default_factory=set)  # states of the index's units (computed or not yet)

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
        if self.state_dir:
            Path(self.state_dir).mkdir(parents=True, exist_ok=True)
            params.slot_save_path = str(Path(self.state_dir).resolve()) + "/"
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.cache_ram_mib = 512  # earlier prompts' KV in host memory, restored when a prefix matches
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.api_keys = [self._api_key]  # the loopback HTTP endpoint is closed to others
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
        if self.state_dir:
            request["id_slot"] = _SLOT

        def on_chunk(chunk: Any) -> bool:
            chunks.put(chunk)
            return stop.is_set()  # True: llama.cpp stops generating

        def run() -> None:
            try:
                with self._queue.turn:
                    self._restore_state(messages)
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


    def state_key(self, system: str) -> str:
        """The file name of a system message's state for this model file."""
        model = Path(self.model_path)
        identity = f"{model.name}\0{model.stat().st_size}\0{system}"
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40] + _STATE_SUFFIX

    def keep_states(self, systems: Iterable[str], *, compute: bool = True) -> StateReport:
        """Keep a state for every system message in ``systems`` and delete the saved states of any other (a
        refresh's removed or changed units). ``compute``: compute the missing ones now, each taking its turn
        with answers; else each is computed at the first question on it."""
        report, started = StateReport(), time.perf_counter()
        if not self.state_dir:
            return report
        wanted = {self.state_key(s): s for s in systems}
        self._wanted = set(wanted)
        folder = Path(self.state_dir)
        for key, system in wanted.items():
            if (folder / key).is_file():
                report.kept += 1
            elif compute:
                with self._queue.turn:
                    self._compute_state(key, system)
                report.computed += 1
        for path in [*folder.glob(f"*{_STATE_SUFFIX}"), *folder.glob("*.partial")]:
            if path.name not in wanted:
                path.unlink(missing_ok=True)
                report.removed += 1
                if path.name == self._slot_holds:
                    self._slot_holds = ""  # kept no longer: a question on it computes and saves it again
        report.seconds = time.perf_counter() - started
        log.info("unit states: %d computed, %d kept, %d removed in %.1f s", report.computed, report.kept,
                 report.removed, report.seconds)
        return report

    def _compute_state(self, key: str, system: str) -> None:
        """Process [system, empty user turn] in the slot (one token generated) and save the slot's state."""
        request = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": ""}],
                   "max_tokens": 1, "temperature": 0.0, "cache_prompt": True, "id_slot": _SLOT}
        result = self.weights.handle_chat_completions(request)
        if isinstance(result, dict) and "error" in result:
            raise GenerationError(f"llama.cpp: {result['error']}")
        partial = f"{key}.partial"  # renamed once whole: a process killed while saving leaves no half state
        self._slot_action("save", partial)
        Path(self.state_dir or ".", partial).replace(Path(self.state_dir or ".", key))
        self._slot_holds = key

    def _restore_state(self, messages: ChatMessages) -> None:
        """Put the saved state of the request's system message into the slot, when there is one (in turn)."""
        if not self.state_dir or not messages or messages[0].get("role") != "system":
            return
        system = str(messages[0].get("content", ""))
        key = self.state_key(system)
        if key == self._slot_holds:
            return
        try:
            if (Path(self.state_dir) / key).is_file():
                self._slot_action("restore", key)
                self._slot_holds = key
            elif key in self._wanted:  # a unit whose state was not computed yet: now, once
                self._compute_state(key, system)
        except GenerationError as exc:  # the prompt is processed whole instead
            log.warning("could not restore or keep a unit state: %s", exc)

    def _slot_action(self, action: str, filename: str) -> None:
        self._slot_holds = ""
        try:
            response = httpx.post(f"{self.weights.listening_address}/slots/{_SLOT}", params={"action": action},
                                  json={"filename": filename}, timeout=60,
                                  headers={"Authorization": f"Bearer {self._api_key}"})
        except httpx.HTTPError as exc:
            raise GenerationError(f"llama.cpp slot {action}: {exc}") from exc
        if response.status_code != 200:
            raise GenerationError(f"llama.cpp slot {action}: HTTP {response.status_code} {response.text[:200]}")


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
