"""Plain records the store holds and the rooms above share: a chunk of a page and a sparse vector."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from scraper.layout import laid_out

CHUNK_NAMESPACE = uuid.UUID("6f1c8e1e-3f5b-4d2a-9a57-2b1b7f0c9e11")


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of a page; ``id`` is derived from the URL and position, ``content_hash`` from the text."""

    id: str
    url: str
    title: str
    heading: str
    text: str
    position: int
    unit_start: int = -1  # the knowledge unit this chunk belongs to: positions [unit_start, unit_end) of its page
    unit_end: int = -1
    kinds: tuple[str, ...] = ()  # the kind of each line of ``text`` (scraper.layout.Kind), set by the chunker

    @property
    def lines(self) -> list[tuple[str, str]]:
        """Each line of the body with its kind. A chunk stored without kinds (an index built before they were
        carried) has its lines read as the chunker reads a flat line (``scraper.layout``) until a refresh."""
        lines = self.text.split("\n")
        if len(self.kinds) != len(lines):
            return laid_out(self.text)
        return list(zip(lines, self.kinds, strict=True))

    @property
    def unit_positions(self) -> range:
        """The positions of the chunks read with this one (itself alone for an index built before units)."""
        if 0 <= self.unit_start <= self.position < self.unit_end:
            return range(self.unit_start, self.unit_end)
        return range(self.position, self.position + 1)

    @property
    def unit(self) -> tuple[str, int]:
        """Which knowledge unit this chunk is read in: its page and the unit's first position."""
        return self.url, self.unit_positions.start

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


@dataclass(frozen=True)
class SparseVector:
    """Term indices and weights (BM25-style for documents, 1 per term for queries)."""

    indices: list[int]
    values: list[float]
