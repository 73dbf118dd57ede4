"""Telegram HTML for answers: every piece of model or page text escaped, only our own tags, parts that fit.

Telegram caps a message at 4096 characters (UTF-16 code units); parts are measured on their HTML,
which is never shorter than the visible text, so every part fits whatever Telegram counts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.split import normalise, split_text

LIMIT = 4096
TITLE_MAX = 200


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Text safe inside Telegram HTML (only <, > and & are special)."""
    return html.escape(text, quote=False)


def link(url: str, title: str) -> str:
    title = title.strip() or url
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    return f'<a href="{html.escape(url, quote=True)}">{escape(title)}</a>'


def text_parts(text: str, limit: int = LIMIT) -> list[str]:
    """Plain text as escaped HTML parts within ``limit``, cut on paragraph/sentence/word ends."""
    return [escape(p) for p in split_text(normalise(text), limit, lambda s: utf16_len(escape(s)))]


def answer_parts(text: str, sources: Sequence[tuple[str, str]], heading: str, limit: int = LIMIT) -> list[str]:
    """An answer with its sources as links under it; the sources go to their own part(s) when needed."""
    parts = text_parts(text, limit)
    if not sources:
        return parts
    lines = [f"<b>{escape(heading)}</b>"]
    for url, title in sources:
        line = f"• {link(url, title)}"
        lines.append(line if utf16_len(line) <= limit else "• " + (text_parts(title, limit - 2) or [""])[0])
    block = "\n".join(lines)
    if parts and utf16_len(parts[-1]) + 2 + utf16_len(block) <= limit:
        parts[-1] += "\n\n" + block
        return parts
    current = ""
    for line in lines:
        if current and utf16_len(current) + 1 + utf16_len(line) > limit:
            parts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    parts.append(current)
    return parts


def preview(text: str, limit: int = LIMIT) -> str:
    """The growing answer shown while it is generated: its first part, with an ellipsis."""
    parts = text_parts(text, limit - 2)
    return (parts[0] + " …") if parts else "…"
