"""Qdrant access: local mode on a path by default, a server by URL, the same code for both.

Readers always query an alias. A (re)index writes a new versioned collection beside the live one
and then switches the alias in one operation, so answers never stop and a failed build leaves the
previous index whole. Local mode allows one process per path: one writer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from storage.records import Chunk, SparseVector, chunk_id

log = logging.getLogger(__name__)

DENSE = "dense"
SPARSE = "sparse"
UPSERT_BATCH = 256


@dataclass(frozen=True)
class StoredHit:
    chunk: Chunk
    score: float


class IndexNotBuilt(RuntimeError):
    """Nothing has been indexed yet."""


class StoreInUse(RuntimeError):
    """The local index folder is open in another process (local mode allows one process per path)."""


class VectorStore:
    def __init__(self, alias: str, *, path: Path | None = None, url: str | None = None,
                 api_key: str | None = None) -> None:
        self.alias = alias
        if url:
            self.client = QdrantClient(url=url, api_key=api_key)
            self.location = url
        else:
            if path is None:
                raise ValueError("either a Qdrant path (local mode) or a Qdrant URL is needed")
            path.mkdir(parents=True, exist_ok=True)
            try:
                self.client = QdrantClient(path=str(path))
            except RuntimeError as exc:
                if "already accessed" not in str(exc):
                    raise
                raise StoreInUse(f"the index at {path} is open in another process (a running `tuyabot serve`?): "
                                 "stop that process, or use `tuyabot refresh`, which goes through the running "
                                 "service; for several processes use a Qdrant server (QDRANT_URL)") from None
            self.location = str(path)

    # -- writing a new version -------------------------------------------------------------------
    def new_version(self, dim: int) -> str:
        name = f"{self.alias}__{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        self.client.create_collection(
            name,
            vectors_config={DENSE: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        )
        return name

    def upsert(self, collection: str, chunks: Sequence[Chunk], dense: np.ndarray,
               sparse: Sequence[SparseVector]) -> None:
        for start in range(0, len(chunks), UPSERT_BATCH):
            points = [
                qm.PointStruct(
                    id=c.id,
                    vector={DENSE: dense[i].tolist(),
                            SPARSE: qm.SparseVector(indices=sparse[i].indices, values=sparse[i].values)},
                    payload=_payload(c),
                )
                for i, c in enumerate(chunks[start:start + UPSERT_BATCH], start=start)
            ]
            self.client.upsert(collection, points=points, wait=True)

    def publish(self, collection: str) -> None:
        """Point the alias at ``collection`` (atomically), then drop the versions it replaced."""
        previous = self.live_collection()
        ops: list[Any] = []
        if previous:
            ops.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=self.alias)))
        ops.append(qm.CreateAliasOperation(create_alias=qm.CreateAlias(collection_name=collection,
                                                                       alias_name=self.alias)))
        self.client.update_collection_aliases(change_aliases_operations=ops)
        for name in self._versions():
            if name != collection:
                self.drop(name)

    def drop(self, collection: str) -> None:
        try:
            self.client.delete_collection(collection)
        except Exception:  # a leftover that cannot be dropped now is retried at the next publish
            log.warning("could not drop collection %s", collection, exc_info=True)

    # -- reading ---------------------------------------------------------------------------------
    def live_collection(self) -> str | None:
        for a in self.client.get_aliases().aliases:
            if a.alias_name == self.alias:
                return a.collection_name
        return None

    def _versions(self) -> list[str]:
        return [c.name for c in self.client.get_collections().collections if c.name.startswith(f"{self.alias}__")]

    def count(self) -> int:
        return self.client.count(self._live(), exact=True).count if self.live_collection() else 0

    def all_chunks(self) -> list[Chunk]:
        if not self.live_collection():
            return []
        chunks, offset = [], None
        while True:
            points, offset = self.client.scroll(self._live(), limit=512, offset=offset, with_payload=True)
            chunks.extend(_chunk(p.payload or {}) for p in points)
            if offset is None:
                return sorted(chunks, key=lambda c: (c.url, c.position))

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids that exist in the live index (in the order asked)."""
        if not ids or not self.live_collection():
            return []
        found = {str(p.id): _chunk(p.payload or {}) for p in self.client.retrieve(self._live(), ids=list(ids),
                                                                                 with_payload=True)}
        return [found[i] for i in ids if i in found]

    def search(self, dense: np.ndarray | None, sparse: SparseVector | None, limit: int) -> list[list[StoredHit]]:
        """One ranked hit list per given query vector (dense first, then sparse)."""
        requests = []
        if dense is not None:
            requests.append(qm.QueryRequest(query=dense.tolist(), using=DENSE, limit=limit, with_payload=True))
        if sparse is not None and sparse.indices:
            requests.append(qm.QueryRequest(
                query=qm.SparseVector(indices=sparse.indices, values=sparse.values),
                using=SPARSE, limit=limit, with_payload=True))
        if not requests:
            return []
        responses = self.client.query_batch_points(self._live(), requests=requests)
        return [[StoredHit(_chunk(p.payload or {}), float(p.score)) for p in r.points] for r in responses]

    def _live(self) -> str:
        if not self.live_collection():
            raise IndexNotBuilt(f"no index in {self.location} yet: run `tuyabot index`")
        return self.alias

    def close(self) -> None:
        self.client.close()


def _payload(c: Chunk) -> dict[str, Any]:
    return {"url": c.url, "title": c.title, "heading": c.heading, "text": c.text, "position": c.position,
            "unit_start": c.unit_start, "unit_end": c.unit_end, "content_hash": c.content_hash, "kinds": list(c.kinds)}


def _chunk(p: dict[str, Any]) -> Chunk:
    return Chunk(id=chunk_id(p["url"], p["position"]), url=p["url"], title=p["title"], heading=p["heading"],
                 text=p["text"], position=p["position"],
                 unit_start=p.get("unit_start", -1), unit_end=p.get("unit_end", -1), kinds=tuple(p.get("kinds", ())))
