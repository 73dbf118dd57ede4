"""Structure-aware chunking: pages -> chunks that carry the page title and section heading.

Blocks are packed in document order into chunks of at most ``max_chars``; a new section starts a
new chunk once the current one holds ``min_chars``. A table row never leaves its column headers
(each row line names them), and a table that fits stays whole in one chunk.

Every line of a chunk is typed once, here (``scraper.layout``: a table row, an HTML list's item, a description
list's label/value pair, a ``<details>`` question and a section heading joined into a chunk from the page's
structure, a flat line from its layout), and the chunk carries the kinds. A line that introduces the next (a
label such as "Vehículos", a question, a line ending with a colon) is kept in one chunk with what it introduces,
and a chunk that is already ``min_chars`` long ends before such an entry rather than cutting the labelled text
from its subject.
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.text import sentences
from scraper.layout import LEADS, line_kind, with_items
from scraper.page import Faq, Fields, ItemList, Page, Table
from storage.records import Chunk, chunk_id

Piece = tuple[str, str, tuple[str, ...]]  # (section heading, text, the kind of each of its lines)


def chunk_pages(pages: Iterable[Page], max_chars: int, min_chars: int) -> list[Chunk]:
    return [c for page in pages for c in chunk_page(page, max_chars, min_chars)]


def chunk_page(page: Page, max_chars: int, min_chars: int) -> list[Chunk]:
    pieces: list[Piece] = []  # in document order
    for section in page.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                pieces.extend((section.heading, part, ("row",) * (part.count("\n") + 1))
                              for part in _table_parts(block, max_chars))
            elif isinstance(block, ItemList):
                pieces.extend((section.heading, part, ("item",) * (part.count("\n") + 1))
                              for part in _pack(list(block.items), max_chars, "\n"))
            elif isinstance(block, Fields):
                pieces.extend((section.heading, part, ("field",) * (part.count("\n") + 1))
                              for part in _pack(block.lines(), max_chars, "\n"))
            elif isinstance(block, Faq):
                pieces.append((section.heading, block.question, ("question",)))  # joined to its answer (_entries)
                pieces.extend(_flat(section.heading, block.answer, max_chars) if block.answer else [])
            else:
                pieces.extend(_flat(section.heading, block, max_chars))

    chunks: list[Chunk] = []
    heading, last_heading, body, kinds = "", "", [], []

    def emit() -> None:
        if body:
            pos = len(chunks)
            text = "\n".join(body)
            chunks.append(Chunk(chunk_id(page.url, pos), page.url, page.title, heading, text, pos,
                                kinds=with_items(text.split("\n"), kinds)))

    for (piece_heading, text, piece_kinds), introduced in _entries(pieces, max_chars):
        size = sum(len(t) + 1 for t in body)
        new_section = piece_heading != last_heading
        if body and (size + len(text) > max_chars or ((new_section or introduced) and size >= min_chars)):
            emit()
            body, kinds = [], []
        if not body:
            heading = piece_heading
        elif new_section and piece_heading:  # a small section joins the chunk under its own heading line
            body.append(f"{piece_heading}:")
            kinds.append("heading")
        last_heading = piece_heading
        body.append(text)
        kinds.extend(piece_kinds)
    emit()
    return chunks


def _flat(heading: str, text: str, max_chars: int) -> list[Piece]:
    """A flat text's pieces, each line typed by its layout."""
    return [(heading, part, tuple(line_kind(line) for line in part.split("\n")))
            for part in _split_long(text, max_chars)]


def _entries(pieces: list[Piece], max_chars: int) -> list[tuple[Piece, bool]]:
    """The pieces with each line that introduces the next (one line of a kind in ``LEADS``) joined to it within
    one section, and whether the piece is such an entry. An entry longer than ``max_chars`` stays in pieces."""
    entries: list[list[Piece]] = []
    for piece in pieces:
        last = entries[-1][-1] if entries else None
        if last and last[0] == piece[0] and len(last[2]) == 1 and last[2][0] in LEADS:
            entries[-1].append(piece)
        else:
            entries.append([piece])
    out: list[tuple[Piece, bool]] = []
    for entry in entries:
        text = "\n".join(p[1] for p in entry)
        if len(entry) > 1 and len(text) < max_chars:
            out.append(((entry[0][0], text, tuple(k for p in entry for k in p[2])), True))
        else:
            out.extend((piece, False) for piece in entry)
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
