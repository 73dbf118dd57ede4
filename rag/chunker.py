"""Structure-aware chunking: pages -> chunks that carry the page title and section heading.

Blocks are packed in document order into chunks of at most ``max_chars``; a new section starts a
new chunk once the current one holds ``min_chars``. A table row never leaves its column headers
(each row line names them), and a table that fits stays whole in one chunk.

Many pages are flat paragraphs whose structure is only in the text: a short label line
("Vehículos", "Tarjeta Carulla Mastercard Black"), a question, or a line ending with a colon
introduces the lines after it ("Estos son los bancos…:" then one bank a line). Such a lead line is
kept in one chunk with what it introduces, and a chunk that is already ``min_chars`` long ends
before a label rather than cutting the labelled text from its subject.
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.text import leads, sentences
from scraper.page import Page, Table
from storage.records import Chunk, chunk_id


def chunk_pages(pages: Iterable[Page], max_chars: int, min_chars: int) -> list[Chunk]:
    return [c for page in pages for c in chunk_page(page, max_chars, min_chars)]


def chunk_page(page: Page, max_chars: int, min_chars: int) -> list[Chunk]:
    pieces: list[tuple[str, str]] = []  # (heading, text) units in document order
    for section in page.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                pieces.extend((section.heading, part) for part in _table_parts(block, max_chars))
            else:
                pieces.extend((section.heading, part) for part in _split_long(block, max_chars))

    chunks: list[Chunk] = []
    heading, last_heading, body = "", "", []

    def emit() -> None:
        if body:
            pos = len(chunks)
            chunks.append(Chunk(chunk_id(page.url, pos), page.url, page.title, heading, "\n".join(body), pos))

    for piece_heading, text, labelled in _groups(pieces, max_chars):
        size = sum(len(t) + 1 for t in body)
        new_section = piece_heading != last_heading
        if body and (size + len(text) > max_chars or ((new_section or labelled) and size >= min_chars)):
            emit()
            body = []
        if not body:
            heading = piece_heading
        elif new_section and piece_heading:  # a small section joins the chunk under its own heading line
            body.append(f"{piece_heading}:")
        last_heading = piece_heading
        body.append(text)
    emit()
    return chunks


def _groups(pieces: list[tuple[str, str]], max_chars: int) -> list[tuple[str, str, bool]]:
    """Pieces joined into (heading, text, starts_with_label) groups: lead lines with what they introduce,
    within one section. A group longer than ``max_chars`` falls back to its single pieces."""
    groups: list[list[str]] = []
    headings: list[str] = []
    for heading, text in pieces:
        if groups and headings[-1] == heading and leads(groups[-1][-1]):
            groups[-1].append(text)
        else:
            groups.append([text])
            headings.append(heading)
    out: list[tuple[str, str, bool]] = []
    for heading, group in zip(headings, groups, strict=True):
        if len(group) > 1 and sum(len(t) + 1 for t in group) <= max_chars:
            out.append((heading, "\n".join(group), True))
        else:
            out.extend((heading, text, False) for text in group)
    return out


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
