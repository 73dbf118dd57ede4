"""The page record the scraper hands on: a page's real content as sections (under their heading path) of
typed blocks, so that every stage reads the page's structure instead of guessing it again:

- a paragraph (``str``);
- ``ItemList``: a list with the line that introduces it ("Estos son los requisitos:");
- ``Field``: a label and its value ("Convenio: 10658", a label line and the paragraph under it);
- ``Question``: a question and its answer (an FAQ pair);
- ``Table``: rows that keep their column headers.

Each block renders as text lines the model reads. A list item is written ``- item`` right under its
introduction (``is_item``); a field, a question and a table row are each one line, so their label, question
or headers never part from the value.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

ITEM_MARK = "- "


def is_item(line: str) -> bool:
    """Whether a rendered line is an item of the list introduced by the lines before it."""
    return line.startswith(ITEM_MARK)


@dataclass(frozen=True)
class ItemList:
    """A list (``<ul>``, ``<ol>``, or lines a colon introduces) with its introduction ("" when it has none)."""

    intro: str
    items: tuple[str, ...]

    def lines(self) -> list[str]:
        return ([self.intro] if self.intro else []) + [f"{ITEM_MARK}{item}" for item in self.items]


@dataclass(frozen=True)
class Field:
    """A label and its value: ``<dt>``/``<dd>``, "Convenio: 10658", or a label line and the text under it."""

    label: str
    value: str

    def lines(self) -> list[str]:
        return [f"{self.label}: {self.value}"]


@dataclass(frozen=True)
class Question:
    """A question and its answer (``<details>``/``<summary>``, or a "¿…?" line and the text under it)."""

    question: str
    answer: str

    def lines(self) -> list[str]:
        return [f"{self.question} {self.answer}"]


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

    def lines(self) -> list[str]:
        return self.row_lines()

    def text(self) -> str:
        return "\n".join(self.row_lines())


Block = str | ItemList | Field | Question | Table
BLOCK_TYPES: dict[str, type] = {"list": ItemList, "field": Field, "question": Question, "table": Table}


def block_lines(block: Block) -> list[str]:
    """The lines a block renders as."""
    return [block] if isinstance(block, str) else block.lines()


@dataclass(frozen=True)
class Section:
    """Content under one heading path ("Tarifas › Seguros"; "" for content before the first heading)."""

    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Page:
    """One crawled page, recorded under its canonical URL."""

    url: str
    title: str
    sections: tuple[Section, ...]
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)

    def blocks(self, kind: type) -> list:
        """The page's blocks of one type, in page order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, kind)]

    @property
    def tables(self) -> list[Table]:
        return self.blocks(Table)

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
            parts.extend(line for b in section.blocks for line in block_lines(b))
        return "\n".join(parts)

    def to_json(self) -> str:
        return json.dumps(
            {"url": self.url, "title": self.title, "fetched_at": self.fetched_at.isoformat(),
             "sections": _sections_to_json(self.sections)},
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
                   fetched_at=datetime.fromisoformat(data["fetched_at"]))


def _sections_to_json(sections: tuple[Section, ...]) -> list[dict]:
    return [{"heading": s.heading, "blocks": [_block_to_json(b) for b in s.blocks]} for s in sections]


def _block_to_json(block: Block) -> str | dict:
    if isinstance(block, str):
        return block
    kind = next(name for name, cls in BLOCK_TYPES.items() if isinstance(block, cls))
    return {"type": kind, **asdict(block)}


def _block_from_json(raw: str | dict) -> Block:
    """A stored block; a stored page from before typed blocks holds only strings and untagged tables."""
    if isinstance(raw, str):
        return raw
    data = dict(raw)
    cls = BLOCK_TYPES[data.pop("type", "table")]
    return cls(**{name: _frozen(value) for name, value in data.items()})


def _frozen(value: object) -> object:
    """JSON lists back as the tuples a frozen block holds."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value
