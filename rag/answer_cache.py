"""Answer cache stage: a question that means the same as one already answered gets that answer at once.

Keyed by the standalone question (after the follow-up rewrite) and found by the embedder's cosine at or
above ``min_similarity``, in the same language. Only answered questions are kept, never one that
carries personal data (a card or identity number), and each entry remembers the content hashes of
the chunks it was drawn from: a refresh that changes any of them drops it (``storage.answer_cache``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from rag.cite import Source
from rag.retriever import Retrieved
from storage.answer_cache import AnswerCacheStore, AnswerCacheUnavailable, CachedAnswer
from storage.masking import carries_personal_data

log = logging.getLogger(__name__)


class AnswerCache:
    def __init__(self, store: AnswerCacheStore, min_similarity: float) -> None:
        self.store = store
        self.min_similarity = min_similarity

    def find(self, question: str, vector: np.ndarray, language: str) -> CachedAnswer | None:
        if carries_personal_data(question):
            return None
        try:
            hit = self.store.nearest(vector, language)
        except AnswerCacheUnavailable as exc:  # answered without the cache rather than not at all
            log.error("could not read the answer cache (answering without it): %s", exc)
            return None
        if hit is None or hit.similarity < self.min_similarity:
            return None
        log.info("answer cache hit (cosine %.3f): %r answered as %r", hit.similarity, question[:80], hit.question[:80])
        return hit

    def keep(self, question: str, vector: np.ndarray, language: str, text: str, sources: Sequence[Source],
             drawn_from: Sequence[Retrieved]) -> None:
        if carries_personal_data(question) or carries_personal_data(text) or not drawn_from:
            return
        try:
            self.store.add(question, language, vector, text, [(s.title, s.url) for s in sources],
                           [h.chunk.content_hash for h in drawn_from])
        except AnswerCacheUnavailable as exc:  # the answer is still given, just not kept
            log.error("could not keep the answer in the cache: %s", exc)
