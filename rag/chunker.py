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

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from scraper.page import Page, Table

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
LABEL_MAX_CHARS = 60
CHUNK_NAMESPACE = uuid.UUID("6f1c8e1e-3f5b-4d2a-9a57-2b1b7f0c9e11")


@dataclass(frozen=True)
class Chunk:
    """One retrievable unit; ``id`` is derived from the URL and position, ``content_hash`` from the text."""

    id: str
    url: str
    title: str
    heading: str
    text: str
    position: int

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.search_text.encode("utf-8")).hexdigest()

    @property
    def header(self) -> str:
        """Page title and section heading."""
        return f"{self.title} › {self.heading}" if self.heading and self.heading != self.title else self.title

    @property
    def search_text(self) -> str:
        """What is embedded and shown as context: title and heading, then the body."""
        return f"{self.header}\n{self.text}" if self.header else self.text


def chunk_id(url: str, position: int) -> str:
    return str(uuid.uuid5(CHUNK_NAMESPACE, f"{url}#{position}"))


def chunk_pages(pages: Iterable[Page], max_chars: int = 800, min_chars: int = 200) -> list[Chunk]:
    return [c for page in pages for c in chunk_page(page, max_chars, min_chars)]


def chunk_page(page: Page, max_chars: int = 800, min_chars: int = 200) -> list[Chunk]:
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


def leads(text: str) -> bool:
    """Whether a line introduces what follows it: ends with a colon, is a question, or is a short label
    without final punctuation."""
    line = text.strip()
    if "\n" in line or not line:
        return False
    if line.endswith(":") or (line.startswith("¿") and line.endswith("?")):
        return True
    return len(line) <= LABEL_MAX_CHARS and not line.endswith((".", "!", "?", ";", ",", ")"))


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
        for sentence in SENTENCE_END.split(line):
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
