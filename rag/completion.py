"""Completion stage: an answer drawn from part of a passage gets the rest of that passage, as the pages word it.

A small model often quotes the first sentence of the passage that answers and stops: "el FNG podrá buscar la
recuperación…" without "…continuarás reportado ante centrales de riesgo", a card's tagline without the
benefits listed under it, or "Sí, puedes comprar fuera de Colombia" (the heading, echoed) without the line
below the heading that says how. The passage is the retrieved line the answer draws most of its terms from:
- a line the answer covers in part: its sentences after the ones the answer covers, and, when the line is a
  paragraph, the list items right under it (as the chunk types them: ``scraper.layout``);
- a heading or a question (the chunk's heading, a "¿…?" line, a label): the line that answers it, read from
  the first chunk of that section.
A line ending with a colon introduces a list whose items the model chose from, one item of a list does not
bring its siblings, a table row is not completed, and text that tries to instruct the bot is never added.
What is added is the pages' own text, verbatim, so it passes every grounding check the answer passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.policy import DEFAULT_RULES, Rules, is_injection
from rag.retriever import Retrieved
from rag.text import sentences, tokens
from scraper.layout import LEADS

MAX_LIST_ITEMS = 5
CELL_END = re.compile(r";\s*$")


@dataclass(frozen=True)
class Line:
    hit: int
    index: int  # -1: the chunk's heading; else the line's index in the chunk's body
    text: str
    kind: str  # scraper.layout.Kind


def share(terms: Sequence[str], of: set[str]) -> float:
    """The part of ``terms`` (distinct) found in ``of``."""
    distinct = set(terms)
    return len(distinct & of) / len(distinct) if distinct else 0.0


def whole_sentences(line: str) -> list[str]:
    """A line's sentences, a ";"-separated run (a table row's cells, a clause list) kept as one."""
    out: list[str] = []
    for piece in sentences(line):
        if out and CELL_END.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def drawn_from(answer: str, hits: Sequence[Retrieved], min_share: float) -> Line | None:
    """The retrieved line holding most of the answer's terms, at least ``min_share`` of them (a body line before a
    heading on a tie)."""
    terms = tokens(answer)
    best: tuple[float, int, Line] | None = None
    for h, hit in enumerate(hits):
        candidates = [Line(h, i, text, kind) for i, (text, kind) in enumerate(hit.chunk.lines)]
        if hit.chunk.heading and hit.chunk.heading != hit.chunk.title:
            candidates.append(Line(h, -1, hit.chunk.heading, "heading"))
        for line in candidates:
            key = (share(terms, set(tokens(line.text))), line.index >= 0, line)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None or best[0] < min_share:
        return None
    return best[2]


def answer_to_heading(heading_of: Retrieved, hits: Sequence[Retrieved]) -> str:
    """The first body line of the heading's section: the chunk with this heading nearest the section start."""
    same = [h for h in hits if h.chunk.url == heading_of.chunk.url and h.chunk.heading == heading_of.chunk.heading]
    first = min(same, key=lambda h: h.chunk.position)
    return next((text for text, kind in first.chunk.lines if kind not in LEADS), "")


def listed_after(lines: Sequence[tuple[str, str]], index: int) -> list[str]:
    """The list items right under line ``index`` (its first ``MAX_LIST_ITEMS``), as the chunk types them."""
    items: list[str] = []
    for text, kind in lines[index + 1:index + 1 + MAX_LIST_ITEMS]:
        if kind != "item":
            break
        items.append(text)
    return items


def rest_of_passage(answer: str, hits: Sequence[Retrieved], rules: Rules = DEFAULT_RULES) -> str:
    """What the answer leaves out of the passage it is drawn from, verbatim ("" when nothing is left)."""
    line = drawn_from(answer, hits, rules.complete_min_drawn_share)
    if line is None:
        return ""
    said = set(tokens(answer))
    hit = hits[line.hit]
    lines = hit.chunk.lines
    if line.index < 0:
        candidates = [answer_to_heading(hit, hits)]
    elif line.kind in ("intro", "heading"):
        return ""  # a list's introduction: the model chose its items
    elif line.kind in ("question", "label"):  # what it introduces: the next line answers it ("Vehículos")
        candidates = [text for text, _ in lines[line.index + 1:line.index + 2]]
    else:
        pieces = whole_sentences(line.text)
        covered = [i for i, piece in enumerate(pieces) if share(tokens(piece), said) >= rules.complete_covered_share]
        candidates = pieces[covered[-1] + 1:] if covered else []
        if line.kind == "text":  # a paragraph (no item itself): the items listed under it spell it out
            candidates += listed_after(lines, line.index)
    added: list[str] = []
    for text in candidates:
        if not text or share(tokens(text), said) >= rules.complete_covered_share or is_injection(text):
            continue
        if sum(len(a) + 1 for a in added) + len(text) > rules.complete_max_added_chars:
            break
        added.append(text)
    return " ".join(added)
