"""The structure of flat text, read once: lines a page sets out one per paragraph become typed blocks.

Many pages (TUYA's among them) write a list as one ``<p>`` per item under a line ending with a colon, a
label ("Vehículos", "Medellín") as a paragraph above its text, and an FAQ as a "¿…?" paragraph above its
answer. This is the one place that reads that layout; every later stage reads the blocks it makes
(``scraper.page``). It runs after the site-wide blocks are taken out (``scraper.sitewide`` compares lines),
on every page and site-wide block alike. Blocks the HTML already typed (lists, tables) pass unchanged.
"""

from __future__ import annotations

import dataclasses
import re

from scraper.page import ITEM_MARK, Block, Field, ItemList, Page, Question, Section

LABEL_MAX_CHARS = 60  # a line this short without final punctuation labels the text under it ("Vehículos")
ITEM_MAX_CHARS = 100  # a line this short under one ending with a colon is an item of that list
# "Convenio: 10658", "A nivel nacional:01 8000 978 888"; a label ends with a letter, so "7:00 am" is no pair
INLINE_LABEL = re.compile(r"^(?P<label>[^.:;!?¿(]{0,39}[^\W\d_]):\s*(?P<value>\S.*)$")
FINAL_PUNCTUATION = (".", "!", "?", ";", ",", ")", ":")


def typed(page: Page) -> Page:
    """The page with the layout of its flat lines typed: lists with their introduction, label/value pairs,
    question/answer pairs. Lines that are none of these stay paragraphs."""
    sections = tuple(Section(s.heading, tuple(typed_blocks(s.blocks))) for s in page.sections)
    return dataclasses.replace(page, sections=sections)


def typed_blocks(blocks: tuple[Block, ...] | list[Block]) -> list[Block]:
    """One section's blocks, each paragraph's lines read for the structure they lay out."""
    flat: list[Block] = []
    for block in blocks:
        if isinstance(block, str):
            flat.extend(_plain(line) for line in block.split("\n") if _plain(line))
        else:
            flat.append(block)
    out: list[Block] = []
    i = 0
    while i < len(flat):
        block, i = _read(flat, i)
        out.append(block)
    return out


def _read(flat: list[Block], i: int) -> tuple[Block, int]:
    """The block that starts at line ``i`` and the index after it."""
    line = flat[i]
    following = flat[i + 1] if i + 1 < len(flat) else None
    if not isinstance(line, str):
        return line, i + 1
    if line.endswith(":"):
        items = _items(flat[i + 1:])
        if items:
            return ItemList(line, tuple(items)), i + 1 + len(items)
    if _is_text(following):
        if line.startswith("¿") and line.endswith("?") and not following.startswith("¿"):
            return Question(line, following), i + 2
        if is_label(line) and not is_label(following):
            return Field(line, following), i + 2
    match = INLINE_LABEL.match(line)
    if match:
        return Field(match["label"].strip(), match["value"]), i + 1
    return line, i + 1


def _items(following: list[Block]) -> list[str]:
    """The lines under a colon that are its list: short lines alike in how they end (every item a sentence, or
    none), up to a line that introduces something else (a colon, a question); a list of "label: value" lines
    ends at the first line that is not one."""
    items: list[str] = []
    for item in following:
        if not isinstance(item, str) or len(item) > ITEM_MAX_CHARS or item.endswith(":") or item.startswith("¿") \
                or (items and item.endswith(".") != items[0].endswith(".")) \
                or (items and INLINE_LABEL.match(items[0]) and not INLINE_LABEL.match(item)):
            break
        items.append(item)
    return items


def is_label(line: str) -> bool:
    """A short line of words without final punctuation or figures: a label of what follows ("Vehículos",
    "Medellín"); a line with a figure ("(604) 444 3727", "Seguro deudores $3.143") states a value."""
    return (len(line) <= LABEL_MAX_CHARS and not line.endswith(FINAL_PUNCTUATION)
            and any(c.isalpha() for c in line) and not any(c.isdigit() for c in line))


def _is_text(block: Block | None) -> bool:
    return isinstance(block, str) and not block.endswith(":")


def _plain(line: str) -> str:
    """A line without a typed bullet ("- Bogotá", "• Bogotá"): only a list block writes the item mark."""
    line = line.strip()
    while line.startswith((ITEM_MARK.strip(), "•", "·")):
        line = line[1:].strip()
    return line
