"""Blocks that repeat across the site (service hours, contact lines, "why us" blurbs) as their own documents.

A line is site-wide when it stands on at least ``min_pages`` pages. A run of site-wide lines (a contact
block) is removed from every page and indexed once as its own document, titled with the run's own label
("Horarios y líneas de atención") rather than with one product page's name, and cited with the page it
was seen on (the one with the shortest URL path that holds it, so the home page when it does: its URL
plus a fragment naming the block). So the index holds one copy, not seventeen and not zero, and a
question about service hours finds it under a title that says what it is.
Lines repeated within one page are kept only the first time.

A short site-wide line ("Medellín") is only treated as site-wide where it stands next to another
site-wide line (inside a repeated run, as in a contact block); alone among a page's own text it is content.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from urllib.parse import urlsplit

from scraper.page import Block, ItemList, Page, Section, Table

LONG_LINE_CHARS = 40
TITLE_MAX_CHARS = 80
UNTITLED = "Información general de la compañía"


def dedupe_pages(pages: Sequence[Page], min_pages: int = 3) -> list[Page]:
    """The pages without within-page repeats and site-wide runs, then one page per site-wide run."""
    pages = [_drop_repeats_within(p) for p in pages]
    presence: dict[str, set[str]] = defaultdict(set)
    for page in pages:
        for line in _lines(page):
            presence[line].add(page.url)
    counts = Counter({line: len(urls) for line, urls in presence.items()})
    sitewide = {line for line, n in counts.items() if n >= min_pages}
    owner = {line: min(presence[line], key=_owner_rank) for line in sitewide}
    kept: list[Page] = []
    blocks: list[Page] = []
    for page in pages:
        page, runs = _take_sitewide_runs(page, sitewide)
        kept.append(page)
        owned = [[line for line in run if owner[line] == page.url] for run in runs]
        blocks.extend(_block_pages(page.url, [run for run in owned if run]))
    return kept + blocks


def block_title(lines: Sequence[str]) -> str:
    """What a site-wide block is: its first label line ("Horarios y líneas de atención"), not a question or a
    sentence; else a generic title."""
    return next((label for label in map(_label, lines) if label), UNTITLED)


def _label(line: str) -> str:
    """The line as a title when it reads as a label (short, no final punctuation, no figures), else ""."""
    line = line.strip()
    if 0 < len(line) <= TITLE_MAX_CHARS and not line.endswith((".", "?", "!", ";", ",", ")")) \
            and not any(ch.isdigit() for ch in line):
        return line.rstrip(":").strip()
    return ""


def _block_pages(seen_on: str, runs: list[list[str]]) -> list[Page]:
    """One page per run, at the URL it was seen on plus a fragment naming it; the title line leaves the body."""
    out: list[Page] = []
    taken: set[str] = set()
    for run in runs:
        title = block_title(run)
        body = [line for line in run if _label(line) != title] or run
        fragment = "-".join(_slug_words(title)) or "bloque"
        url, n = f"{seen_on}#{fragment}", 2
        while url in taken:
            url, n = f"{seen_on}#{fragment}-{n}", n + 1
        taken.add(url)
        out.append(Page(url=url, title=title, sections=(Section("", ("\n".join(body),)),)))
    return out


def _slug_words(title: str) -> list[str]:
    folded = "".join(c for c in unicodedata.normalize("NFKD", title.lower()) if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in folded).split()


def _owner_rank(url: str) -> tuple[int, str]:
    path = urlsplit(url).path.rstrip("/")
    return (len(path), url)


def _lines(page: Page) -> set[str]:
    return {line for s in page.sections for b in s.blocks for line in _text_lines(b)}


def _text_lines(block: Block) -> list[str]:
    """The lines a site-wide run may hold: a paragraph's and a list's (a table row is the table's own)."""
    if isinstance(block, str):
        return block.split("\n")
    return list(block.items) if isinstance(block, ItemList) else []


def _drop_repeats_within(page: Page) -> Page:
    seen: set[str] = set()
    sections = []
    for section in page.sections:
        blocks: list[Block] = []
        for block in section.blocks:
            key = block if isinstance(block, str) else block.text()
            if key in seen:
                continue
            seen.add(key)
            blocks.append(block)
        if blocks:
            sections.append(Section(section.heading, tuple(blocks)))
    return dataclasses.replace(page, sections=tuple(sections))


def _take_sitewide_runs(page: Page, sitewide: set[str]) -> tuple[Page, list[list[str]]]:
    """The page without its site-wide runs (short lines only inside a run of site-wide lines), and the runs."""
    flat = [
        (si, bi, li, line)
        for si, s in enumerate(page.sections)
        for bi, b in enumerate(s.blocks)
        for li, line in enumerate(_text_lines(b))
    ]
    runs: list[list[str]] = []
    doomed: set[tuple[int, int, int]] = set()
    previous = -2
    for i, (si, bi, li, line) in enumerate(flat):
        if line not in sitewide:
            continue
        neighbours = [flat[j][3] for j in (i - 1, i + 1) if 0 <= j < len(flat)]
        if len(line) >= LONG_LINE_CHARS or any(n in sitewide for n in neighbours):
            doomed.add((si, bi, li))
            if previous == i - 1:
                runs[-1].append(line)
            else:
                runs.append([line])
            previous = i
    if not doomed:
        return page, []
    sections = []
    for si, section in enumerate(page.sections):
        blocks: list[Block] = []
        for bi, block in enumerate(section.blocks):
            if not isinstance(block, Table):
                kept = [ln for li, ln in enumerate(_text_lines(block)) if (si, bi, li) not in doomed]
                if not kept:
                    continue
                block = "\n".join(kept) if isinstance(block, str) else ItemList(tuple(kept))
            blocks.append(block)
        if blocks:
            sections.append(Section(section.heading, tuple(blocks)))
    return dataclasses.replace(page, sections=tuple(sections)), runs
