"""Text generation backends behind one interface: in-process transformers, or an OpenAI-compatible server.

The transformers backend keeps a single model instance for every conversation; generations run
one at a time behind a bounded queue (a full queue answers ``GeneratorBusy`` at once instead of
piling up). On CUDA it runs in bfloat16, on CPU in bfloat16 where the CPU has native bf16, else
float32. A GGUF file (the offline models) is de-quantised once and cached as a safetensors folder.
Decoding is greedy with prompt lookup: candidate tokens are drafted by copying the n-gram that
follows the last tokens' earlier occurrence in the prompt and verified in one forward pass, so a
grounded answer that quotes its context comes out faster with exactly the same text.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import httpx

from rag.embedder import pick_device, pick_dtype

log = logging.getLogger(__name__)

ChatMessages = Sequence[dict[str, str]]  # [{"role": "system"|"user"|"assistant", "content": ...}]


class GeneratorBusy(RuntimeError):
    """Too many generations are waiting; try again in a moment."""


class GenerationError(RuntimeError):
    """The model backend failed."""


class Generator(Protocol):
    name: str

    def stream(self, messages: ChatMessages, max_new_tokens: int) -> Iterator[str]: ...

    def generate(self, messages: ChatMessages, max_new_tokens: int) -> str: ...


class TransformersGenerator:
    """A causal LM loaded in-process with transformers (chat template, greedy decoding)."""

    def __init__(self, model: str, *, device: str | None = None, dtype: str = "auto", queue_size: int = 8,
                 prompt_lookup_tokens: int = 10) -> None:
        self.model_ref = model
        self.prompt_lookup_tokens = prompt_lookup_tokens
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.name = f"{Path(model).name if Path(model).is_dir() else model}@{self.dtype}"
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(queue_size)

    @cached_property
    def _loaded(self):  # type: ignore[no-untyped-def]
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        source = self.model_ref
        if Path(source).is_dir():
            os.environ["HF_HUB_OFFLINE"] = "1"
            source = str(ensure_safetensors(Path(source)))
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, self.dtype))
        model.to(self.device).eval()
        log.info("generator %s loaded on %s", self.name, self.device)
        return tokenizer, model

    def load(self) -> None:
        """Load the model now (instead of on the first question)."""
        _ = self._loaded

    def stream(self, messages: ChatMessages, max_new_tokens: int) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        if not self._slots.acquire(blocking=False):
            raise GeneratorBusy("the answer queue is full")
        try:
            tokenizer, model = self._loaded
            inputs = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                                   return_tensors="pt", return_dict=True).to(self.device)
            streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
            errors: list[BaseException] = []
            drafting = {"prompt_lookup_num_tokens": self.prompt_lookup_tokens} if self.prompt_lookup_tokens else {}

            def run() -> None:
                try:
                    with self._lock:
                        model.generate(**inputs, streamer=streamer, max_new_tokens=max_new_tokens, do_sample=False,
                                       temperature=None, top_p=None, top_k=None,
                                       pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **drafting)
                except BaseException as exc:  # surfaced to the caller below
                    errors.append(exc)
                    streamer.end()

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            yield from (piece for piece in streamer if piece)
            worker.join()
            if errors:
                raise GenerationError(str(errors[0])) from errors[0]
        finally:
            self._slots.release()

    def generate(self, messages: ChatMessages, max_new_tokens: int) -> str:
        return "".join(self.stream(messages, max_new_tokens)).strip()


class OpenAIGenerator:
    """An OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp server...)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        self.name = f"openai:{model}"
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def stream(self, messages: ChatMessages, max_new_tokens: int) -> Iterator[str]:
        body = {"model": self.model, "messages": list(messages), "max_tokens": max_new_tokens,
                "temperature": 0, "stream": True}
        try:
            with self.client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise GenerationError(f"model server answered {response.status_code}: {response.text[:200]}")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choices = json.loads(data).get("choices") or [{}]
                    piece = (choices[0].get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise GenerationError(f"model server unreachable: {exc}") from exc

    def generate(self, messages: ChatMessages, max_new_tokens: int) -> str:
        return "".join(self.stream(messages, max_new_tokens)).strip()


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
