"""Dense embeddings with sentence-transformers (document and query prompts of the model)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.hardware import native_bf16

log = logging.getLogger(__name__)


def pick_device(configured: str | None) -> str:
    if configured:
        return configured
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, configured: str = "auto") -> str:
    """bfloat16 on CUDA and on CPUs with native bf16 (AMX / AVX512-BF16), else float32."""
    if configured != "auto":
        return configured
    if device.startswith("cuda"):
        return "bfloat16"
    return "bfloat16" if native_bf16() else "float32"


TITLE_SLOT = "title: none"  # the title field of a document prompt (EmbeddingGemma: "title: none | text: ")


class Embedder:
    """A sentence-transformers model, loaded on first use; vectors are L2-normalised float32.

    ``name`` (model and dtype) says which query vectors it gives and ``documents_name`` (with how documents are
    titled) keys the embedding cache; both are known without loading the model. ``site_name`` is added to every
    titled document's title: questions name the company ("¿Cómo se llamaba Tuya cuando se fundó?"), its pages
    seldom do.
    """

    def __init__(self, model: str, *, device: str | None, dtype: str, batch_size: int, max_seq_length: int,
                 site_name: str = "") -> None:
        self.model_ref = model
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.site_name = site_name.strip()
        self.name = f"{Path(model).name if Path(model).is_dir() else model}@{self.dtype}"
        self.documents_name = f"{self.name}+title:{self.site_name}"

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        model = SentenceTransformer(
            self.model_ref, device=self.device, model_kwargs={"torch_dtype": getattr(torch, self.dtype)}
        )
        model.max_seq_length = min(self.max_seq_length, model.max_seq_length or self.max_seq_length)
        log.info("embedder %s loaded on %s", self.name, self.device)
        return model

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> np.ndarray:
        """Document vectors. ``titles`` (each text's page title and heading) go, with the site's name, in the
        title field of the model's document prompt (EmbeddingGemma: "title: … | text: …"), or before the
        text for a model without one."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if titles is None:
            vectors = self.model.encode_document(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        else:
            vectors = self.model.encode(self._titled(texts, titles), prompt="", batch_size=self.batch_size,
                                        normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def _titled(self, texts: Sequence[str], titles: Sequence[str]) -> list[str]:
        prompt = (self.model.prompts or {}).get("document", "")
        full = [" | ".join(part for part in (title, self.site_name) if part) for title in titles]
        if TITLE_SLOT in prompt:
            return [prompt.replace(TITLE_SLOT, f"title: {title or 'none'}", 1) + text
                    for title, text in zip(full, texts, strict=True)]
        return [prompt + (f"{title}\n{text}" if title else text) for title, text in zip(full, texts, strict=True)]

    def embed_query(self, text: str) -> np.ndarray:
        vector = self.model.encode_query([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return np.asarray(vector, dtype=np.float32)

    def similarities(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """The cosine of each text (embedded as a document) to the question (embedded as a query)."""
        return self.embed_documents(texts) @ self.embed_query(question)
