"""Cutting long text into pieces that fit a platform limit, on paragraph, line, sentence or word ends.

Shared by the Telegram and Slack renderers. Pieces concatenate back to the text exactly; the
whitespace at a cut stays at the end of the earlier piece.
"""

from __future__ import annotations

import re
from collections.abc import Callable

BREAKS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ")


def normalise(text: str) -> str:
    """Trimmed text with blank-line runs cut to one blank line and space runs to one space."""
    text = re.sub(r"[^\S\n]+", " ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_text(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Pieces of ``text`` with ``size(piece) <= limit``; ``size`` must grow with the text (e.g. escaped length)."""
    pieces: list[str] = []
    rest = text
    while rest and size(rest) > limit:
        fit = _longest_prefix(rest, limit, size)
        if fit == 0:
            raise ValueError(f"limit {limit} is too small for {rest[0]!r}")
        cut = _best_cut(rest[:fit])
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _longest_prefix(text: str, limit: int, size: Callable[[str], int]) -> int:
    """The length of the longest prefix of ``text`` whose size is within ``limit`` (binary search)."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if size(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return low


def _best_cut(prefix: str) -> int:
    """Where to cut a prefix that fits: after the strongest break in its last two thirds, else at its end."""
    floor = len(prefix) // 3
    for separator in BREAKS:
        at = prefix.rfind(separator)
        if at >= floor and at + len(separator) > 0:
            return at + len(separator)
    return len(prefix)
