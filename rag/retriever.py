"""Hybrid retrieval: dense (embeddings) and sparse (BM25-style) rankings fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rag.chunker import Chunk, chunk_id
from rag.embedder import Embedder
from rag.sparse import encode_query
from storage.vector_store import VectorStore

Mode = Literal["hybrid", "dense", "sparse"]
RRF_K = 60


@dataclass(frozen=True)
class Retrieved:
    """A ranked chunk: ``score`` is the fused score; the dense cosine is kept for grounding decisions."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    sparse_score: float | None = None


class Retriever:
    def __init__(self, store: VectorStore, embedder: Embedder, mode: Mode = "hybrid", candidates: int = 30,
                 dense_weight: float = 1.0, sparse_weight: float = 1.0) -> None:
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self.candidates = candidates
        self.weights = {"dense": dense_weight, "sparse": sparse_weight}

    def search(self, query: str, k: int = 5) -> list[Retrieved]:
        query = query.strip()
        if not query:
            return []
        dense = self.embedder.embed_query(query) if self.mode in ("hybrid", "dense") else None
        sparse = encode_query(query) if self.mode in ("hybrid", "sparse") else None
        lists = self.store.search(dense, sparse, max(k, self.candidates))
        named = []
        if dense is not None:
            named.append(("dense", lists.pop(0) if lists else []))
        if sparse is not None and sparse.indices:
            named.append(("sparse", lists.pop(0) if lists else []))
        fused: dict[str, float] = {}
        scores: dict[str, dict[str, float]] = {}
        chunks: dict[str, Chunk] = {}
        for name, hits in named:
            for rank, hit in enumerate(hits, start=1):
                fused[hit.chunk.id] = fused.get(hit.chunk.id, 0.0) + self.weights[name] / (RRF_K + rank)
                scores.setdefault(hit.chunk.id, {})[name] = hit.score
                chunks[hit.chunk.id] = hit.chunk
        ranked = sorted(fused, key=lambda cid: fused[cid], reverse=True)[:k]
        return [Retrieved(chunks[c], fused[c], scores[c].get("dense"), scores[c].get("sparse")) for c in ranked]

    def following(self, hits: list[Retrieved], count: int) -> list[Retrieved]:
        """For the best ``count`` hits, the chunk that follows each on its page (when not already a hit).

        A topic often starts at the end of one chunk and goes on in the next (a product's name,
        then its benefits): the generator sees both; the ranking is left as it is.
        """
        have = {h.chunk.id for h in hits}
        wanted = [chunk_id(h.chunk.url, h.chunk.position + 1) for h in hits[:count]]
        return [Retrieved(c, 0.0) for c in self.store.get([i for i in dict.fromkeys(wanted) if i not in have])]
