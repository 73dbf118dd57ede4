"""BM25-style sparse vectors computed offline (no hub download): search terms of ``rag.text``, TF saturation.

Documents get BM25 term weights (k1, b, average length of the indexed chunks); queries get weight
1 per distinct term. The IDF factor is applied by Qdrant (sparse vectors with the IDF modifier).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

from rag.text import tokens
from storage.records import SparseVector

K1 = 1.2
B = 0.75


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def encode_documents(texts: Sequence[str]) -> list[SparseVector]:
    """BM25 document weights; the average length is taken over ``texts`` (the indexed set)."""
    counted = [Counter(tokens(t)) for t in texts]
    lengths = [sum(c.values()) for c in counted]
    avg = (sum(lengths) / len(lengths)) if lengths else 1.0
    vectors = []
    for counts, length in zip(counted, lengths, strict=True):
        norm = K1 * (1 - B + B * length / max(avg, 1.0))
        weights: dict[int, float] = {}
        for term, tf in counts.items():
            idx = term_index(term)
            weights[idx] = weights.get(idx, 0.0) + tf * (K1 + 1) / (tf + norm)
        vectors.append(SparseVector(list(weights), list(weights.values())))
    return vectors


def encode_query(text: str) -> SparseVector:
    """Weight 1 per distinct term of the query."""
    indices = sorted({term_index(term) for term in tokens(text)})
    return SparseVector(indices, [1.0] * len(indices))
