"""Rewrite stage: a follow-up ("¿y cuánto cuesta?") as a standalone question, in the user's language."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from rag.prompts import REWRITE_PROMPT, history_messages
from storage.conversations import Turn


def history_query(turns: Sequence[str]) -> str:
    """A search query without a model: the user's turns joined, the last one at the end."""
    return " ".join(t.strip() for t in turns)


def search_query(standalone: str, history: Sequence[Turn]) -> str:
    """What retrieval searches for: the standalone question, after the user's previous question when there is
    one. A small model's rewrite often drops the product the conversation is about ("¿Con qué aseguradora
    es?"); with the previous question beside it, the search still finds that product's page."""
    previous = [turn.content for turn in history if turn.role == "user"][-1:]
    return history_query([*previous, standalone])


class Rewriter:
    """Asks the model for the standalone question; falls back to the user's turns joined when the model
    gives nothing usable (empty, or far longer than a question)."""

    def __init__(self, model: BaseChatModel, max_tokens: int) -> None:
        self.chain = REWRITE_PROMPT | model.bind(max_tokens=max_tokens) | StrOutputParser()

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        if not history:
            return question
        rewritten = self.chain.invoke({
            "history": history_messages([(turn.role, turn.content) for turn in history]),
            "question": question,
        }).strip()
        first_line = rewritten.splitlines()[0].strip().strip('"').strip() if rewritten else ""
        if not first_line or len(first_line) > 3 * len(question) + 200:
            return history_query([turn.content for turn in history if turn.role == "user"] + [question])
        return first_line
