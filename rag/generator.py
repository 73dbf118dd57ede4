"""Text generation backends as LangChain chat models: in-process transformers, or an OpenAI-compatible server.

Both are ``BaseChatModel``s used through runnable chains (``prompt | model | parser``), so LangChain
callbacks and tracing see every generation; the number of new tokens is bound per call
(``model.bind(max_tokens=n)``). The in-process models keep a single model instance for every
conversation; generations run one at a time behind a bounded queue (a full queue raises
``GeneratorBusy`` at once instead of piling up). The transformers backend runs in bfloat16 on CUDA and
on CPUs with native bf16, else float32; a GGUF file (the offline models) is de-quantised once and cached
as a safetensors folder. Its decoding is greedy with prompt lookup: candidate tokens are drafted by
copying the n-gram that follows the last tokens' earlier occurrence in the prompt and verified in one
forward pass, so a grounded answer that quotes its context comes out faster with exactly the same text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import Field, PrivateAttr

from rag.embedder import pick_device, pick_dtype

log = logging.getLogger(__name__)

ChatMessages = list[dict[str, str]]  # [{"role": "system"|"user"|"assistant", "content": ...}]


class GeneratorBusy(RuntimeError):
    """Too many generations are waiting; try again in a moment."""


class GenerationError(RuntimeError):
    """The model backend failed."""


def to_chat_messages(messages: Sequence[BaseMessage]) -> ChatMessages:
    """LangChain messages -> the role/content dicts chat templates take."""
    roles = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}
    return [{"role": roles.get(type(m), "user"), "content": str(m.content)} for m in messages]


class AdmissionQueue:
    """At most ``size`` generations admitted (the rest are refused at once), run one at a time."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self.turn = threading.Lock()  # the model computes one generation at a time
        self.depth = 0  # generations admitted: running or waiting for their turn
        self._counting = threading.Lock()

    @contextmanager
    def admitted(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise GeneratorBusy("the answer queue is full")
        self._count(+1)
        try:
            yield
        finally:
            self._count(-1)
            self._slots.release()

    def _count(self, change: int) -> None:
        with self._counting:
            self.depth += change


@dataclass
class GenerationStats:
    """Figures of the last generation (for benchmarks): tokens and seconds of the prompt and of decoding."""

    prompt_tokens: int = 0
    prompt_seconds: float = 0.0
    new_tokens: int = 0
    decode_seconds: float = 0.0


class LocalChatModel(BaseChatModel):
    """A chat model computed in this process: one loaded model behind an admission queue.

    Subclasses implement ``_load`` (the weights, once) and ``_pieces`` (text pieces of one generation)."""

    max_tokens: int
    queue_size: int
    _queue: AdmissionQueue = PrivateAttr()
    _weights: Any = PrivateAttr(default=None)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    last_stats: GenerationStats = Field(default_factory=GenerationStats, exclude=True)

    def model_post_init(self, context: Any, /) -> None:
        self._queue = AdmissionQueue(self.queue_size)

    @property
    def weights(self) -> Any:
        """The loaded model (loaded on first use)."""
        with self._load_lock:
            if self._weights is None:
                self._weights = self._load()
        return self._weights

    def load(self) -> None:
        """Load the model now (instead of on the first question)."""
        _ = self.weights

    @property
    def queue_depth(self) -> int:
        return self._queue.depth

    def close(self) -> None:
        """Release the loaded model (llama.cpp: its embedded server stops, its threads end before the process)."""
        with self._load_lock:
            self._weights = None

    def _load(self) -> Any:
        raise NotImplementedError

    def _pieces(self, messages: ChatMessages, max_tokens: int) -> Iterator[str]:
        raise NotImplementedError

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        max_tokens = int(kwargs.get("max_tokens") or self.max_tokens)
        with self._queue.admitted():
            for piece in self._pieces(to_chat_messages(messages), max_tokens):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))


class TransformersChatModel(LocalChatModel):
    """A causal LM loaded in-process with transformers (chat template, greedy decoding with prompt lookup)."""

    model_ref: str
    device: str
    dtype: str
    prompt_lookup_tokens: int

    @classmethod
    def create(cls, model: str, *, device: str | None, dtype: str, queue_size: int, max_tokens: int,
               prompt_lookup_tokens: int) -> TransformersChatModel:
        """Pick the device and dtype ("auto": bf16 on CUDA and native-bf16 CPUs, else float32)."""
        chosen = pick_device(device)
        precision = pick_dtype(chosen, dtype)
        label = Path(model).name if Path(model).is_dir() else model
        return cls(model_ref=model, device=chosen, dtype=precision, queue_size=queue_size, max_tokens=max_tokens,
                   prompt_lookup_tokens=prompt_lookup_tokens, name=f"{label}@{precision}")

    @property
    def _llm_type(self) -> str:
        return "tuyabot-transformers"

    def _load(self) -> tuple[Any, Any]:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        source = str(ensure_safetensors(Path(self.model_ref))) if Path(self.model_ref).is_dir() else self.model_ref
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, self.dtype))
        model.to(self.device).eval()
        log.info("generator %s loaded on %s", self.name, self.device)
        return tokenizer, model

    def _pieces(self, messages: ChatMessages, max_tokens: int) -> Iterator[str]:
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        tokenizer, model = self.weights
        closed = threading.Event()  # the consumer stopped reading: stop computing too
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True).to(self.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        drafting = {"prompt_lookup_num_tokens": self.prompt_lookup_tokens} if self.prompt_lookup_tokens else {}
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self._queue.turn:
                    model.generate(**inputs, streamer=streamer, max_new_tokens=max_tokens, do_sample=False,
                                   temperature=None, top_p=None, top_k=None,
                                   stopping_criteria=StoppingCriteriaList([lambda *_, **__: closed.is_set()]),
                                   pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **drafting)
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        started, first, text = time.perf_counter(), 0.0, ""
        worker.start()
        try:
            for piece in streamer:
                first = first or time.perf_counter()
                text += piece
                if piece:
                    yield piece
        finally:
            closed.set()
        worker.join()
        if errors:
            raise GenerationError(str(errors[0])) from errors[0]
        done = time.perf_counter()
        self.last_stats = GenerationStats(int(inputs["input_ids"].shape[1]), (first or done) - started,
                                          len(tokenizer(text, add_special_tokens=False)["input_ids"]),
                                          done - (first or done))


class ServedChatModel(ChatOpenAI):
    """An OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp server...) through ``ChatOpenAI``;
    greedy, streamed, and its failures raised as ``GenerationError``."""

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        try:
            yield from super()._stream(*args, **kwargs)
        except openai.APIConnectionError as exc:  # timeouts included
            raise GenerationError(f"model server unreachable: {exc}") from exc
        except openai.APIStatusError as exc:
            raise GenerationError(f"model server answered {exc.status_code}: {str(exc)[:200]}") from exc


def served_chat_model(base_url: str, model: str, api_key: str | None, *, max_tokens: int, timeout: float,
                      max_retries: int) -> ServedChatModel:
    return ServedChatModel(base_url=base_url, model=model, api_key=api_key or "not-needed", temperature=0,
                           max_tokens=max_tokens, streaming=True, timeout=timeout, max_retries=max_retries,
                           name=f"openai:{model}")


def ensure_safetensors(folder: Path) -> Path:
    """A transformers folder for ``folder``: itself, or (for a GGUF) a de-quantised copy made once."""
    gguf = folder / "model.gguf"
    if not gguf.is_file():
        return folder
    converted = folder / "safetensors"
    if (converted / "config.json").is_file():
        return converted
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to a safetensors folder (once)", gguf)
    staging = folder / "safetensors.partial"
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf.name, dtype=torch.bfloat16)
    # the weights are de-quantised in memory: save them as a plain model
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    staging.rename(converted)
    return converted
