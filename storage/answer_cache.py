"""Answers kept by the vector of the question they answered, for questions that mean the same.

The vectors of one embedder are held in memory as one matrix (rebuilt when another process or a
refresh changed the table), so a lookup is one matrix product and one small query. Each entry keeps
the content keys of the units it was drawn from: ``keep_only_units`` drops every entry whose units are
no longer all in the index.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from storage.db import Database
from storage.models import CachedAnswerRecord


class AnswerCacheUnavailable(RuntimeError):
    """The database could not be read or written (locked, gone): the answer is computed, and not kept."""


@dataclass(frozen=True)
class CachedAnswer:
    question: str
    answer: str
    sources: list[tuple[str, str]]  # (title, url)
    similarity: float


class AnswerCacheStore:
    def __init__(self, db: Database, model: str) -> None:
        self.db = db
        self.model = model
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._ids: list[int] = []
        self._languages: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def nearest(self, vector: np.ndarray, language: str) -> CachedAnswer | None:
        """The entry in ``language`` whose question vector is closest to ``vector`` (cosine), if any."""
        try:
            return self._nearest(vector, language)
        except SQLAlchemyError as exc:
            raise AnswerCacheUnavailable(str(exc).splitlines()[0]) from exc

    def _nearest(self, vector: np.ndarray, language: str) -> CachedAnswer | None:
        with self._lock:
            self._reload_if_changed()
            if not self._ids:
                return None
            scores = self._matrix @ np.asarray(vector, dtype=np.float32)
            scores[[lang != language for lang in self._languages]] = -2.0
            best = int(np.argmax(scores))
            if scores[best] <= -2.0:
                return None
            entry_id, similarity = self._ids[best], float(scores[best])
        with self.db.session() as s:
            row = s.get(CachedAnswerRecord, entry_id)
            if row is None:  # dropped meanwhile
                return None
            return CachedAnswer(row.question, row.answer, [tuple(x) for x in json.loads(row.sources_json)],
                                similarity)

    def add(self, question: str, language: str, vector: np.ndarray, answer: str,
            sources: Sequence[tuple[str, str]], units: Iterable[str]) -> None:
        try:
            with self.db.session() as s:
                s.add(CachedAnswerRecord(model=self.model, language=language, question=question,
                                         vector=np.asarray(vector, dtype=np.float32).tobytes(), answer=answer,
                                         sources_json=json.dumps([list(x) for x in sources], ensure_ascii=False),
                                         units_json=json.dumps(sorted(set(units)))))
        except SQLAlchemyError as exc:
            raise AnswerCacheUnavailable(str(exc).splitlines()[0]) from exc

    def keep_only_units(self, units: Iterable[str]) -> int:
        """Drop the entries drawn from any unit not in ``units``; return how many were dropped."""
        current = set(units)
        with self.db.session() as s:
            rows = s.execute(select(CachedAnswerRecord.id, CachedAnswerRecord.units_json))
            stale = [i for i, keys in rows if not set(json.loads(keys)) <= current]
            if stale:
                s.execute(delete(CachedAnswerRecord).where(CachedAnswerRecord.id.in_(stale)))
        return len(stale)

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(CachedAnswerRecord)
                                .where(CachedAnswerRecord.model == self.model)) or 0)

    def _reload_if_changed(self) -> None:
        where = CachedAnswerRecord.model == self.model
        with self.db.session() as s:
            count, last = s.execute(select(func.count(), func.max(CachedAnswerRecord.id)).where(where)).one()
            version = (int(count or 0), int(last or 0))
            if version == self._version:
                return
            rows = s.execute(select(CachedAnswerRecord.id, CachedAnswerRecord.language, CachedAnswerRecord.vector)
                             .where(where).order_by(CachedAnswerRecord.id)).all()
        self._ids = [r[0] for r in rows]
        self._languages = [r[1] for r in rows]
        self._matrix = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows]) if rows else \
            np.zeros((0, 0), dtype=np.float32)
        self._version = version
