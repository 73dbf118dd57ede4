"""The layout of a page's flat text, read once: what kind of line each line is.

Many pages (TUYA's among them) write their structure only in the text, one ``<p>`` a line: a line ending with
a colon introduces the lines under it ("Estos son los bancos…:"), a "¿…?" line is answered by the next, a
short line without final punctuation labels what follows ("Vehículos", "Tarjeta Carulla Mastercard Black"),
and a short "label: value" line is a field ("Convenio: 10658"). This module is the one place that reads that
layout. The chunker types every line of a chunk with it (a table row, an HTML list's item and a section
heading it joins into a chunk are typed from the page's structure instead), the chunk carries the kinds
(``storage.records.Chunk.kinds``), and the stages that read retrieved text (rag.focus, rag.completion,
rag.support) read the kinds rather than guess them again.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["text", "intro", "question", "label", "field", "row", "heading", "item"]
LEADS: frozenset[str] = frozenset({"intro", "question", "label", "field", "heading"})  # introduce the next line
LABEL_MAX_CHARS = 60  # a line this short without final punctuation labels (or is a field of) what follows
FINAL_PUNCTUATION = (".", "!", "?", ";", ",", ")")


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


def laid_out(text: str) -> list[tuple[str, Kind]]:
    """Each non-empty line of a flat text with its kind."""
    return [(line, line_kind(line)) for line in (raw.strip() for raw in text.splitlines()) if line]
