"""Context focusing: from the retrieved chunks keep only the sentences closest to the question.

A small model answers better (and starts sooner) from a dozen relevant sentences than from seven
whole chunks: prompt processing dominates the time to first token on a CPU, and distractors are
what make it miss the fact or say "not found". Sentences (and table rows, one a line) are embedded
with the retrieval embedder and the best ones are kept in their original order under their page
title and heading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embedder import Embedder
from rag.retriever import Retrieved
from rag.text import sentences
from scraper.layout import LEADS


@dataclass(frozen=True)
class Unit:
    hit: int
    position: int
    text: str


def units_of(lines: Sequence[tuple[str, str]]) -> list[str]:
    """Sentences (and table rows) of a chunk body, given as its lines with their kinds (``Chunk.lines``). A line
    that introduces the next (``scraper.layout.LEADS``: a label such as "Vehículos", a question, a line ending
    with a colon) is kept as the start of the sentence after it, which it gives its subject to."""
    return [unit for unit, _ in units_and_answers(lines)]


def units_and_answers(lines: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each unit of ``units_of`` with the same unit as an answer gives it: without the questions among its lead
    lines (the page's "¿Cuánto cuesta…?" above the sentence that answers it is no part of the answer)."""
    out: list[tuple[str, str]] = []
    carry, said = "", ""
    for line, kind in lines:
        if kind in LEADS:
            carry = f"{carry} {line}".strip()
            said = said if kind == "question" else f"{said} {line}".strip()
            continue
        pieces = [(piece, piece) for piece in sentences(line)]
        if carry:
            pieces[0] = (f"{carry} {pieces[0][0]}", f"{said} {pieces[0][1]}".strip())
            carry, said = "", ""
        out.extend(pieces)
    if carry:
        out.append((carry, said or carry))
    return out


def focus(question: str, hits: Sequence[Retrieved], embedder: Embedder, max_units: int) -> str:
    """The context for the prompt: the ``max_units`` sentences closest to the question, grouped by chunk."""
    units = [Unit(i, j, text) for i, h in enumerate(hits) for j, text in enumerate(units_of(h.chunk.lines))]
    if not units:
        return ""
    similarity = embedder.similarities(question, [f"{hits[u.hit].chunk.header}: {u.text}" for u in units])
    best = sorted(np.argsort(-similarity)[:max_units].tolist(), key=lambda k: (units[k].hit, units[k].position))
    blocks: list[str] = []
    for index, hit in enumerate(hits):
        kept = [units[k].text for k in best if units[k].hit == index]
        if kept:
            blocks.append(f"[{len(blocks) + 1}] {hit.chunk.header}\n" + "\n".join(kept))
    return "\n\n".join(blocks)
