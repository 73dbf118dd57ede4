"""Cite stage: the pages an answer came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.retriever import Retrieved
from rag.text import tokens


@dataclass(frozen=True)
class Source:
    url: str
    title: str


def cite(answer_text: str, hits: Sequence[Retrieved], max_sources: int = 3) -> list[Source]:
    """Chunks sharing most of the answer's terms (at least 60 % of the best overlap), best first, one per page;
    the best hit's page when nothing overlaps."""
    answer_terms = set(tokens(answer_text))
    scored = []
    for rank, h in enumerate(hits):
        overlap = len(answer_terms & set(tokens(h.chunk.search_text))) / max(len(answer_terms), 1)
        scored.append((overlap, -rank, h))
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    best = scored[0][0] if scored else 0.0
    sources: list[Source] = []
    for overlap, _, h in scored:
        if overlap < 0.6 * best or len(sources) >= max_sources:
            break
        if all(s.url != h.chunk.url for s in sources):
            sources.append(Source(h.chunk.url, h.chunk.title))
    return sources or ([Source(hits[0].chunk.url, hits[0].chunk.title)] if hits else [])
