"""Blocks that repeat across the site (service hours, contact lines, "why us" blurbs) kept once.

A line is site-wide when it stands on at least ``min_pages`` pages. Each site-wide line is kept on
one owner page (the one with the shortest URL path that holds it, so the home page when it
does) and removed from every other page, so the index holds one copy: not seventeen, not zero.
Lines repeated within one page are kept only the first time.

A short site-wide line ("Medellín") is only removed where it stands next to another site-wide
line (inside a repeated run, as in a contact block); alone among a page's own text it is content.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence
from urllib.parse import urlsplit

from scraper.page import Block, Page, Section, Table

LONG_LINE_CHARS = 40


def dedupe_pages(pages: Sequence[Page], min_pages: int = 3) -> list[Page]:
    """Return the pages with within-page repeats and non-owned site-wide lines removed."""
    pages = [_drop_repeats_within(p) for p in pages]
    presence: dict[str, set[str]] = defaultdict(set)
    for page in pages:
        for line in _lines(page):
            presence[line].add(page.url)
    counts = Counter({line: len(urls) for line, urls in presence.items()})
    sitewide = {line for line, n in counts.items() if n >= min_pages}
    owner = {line: min(presence[line], key=_owner_rank) for line in sitewide}
    return [_remove_foreign(page, sitewide, owner) for page in pages]


def _owner_rank(url: str) -> tuple[int, str]:
    path = urlsplit(url).path.rstrip("/")
    return (len(path), url)


def _lines(page: Page) -> set[str]:
    return {line for s in page.sections for b in s.blocks if isinstance(b, str) for line in b.split("\n")}


def _drop_repeats_within(page: Page) -> Page:
    seen: set[str] = set()
    sections = []
    for section in page.sections:
        blocks: list[Block] = []
        for block in section.blocks:
            key = block.text() if isinstance(block, Table) else block
            if key in seen:
                continue
            seen.add(key)
            blocks.append(block)
        if blocks:
            sections.append(Section(section.heading, tuple(blocks)))
    return dataclasses.replace(page, sections=tuple(sections))


def _remove_foreign(page: Page, sitewide: set[str], owner: dict[str, str]) -> Page:
    """Drop site-wide lines this page does not own (short ones only inside a run of site-wide lines)."""
    flat = [
        (si, bi, li, line)
        for si, s in enumerate(page.sections)
        for bi, b in enumerate(s.blocks) if isinstance(b, str)
        for li, line in enumerate(b.split("\n"))
    ]
    doomed: set[tuple[int, int, int]] = set()
    for i, (si, bi, li, line) in enumerate(flat):
        if line not in sitewide or owner[line] == page.url:
            continue
        neighbours = [flat[j][3] for j in (i - 1, i + 1) if 0 <= j < len(flat)]
        if len(line) >= LONG_LINE_CHARS or any(n in sitewide for n in neighbours):
            doomed.add((si, bi, li))
    if not doomed:
        return page
    sections = []
    for si, section in enumerate(page.sections):
        blocks: list[Block] = []
        for bi, block in enumerate(section.blocks):
            if isinstance(block, str):
                kept = [ln for li, ln in enumerate(block.split("\n")) if (si, bi, li) not in doomed]
                if not kept:
                    continue
                block = "\n".join(kept)
            blocks.append(block)
        if blocks:
            sections.append(Section(section.heading, tuple(blocks)))
    return dataclasses.replace(page, sections=tuple(sections))
