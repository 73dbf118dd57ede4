"""Context stage: the retrieved chunks, each followed by the chunk that continues it, in reading order."""

from __future__ import annotations

from collections.abc import Sequence

from rag.retriever import Retrieved


def order_context(hits: Sequence[Retrieved], following: Sequence[Retrieved]) -> list[Retrieved]:
    """Each following chunk right after the chunk it continues, and the best hit last.

    A small model leans on what it read last: with the best chunk next to the question it picks the
    sentence that answers (the cities, the benefits list) instead of the first plausible one."""
    after = {(e.chunk.url, e.chunk.position - 1): e for e in following}
    groups: list[list[Retrieved]] = []
    for h in hits:
        groups.append([h])
        if (h.chunk.url, h.chunk.position) in after:
            groups[-1].append(after.pop((h.chunk.url, h.chunk.position)))
    groups.extend([e] for e in after.values())
    return [r for group in reversed(groups) for r in group]


def format_context(hits: Sequence[Retrieved]) -> str:
    """The chunks as numbered blocks, each with its page title and heading."""
    return "\n\n".join(f"[{i}] {h.chunk.search_text}" for i, h in enumerate(hits, start=1))
