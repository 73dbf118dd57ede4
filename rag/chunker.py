"""Structure-aware chunking: pages -> chunks that carry the page title and section heading path.

Blocks are packed in document order into chunks of at most ``max_chars``; a new section starts a
new chunk once the current one holds ``min_chars``, and so does a labelled entry (a label and its text,
a question and its answer: what a flat page writes as a sub-heading), so that the lines after it stay
under it. A block never parts from its own lines (a list from its introduction, a label from its text,
a question from its answer, a row from its headers). A block too long for one chunk is split: a list into parts that each repeat its introduction, a table
into parts whose rows each name their headers, text on line, sentence and word boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.text import sentences
from scraper.page import Block, Field, ItemList, Page, Question, Table, block_lines
from storage.records import Chunk, chunk_id


def chunk_pages(pages: Iterable[Page], max_chars: int, min_chars: int) -> list[Chunk]:
    return [c for page in pages for c in chunk_page(page, max_chars, min_chars)]


def chunk_page(page: Page, max_chars: int, min_chars: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    heading, last_heading, body = "", "", []

    def emit() -> None:
        if body:
            pos = len(chunks)
            chunks.append(Chunk(chunk_id(page.url, pos), page.url, page.title, heading, "\n".join(body), pos))

    for section in page.sections:
        for block in section.blocks:
            entry = isinstance(block, Field | Question)
            for text in _parts(block, max_chars):
                size = sum(len(t) + 1 for t in body)
                new_section = section.heading != last_heading
                if body and (size + len(text) > max_chars or ((new_section or entry) and size >= min_chars)):
                    emit()
                    body = []
                if not body:
                    heading = section.heading
                elif new_section and section.heading:  # a small section joins the chunk under its own heading
                    body.append(f"{section.heading}:")
                last_heading = section.heading
                body.append(text)
    emit()
    return chunks


def _parts(block: Block, max_chars: int) -> list[str]:
    """A block's text in parts that fit a chunk (one part when it fits)."""
    text = "\n".join(block_lines(block))
    if len(text) <= max_chars:
        return [text]
    if isinstance(block, Table):
        return _table_parts(block, max_chars)
    if isinstance(block, ItemList):
        lead = f"{block.intro}\n" if block.intro else ""
        return [lead + part for part in _pack(block.lines()[1 if block.intro else 0:], max_chars - len(lead), "\n")]
    return _split_long(text, max_chars)


def _table_parts(table: Table, max_chars: int) -> list[str]:
    """The table as row lines, split into parts that fit (each line keeps its headers)."""
    return _pack(table.row_lines(), max_chars, "\n")


def _split_long(text: str, max_chars: int) -> list[str]:
    """Split an over-long block on line, then sentence, then word boundaries."""
    if len(text) <= max_chars:
        return [text]
    units: list[str] = []
    for line in text.split("\n"):
        for sentence in sentences(line):
            units.extend(_pack(sentence.split(" "), max_chars, " ") if len(sentence) > max_chars else [sentence])
    return _pack(units, max_chars, "\n")


def _pack(units: list[str], max_chars: int, sep: str) -> list[str]:
    """Greedily join units with ``sep`` into parts of at most ``max_chars`` (a longer unit stands alone)."""
    parts, current = [], ""
    for unit in units:
        if current and len(current) + len(sep) + len(unit) > max_chars:
            parts.append(current)
            current = unit
        else:
            current = f"{current}{sep}{unit}" if current else unit
    if current:
        parts.append(current)
    return parts
