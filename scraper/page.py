"""The page record the scraper hands on: a page's real content as titled sections of blocks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Table:
    """An HTML table: each row keeps its column headers."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def row_lines(self) -> list[str]:
        """One line per row, each cell labelled with its column header ("Header: value")."""
        lines = []
        for row in self.rows:
            cells = []
            for i, cell in enumerate(row):
                header = self.headers[i] if i < len(self.headers) else ""
                if cell:
                    cells.append(f"{header}: {cell}" if header and header != cell else cell)
            if cells:
                lines.append("; ".join(cells))
        return lines

    def text(self) -> str:
        return "\n".join(self.row_lines())


@dataclass(frozen=True)
class ItemList:
    """An HTML list (``<ul>``/``<ol>``): its items in order, one a line."""

    items: tuple[str, ...]

    def text(self) -> str:
        return "\n".join(self.items)


@dataclass(frozen=True)
class Fields:
    """Label/value pairs (an HTML description list, ``<dl>``): each value keeps its label."""

    pairs: tuple[tuple[str, str], ...]

    def lines(self) -> list[str]:
        return [f"{label}: {value}" if label else value for label, value in self.pairs]

    def text(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class Faq:
    """A question with its answer (an HTML ``<details>`` whose ``<summary>`` is the question)."""

    question: str
    answer: str

    def text(self) -> str:
        return f"{self.question}\n{self.answer}" if self.answer else self.question


Block = str | Table | ItemList | Fields | Faq  # a paragraph's text (its lines read for their layout), or typed


@dataclass(frozen=True)
class Section:
    """Content under one heading: its path from the page's top heading down ("Seguros › ¿Cómo reclamar?"),
    "" for content before the first heading."""

    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Page:
    """One crawled page, recorded under its canonical URL."""

    url: str
    title: str
    sections: tuple[Section, ...]
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)
    extracted_by: int = field(default=0, compare=False)  # the extractor's version (scraper.extract.VERSION)

    @property
    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    @property
    def content_hash(self) -> str:
        """SHA-256 of the title and content (not the fetch time): equal hash, same content."""
        payload = json.dumps([self.title, _sections_to_json(self.sections)], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def text(self) -> str:
        parts = [self.title]
        for section in self.sections:
            if section.heading:
                parts.append(section.heading)
            parts.extend(b if isinstance(b, str) else b.text() for b in section.blocks)
        return "\n".join(parts)

    def to_json(self) -> str:
        return json.dumps(
            {"url": self.url, "title": self.title, "fetched_at": self.fetched_at.isoformat(),
             "extracted_by": self.extracted_by, "sections": _sections_to_json(self.sections)},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Page:
        data = json.loads(raw)
        sections = tuple(
            Section(
                heading=s["heading"],
                blocks=tuple(_block_from_json(b) for b in s["blocks"]),
            )
            for s in data["sections"]
        )
        return cls(url=data["url"], title=data["title"], sections=sections,
                   fetched_at=datetime.fromisoformat(data["fetched_at"]), extracted_by=data.get("extracted_by", 0))


def _sections_to_json(sections: tuple[Section, ...]) -> list[dict]:
    return [{"heading": s.heading, "blocks": [b if isinstance(b, str) else asdict(b) for b in s.blocks]}
            for s in sections]


def _block_from_json(block: str | dict) -> Block:
    if isinstance(block, str):
        return block
    if "items" in block:
        return ItemList(tuple(block["items"]))
    if "pairs" in block:
        return Fields(tuple((label, value) for label, value in block["pairs"]))
    if "question" in block:
        return Faq(block["question"], block["answer"])
    return Table(tuple(block["headers"]), tuple(tuple(r) for r in block["rows"]))
