"""BM25-style sparse vectors computed offline (no hub download): Spanish-aware tokens, stems, TF saturation.

Documents get BM25 term weights (k1, b, average length of the indexed chunks); queries get weight
1 per distinct term. The IDF factor is applied by Qdrant (sparse vectors with the IDF modifier).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

K1 = 1.2
B = 0.75
TOKEN = re.compile(r"\d+(?:[.,’'´]\d+)*|[a-z]+")
STOPWORDS = frozenset(
    [
        "a",
        "al",
        "algo",
        "algun",
        "alguna",
        "algunas",
        "alguno",
        "algunos",
        "ante",
        "antes",
        "como",
        "con",
        "contra",
        "cual",
        "cuales",
        "cuando",
        "de",
        "del",
        "desde",
        "donde",
        "durante",
        "e",
        "el",
        "ella",
        "ellas",
        "ellos",
        "en",
        "entre",
        "era",
        "es",
        "esa",
        "esas",
        "ese",
        "eso",
        "esos",
        "esta",
        "estan",
        "estar",
        "estas",
        "este",
        "esto",
        "estos",
        "fue",
        "ha",
        "hay",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "mas",
        "me",
        "mi",
        "mis",
        "mucho",
        "muy",
        "nada",
        "ni",
        "no",
        "nos",
        "nuestra",
        "nuestro",
        "o",
        "os",
        "otra",
        "otro",
        "para",
        "pero",
        "poco",
        "por",
        "porque",
        "puede",
        "pueden",
        "puedo",
        "que",
        "quien",
        "se",
        "sea",
        "ser",
        "si",
        "sin",
        "sobre",
        "son",
        "su",
        "sus",
        "tambien",
        "te",
        "tiene",
        "tu",
        "tus",
        "un",
        "una",
        "unas",
        "uno",
        "unos",
        "usted",
        "y",
        "ya",
        "yo",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("spanish")


def fold(text: str) -> str:
    """Lower-case and strip accents (ñ -> n), as users often type without them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Search terms: numbers without separators ("15'000,000" -> "15000000"), stemmed words, no stopwords."""
    out = []
    for tok in TOKEN.findall(fold(text)):
        if tok[0].isdigit():
            out.append(re.sub(r"\D", "", tok))
        elif tok not in STOPWORDS and len(tok) > 1:
            out.append(_stemmer().stemWord(tok))
    return out


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
    indices = sorted({term_index(t) for t in tokens(text)})
    return SparseVector(indices, [1.0] * len(indices))
