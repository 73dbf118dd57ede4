"""Hybrid retrieval as a LangChain retriever: dense (embeddings) and sparse (BM25-style) rankings fused by
reciprocal rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.sparse import encode_query
from storage.records import Chunk, chunk_id
from storage.vector_store import StoredHit

Mode = Literal["hybrid", "dense", "sparse"]
RRF_K = 60


@dataclass(frozen=True)
class Retrieved:
    """A ranked chunk: ``score`` is the fused score; the dense cosine is kept for grounding decisions."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    sparse_score: float | None = None

    def to_document(self) -> Document:
        c = self.chunk
        return Document(page_content=c.text, id=c.id, metadata={
            "url": c.url, "title": c.title, "heading": c.heading, "position": c.position, "score": self.score,
            "dense_score": self.dense_score, "sparse_score": self.sparse_score})


def fuse(ranked_lists: Mapping[str, tuple[float, Sequence[StoredHit]]], k: int,
         first_of: str | None = None) -> list[Retrieved]:
    """Reciprocal rank fusion of named ranked lists ("dense", "sparse"): each list adds weight / (RRF_K + rank)
    to a chunk; the best ``k`` chunks, each with the raw score every list gave it. The best chunk of the list
    named ``first_of`` is among the first two whatever the fusion gives it: chunks that both lists rank fairly
    (a long page of document titles sharing many words with the question) must not bury the chunk whose
    meaning is closest to the question, when the page is worded otherwise than the question."""
    fused: dict[str, float] = {}
    raw: dict[str, dict[str, float]] = {}
    chunks: dict[str, Chunk] = {}
    for name, (weight, hits) in ranked_lists.items():
        for rank, hit in enumerate(hits, start=1):
            fused[hit.chunk.id] = fused.get(hit.chunk.id, 0.0) + weight / (RRF_K + rank)
            raw.setdefault(hit.chunk.id, {})[name] = hit.score
            chunks[hit.chunk.id] = hit.chunk
    ranked = sorted(fused, key=lambda cid: fused[cid], reverse=True)
    best_hits = ranked_lists[first_of][1] if first_of in ranked_lists else ()
    if best_hits and k > 1 and best_hits[0].chunk.id not in ranked[:2]:
        ranked.remove(best_hits[0].chunk.id)
        ranked.insert(1, best_hits[0].chunk.id)
    ranked = ranked[:k]
    return [Retrieved(chunks[c], fused[c], raw[c].get("dense"), raw[c].get("sparse")) for c in ranked]


class HybridRetriever(BaseRetriever):
    """Dense and/or sparse search over the vector store, fused by reciprocal rank; ``invoke`` gives
    LangChain documents (chunk body, page and scores in the metadata), ``search`` the typed hits."""

    store: Any
    embedder: Any
    mode: Mode
    candidates: int
    k: int
    dense_weight: float = 1.0
    sparse_weight: float = 1.0
    keep_dense_best: bool = True  # the dense side's best chunk is among the first two hits (``fuse``)

    def search(self, query: str, k: int, query_vector: np.ndarray | None = None) -> list[Retrieved]:
        """The ``k`` best chunks for ``query`` (``query_vector``: its dense vector, when already computed)."""
        query = query.strip()
        if not query:
            return []
        dense = None
        if self.mode in ("hybrid", "dense"):
            dense = query_vector if query_vector is not None else self.embedder.embed_query(query)
        sparse = encode_query(query) if self.mode in ("hybrid", "sparse") else None
        lists = self.store.search(dense, sparse, max(k, self.candidates))
        ranked: dict[str, tuple[float, Sequence[StoredHit]]] = {}
        if dense is not None:
            ranked["dense"] = (self.dense_weight, lists.pop(0) if lists else [])
        if sparse is not None and sparse.indices:
            ranked["sparse"] = (self.sparse_weight, lists.pop(0) if lists else [])
        return fuse(ranked, k, first_of="dense" if self.keep_dense_best else None)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        return [hit.to_document() for hit in self.search(query, int(kwargs.get("k") or self.k))]

    def unit(self, hit: Retrieved) -> list[Retrieved]:
        """The chunks of ``hit``'s knowledge unit in page order (``hit`` keeps its score): what is read whole."""
        ids = [chunk_id(hit.chunk.url, p) for p in hit.chunk.unit_positions]
        return [hit if c.id == hit.chunk.id else Retrieved(c, 0.0) for c in self.store.get(ids)]

    def following(self, hits: Sequence[Retrieved], count: int) -> list[Retrieved]:
        """For the best ``count`` hits, the chunk that follows each on its page (when not already a hit).

        A topic often starts at the end of one chunk and goes on in the next (a product's name,
        then its benefits): the generator sees both; the ranking is left as it is.
        """
        have = {h.chunk.id for h in hits}
        wanted = [chunk_id(h.chunk.url, h.chunk.position + 1) for h in hits[:count]]
        return [Retrieved(c, 0.0) for c in self.store.get([i for i in dict.fromkeys(wanted) if i not in have])]
