"""The layout of a page's flat text, read once: what kind of line each line is.

Many pages (TUYA's among them) write their structure only in the text, one ``<p>`` a line: a line ending with
a colon introduces the lines under it ("Estos son los bancos…:"), a "¿…?" line is answered by the next, a
short line without final punctuation labels what follows ("Vehículos", "Tarjeta Carulla Mastercard Black"),
a short "label: value" line is a field ("Convenio: 10658"), and a run of short lines of one sentence each is
a list written one ``<p>`` an item ("Debes ser mayor de edad." under the paragraph that announces the
requirements). This module is the one place that reads that layout. The chunker types every line of a chunk
with it (a table row, an HTML list's item and a section heading it joins into a chunk are typed from the
page's structure instead), the chunk carries the kinds (``storage.records.Chunk.kinds``), and the stages that
read retrieved text (rag.focus, rag.completion, rag.support) read the kinds rather than guess them again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

Kind = Literal["text", "intro", "question", "label", "field", "row", "heading", "item"]
LEADS: frozenset[str] = frozenset({"intro", "question", "label", "field", "heading"})  # introduce the next line
LABEL_MAX_CHARS = 60  # a line this short without final punctuation labels (or is a field of) what follows
FINAL_PUNCTUATION = (".", "!", "?", ";", ",", ")")
ITEM_MAX_CHARS = 100  # a run of lines this short, each one sentence ending with a period, is a list's items
MIN_ITEMS = 2  # a line of that shape alone is a sentence, not a list
# A sentence ends at . ! ? ; followed by space and something that starts a sentence.
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[¿¡\"(A-ZÁÉÍÓÚÑ0-9])")


def line_kind(line: str) -> Kind:
    """The kind of one flat line of text."""
    line = line.strip()
    if line.endswith(":"):
        return "intro"
    if line.startswith("¿") and line.endswith("?"):
        return "question"
    if line and len(line) <= LABEL_MAX_CHARS and not line.endswith(FINAL_PUNCTUATION):
        if line.startswith("¿"):
            return "question"  # a page's question without its "?" ("¿Cuánto cuesta la cuenta")
        return "field" if ": " in line else "label"
    return "text"


def with_items(lines: Sequence[str], kinds: Sequence[Kind]) -> tuple[Kind, ...]:
    """``kinds`` of ``lines`` with each run of at least ``MIN_ITEMS`` lines that read as a list's items (short,
    one sentence ending with a period, or an HTML list's item already) typed "item"."""
    out = list(kinds)
    start = 0  # where the current run began
    for i in range(len(out) + 1):
        if i < len(out) and (out[i] == "item" or (out[i] == "text" and _reads_as_item(lines[i].strip()))):
            continue
        if i - start >= MIN_ITEMS:
            out[start:i] = ["item"] * (i - start)
        start = i + 1
    return tuple(out)


def _reads_as_item(line: str) -> bool:
    return len(line) <= ITEM_MAX_CHARS and line.endswith(".") and not SENTENCE_END.search(line)


def laid_out(text: str) -> list[tuple[str, Kind]]:
    """Each non-empty line of a flat text with its kind."""
    lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
    return list(zip(lines, with_items(lines, [line_kind(line) for line in lines]), strict=True))
