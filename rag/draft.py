"""Generate stage: the first-pass answer streamed from the model, with the "not found" marker held back.

The model is told to answer only ``NOT_FOUND`` when the context does not hold the answer; the marker
is never shown, however the model spells its case or spacing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from rag.prompts import ANSWER_PROMPT, NOT_FOUND

log = logging.getLogger(__name__)


def marker_form(text: str) -> str:
    """Text as the NOT_FOUND marker is compared: upper case, spaces and underscores as one underscore."""
    return re.sub(r"[\s_]+", "_", text.strip().upper())


def says_not_found(text: str) -> bool:
    """Whether the model used the "not in the context" marker, however it spelt its case or spacing."""
    return NOT_FOUND in marker_form(text)


def looping(text: str, span: int = 24, times: int = 3) -> bool:
    """Whether generated text has fallen into a loop: its last ``span`` characters already occur ``times``
    times (a small greedy model can repeat one phrase until the token limit)."""
    tail = text[-span:]
    return len(text) >= span * times and len(tail.strip()) >= span // 2 and text.count(tail) >= times


def could_be_marker(text: str) -> bool:
    """Whether streamed text may still turn out to be the marker (so it must not be shown yet)."""
    form = marker_form(text)
    return NOT_FOUND.startswith(form) or form.startswith(NOT_FOUND)


@dataclass
class Draft:
    """The first-pass text as generated so far (shown or not); ``looped``: generation was stopped in a loop."""

    text: str = ""
    looped: bool = False


class Drafter:
    """Streams the grounded answer prompt through the model: visible pieces, the marker held back."""

    def __init__(self, model: BaseChatModel, max_tokens: int) -> None:
        self.chain = ANSWER_PROMPT | model.bind(max_tokens=max_tokens) | StrOutputParser()

    def stream(self, context: str, question: str, draft: Draft) -> Iterator[str]:
        """Text pieces as generated (all of it lands in ``draft``); none while the text could still be the
        marker, then the text held back so far at once. Generation stops when the text starts looping."""
        holding = True
        for piece in self.chain.stream({"context": context, "question": question}):
            if looping(draft.text + piece):
                log.warning("generation stopped: the model repeats itself: %r", draft.text[-80:])
                draft.looped = True
                break
            draft.text += piece
            if not piece or (holding and could_be_marker(draft.text.lstrip())):
                continue
            yield draft.text.lstrip() if holding else piece
            holding = False
