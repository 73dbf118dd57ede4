"""Knowledge units: what the model reads at once. A unit is a run of consecutive chunks of one page, under
as few headings as fit, of at most ``max_chars``. Chunks are what retrieval ranks (small, precise);
the unit of the best chunk is what the answer is read from, always the same text in the same order, so
a backend can compute its prompt state once and reuse it for every question on it (``rag.llamacpp``).

A site-wide block has a URL of its own (``page#fragment``), so it is a unit of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import groupby

from storage.records import Chunk


def assign_units(chunks: Sequence[Chunk], max_chars: int) -> list[Chunk]:
    """``chunks`` (in page order) with their unit's positions set. A unit ends before a chunk that would take
    it past ``max_chars``, and before a new section once it holds half of that."""
    out: list[Chunk] = []
    for _, page_chunks in groupby(chunks, key=lambda c: c.url):
        run: list[Chunk] = []
        for chunk in page_chunks:
            size = sum(len(c.search_text) + 2 for c in run)
            new_section = bool(run) and chunk.heading != run[-1].heading
            if run and (size + len(chunk.search_text) > max_chars or (new_section and size >= max_chars // 2)):
                out.extend(_in_unit(run))
                run = []
            run.append(chunk)
        out.extend(_in_unit(run))
    return out


def _in_unit(run: list[Chunk]) -> list[Chunk]:
    start, end = run[0].position, run[-1].position + 1
    return [replace(c, unit_start=start, unit_end=end) for c in run]


def unit_text(chunks: Sequence[Chunk]) -> str:
    """The unit as the model reads it: the page title, then each section's heading once, then its text."""
    lines = [chunks[0].title] if chunks and chunks[0].title else []
    heading = None
    for c in chunks:
        if c.heading != heading and c.heading and c.heading != c.title:
            lines.append(f"\n{c.heading}")
        heading = c.heading
        lines.append(c.text)
    return "\n".join(lines).strip()


def unit_texts(chunks: Sequence[Chunk]) -> list[str]:
    """The text of every unit the chunks (in any order) make up, in page order."""
    by_unit: dict[tuple[str, int], list[Chunk]] = {}
    for c in sorted(chunks, key=lambda c: (c.url, c.position)):
        by_unit.setdefault(c.unit, []).append(c)
    return [unit_text(run) for run in by_unit.values()]
