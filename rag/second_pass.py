"""Second-pass stage: when the first pass found nothing on a clearly on-topic question, copy the context
sentence that answers, kept only if the support checks pass (the context's own words, no new figure, on
the question's subject)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from rag.draft import says_not_found
from rag.prompts import EXTRACT_PROMPT
from rag.retriever import Retrieved
from rag.support import evidence, supported

log = logging.getLogger(__name__)


class SecondPass:
    def __init__(self, model: BaseChatModel, max_tokens: int) -> None:
        self.chain = EXTRACT_PROMPT | model.bind(max_tokens=max_tokens) | StrOutputParser()

    def extract(self, question: str, hits: Sequence[Retrieved], context: str) -> str:
        """The copied sentence, or "" when the model found none or it is not supported by the context."""
        text = self.chain.invoke({"context": context, "question": question}).strip()
        if says_not_found(text) or not supported(text, question, context, grounding=evidence(text, hits)):
            log.info("second pass not supported by the context: %r", text[:200])
            return ""
        return text
