"""Dense vectors cached by (embedder, chunk-content hash), so unchanged text is never embedded twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from sqlalchemy import delete, select

from storage.db import Database
from storage.models import EmbeddingRecord

BATCH = 500


class EmbeddingCache:
    def __init__(self, db: Database, model: str) -> None:
        self.db = db
        self.model = model

    def get_many(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        with self.db.session() as s:
            for i in range(0, len(wanted), BATCH):
                rows = s.execute(
                    select(EmbeddingRecord.content_hash, EmbeddingRecord.vector).where(
                        EmbeddingRecord.model == self.model,
                        EmbeddingRecord.content_hash.in_(wanted[i:i + BATCH]),
                    )
                )
                found.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        with self.db.session() as s:
            for content_hash, vector in vectors.items():
                s.merge(EmbeddingRecord(model=self.model, content_hash=content_hash, dim=int(vector.shape[0]),
                                        vector=np.asarray(vector, dtype=np.float32).tobytes()))

    def keep_only(self, hashes: Iterable[str]) -> int:
        """Drop this embedder's entries not in ``hashes``; return how many were dropped."""
        keep = set(hashes)
        with self.db.session() as s:
            stored = s.scalars(select(EmbeddingRecord.content_hash).where(EmbeddingRecord.model == self.model))
            stale = [h for h in stored if h not in keep]
            for i in range(0, len(stale), BATCH):
                s.execute(delete(EmbeddingRecord).where(
                    EmbeddingRecord.model == self.model, EmbeddingRecord.content_hash.in_(stale[i:i + BATCH])))
        return len(stale)
