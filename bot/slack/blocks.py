"""Block Kit for answers: model and page text escaped for mrkdwn, sections and messages within Slack's limits.

Slack caps a section's text at 3000 characters and a message at 50 blocks; we also keep the section
text of one message under 12,000 characters (well inside what chat.postMessage accepts), so a very
long answer becomes several messages in the thread, the sources and 👍/👎 buttons under the last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.split import normalise, split_text

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MESSAGE_TEXT_LIMIT = 12_000
MAX_SOURCES = 9  # a context block holds at most 10 elements: the heading and the links
FALLBACK_CHARS = 300
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text that Slack shows as written: no mention (<!channel>, <@U…>) and no link can be forged."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, title: str) -> str:
    safe_url = escape(url).replace("|", "%7C")
    return f"<{safe_url}|{escape(title.strip() or url)}>"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}}


def text_sections(text: str) -> list[Block]:
    return [section(p) for p in split_text(normalise(text), SECTION_LIMIT, lambda s: len(escape(s)))]


def answer_messages(text: str, sources: Sequence[tuple[str, str]], heading: str,
                    feedback_value: str | None = None) -> list[dict[str, Any]]:
    """The answer as one or more messages ({"text", "blocks"}) for chat.postMessage."""
    tail = answer_tail(sources, heading, feedback_value)
    groups: list[list[Block]] = [[]]
    size = 0
    for block in text_sections(text):
        length = len(block["text"]["text"])
        if groups[-1] and (len(groups[-1]) >= MAX_BLOCKS - len(tail) or size + length > MESSAGE_TEXT_LIMIT):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += length
    groups[-1].extend(tail)
    return [{"text": _fallback(blocks), "blocks": blocks} for blocks in groups if blocks]


def answer_tail(sources: Sequence[tuple[str, str]], heading: str, feedback_value: str | None = None) -> list[Block]:
    """What goes under an answer's text: its sources (a context block) and the 👍/👎 buttons."""
    tail: list[Block] = []
    if sources:
        tail.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(heading)}*"}]
                     + [{"type": "mrkdwn", "text": link(u, t)} for u, t in sources[:MAX_SOURCES]]})
    if feedback_value is not None:
        tail.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "👍", "emoji": True},
             "action_id": FEEDBACK_UP, "value": feedback_value},
            {"type": "button", "text": {"type": "plain_text", "text": "👎", "emoji": True},
             "action_id": FEEDBACK_DOWN, "value": feedback_value},
        ]})
    return tail


def _fallback(blocks: list[Block]) -> str:
    """The plain notification text shown where blocks are not (already escaped)."""
    first = next((b["text"]["text"] for b in blocks if b["type"] == "section"), "")
    if len(first) <= FALLBACK_CHARS:
        return first
    return re.sub(r"&[a-z]*$", "", first[: FALLBACK_CHARS - 1].rsplit(" ", 1)[0]) + "…"  # no half entity
