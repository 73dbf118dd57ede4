"""Second-pass stage: when the first pass found nothing on a clearly on-topic question, copy the context
sentence that answers, kept only if the support checks pass (the context's own words, no new figure, on
the question's subject). The pages are Spanish: for an English question, "on the subject" is read by the
embedder (the question's and the sentence's vectors close), since their words cannot match.

The model is asked to copy it first; when it copies nothing that passes, the sentence of the units read that
the embedder puts closest to the question is given, if it is that close (``nearest_min_similarity``, above 1:
never) and passes the same checks: a small model says "not found" on a unit whose sentence answers in other
words ("no tiene cobro de 4x1.000" for "¿cobra el 4x1000?")."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from rag import policy
from rag.draft import says_not_found
from rag.embedder import Embedder
from rag.focus import units_and_answers
from rag.policy import DEFAULT_RULES, Rules
from rag.prompts import EXTRACT_PROMPT
from rag.retriever import Retrieved
from rag.support import evidence, supported

log = logging.getLogger(__name__)
SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:])")  # "es gratis , no tiene": two <p> of the page joined


class SecondPass:
    def __init__(self, model: BaseChatModel, max_tokens: int, embedder: Embedder | None = None,
                 min_cross_lingual_similarity: float = 1.0, rules: Rules = DEFAULT_RULES,
                 nearest_min_similarity: float = 2.0) -> None:
        self.chain = EXTRACT_PROMPT | model.bind(max_tokens=max_tokens) | StrOutputParser()
        self.embedder = embedder
        self.min_cross_lingual_similarity = min_cross_lingual_similarity
        self.rules = rules
        self.nearest_min_similarity = nearest_min_similarity

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

    def nearest(self, question: str, hits: Sequence[Retrieved]) -> str:
        """The sentence of ``hits`` closest to the question by the embedder, if at least
        ``nearest_min_similarity`` close and supported ("" otherwise)."""
        if self.embedder is None or self.nearest_min_similarity > 1.0:  # a cosine is at most 1: off
            return ""
        found = [(f"{h.chunk.header}: {unit}", said) for h in hits for unit, said in units_and_answers(h.chunk.lines)]
        if not found:
            return ""
        similarity = self.embedder.similarities(question, [grounding for grounding, _ in found])
        best = int(similarity.argmax())
        grounding, text = found[best]
        english = policy.language(question) == "en"
        context = "\n".join(h.chunk.text for h in hits)
        if similarity[best] < self.nearest_min_similarity or not supported(
                text, question, context, grounding=grounding, rules=self.rules, subject_covered=english or None):
            return ""
        log.info("second pass: the nearest sentence (similarity %.2f): %r", similarity[best], text[:200])
        return SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)

    def _on_subject_across_languages(self, question: str, grounding: str) -> bool | None:
        """For an English question: whether the Spanish sentence is about what it asks (None: Spanish, read by
        the words)."""
        if policy.language(question) != "en" or self.embedder is None or not grounding:
            return None
        similarity = float(self.embedder.similarities(question, [grounding])[0])
        log.info("second pass for an English question: similarity %.2f to the sentence it copied", similarity)
        return similarity >= self.min_cross_lingual_similarity
