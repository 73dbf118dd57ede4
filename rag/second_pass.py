"""Second-pass stage: when the first pass found nothing on a clearly on-topic question, copy the context
sentence that answers, kept only if the support checks pass (the context's own words, no new figure, on
the question's subject). The pages are Spanish: for an English question, "on the subject" is read by the
embedder (the question's and the sentence's vectors close), since their words cannot match."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from rag import policy
from rag.draft import says_not_found
from rag.embedder import Embedder
from rag.policy import DEFAULT_RULES, Rules
from rag.prompts import EXTRACT_PROMPT
from rag.retriever import Retrieved
from rag.support import evidence, supported

log = logging.getLogger(__name__)


class SecondPass:
    def __init__(self, model: BaseChatModel, max_tokens: int, embedder: Embedder | None = None,
                 min_cross_lingual_similarity: float = 1.0, rules: Rules = DEFAULT_RULES) -> None:
        self.chain = EXTRACT_PROMPT | model.bind(max_tokens=max_tokens) | StrOutputParser()
        self.embedder = embedder
        self.min_cross_lingual_similarity = min_cross_lingual_similarity
        self.rules = rules

    def extract(self, question: str, hits: Sequence[Retrieved], context: str) -> str:
        """The copied sentence, or "" when the model found none or it is not supported by the context."""
        text = self.chain.invoke({"context": context, "question": question}).strip()
        if says_not_found(text):
            return ""
        grounding = evidence(text, hits)
        if not supported(text, question, context, grounding=grounding, rules=self.rules,
                         subject_covered=self._on_subject_across_languages(question, grounding)):
            log.info("second pass not supported by the context: %r", text[:200])
            return ""
        return text

    def _on_subject_across_languages(self, question: str, grounding: str) -> bool | None:
        """For an English question: whether the Spanish sentence is about what it asks (None: Spanish, read by
        the words)."""
        if policy.language(question) != "en" or self.embedder is None or not grounding:
            return None
        similarity = float(self.embedder.embed_documents([grounding])[0] @ self.embedder.embed_query(question))
        log.info("second pass for an English question: similarity %.2f to the sentence it copied", similarity)
        return similarity >= self.min_cross_lingual_similarity
