"""Text rules every stage shares: folding, search terms (stems, stopwords, numbers), sentences, lead lines.

One copy of each rule: the chunker, sparse vectors, sentence focus, the answering policy, the
grounding checks and citations all read text the same way.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

from scraper.layout import SENTENCE_END

TOKEN = re.compile(r"\d+(?:[.,’'´]\d+)*|[a-z]+")

STOPWORDS_ES = frozenset((
    "a", "al", "algo", "algun", "alguna", "algunas", "alguno", "algunos", "ante", "antes", "como", "con", "contra",
    "cual", "cuales", "cuando", "cuanta", "cuantas", "cuanto", "cuantos", "de", "del", "desde", "donde", "durante",
    "e", "el", "ella", "ellas", "ellos", "en", "entre", "era", "es", "esa", "esas", "ese", "eso", "esos", "esta",
    "estan", "estar", "estas", "este", "esto", "estos", "fue", "ha", "hay", "la", "las", "le", "les", "lo", "los",
    "mas", "me", "mi", "mis", "mucho", "muy", "nada", "ni", "no", "nos", "nuestra", "nuestro", "o", "os", "otra",
    "otro", "para", "pero", "poco", "por", "porque", "puede", "pueden", "puedo", "que", "quien", "se", "sea", "ser",
    "si", "sin", "sobre", "son", "su", "sus", "tambien", "te", "tiene", "tu", "tus", "un", "una", "unas", "uno",
    "unos", "usted", "y", "ya", "yo",
))
STOPWORDS_EN = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "in", "is",
    "it", "its", "many", "me", "much", "my", "of", "on", "or", "the", "there", "this", "to", "what", "when",
    "where", "which", "who", "why", "will", "with", "you", "your",
))
STOPWORDS = STOPWORDS_ES | STOPWORDS_EN


_local = threading.local()  # a snowball stemmer keeps its word in itself: one per thread, or threads garble it


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Spanish stem of a folded word (safe from any thread)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("spanish")
    return stemmer.stemWord(word)


def printable(text: str) -> str:
    """What a user typed, without what no reader sees: control characters (NUL included), invisible format
    characters (zero-width, bidi overrides) and lone surrogates (invalid in UTF-8); newlines and tabs stay."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))


def fold(text: str) -> str:
    """Lower-case and strip accents (ñ -> n), as users often type without them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of a text (letters only)."""
    return re.findall(r"[a-z]+", fold(text))


def tokens(text: str) -> list[str]:
    """Search terms: numbers without separators ("15'000,000" -> "15000000"), stemmed words, no stopwords."""
    out = []
    for tok in TOKEN.findall(fold(text)):
        if tok[0].isdigit():
            out.append(re.sub(r"\D", "", tok))
        elif tok not in STOPWORDS and len(tok) > 1:
            out.append(stem(tok))
    return out


def sentences(line: str) -> list[str]:
    """A line split at its sentence ends."""
    return [piece for piece in SENTENCE_END.split(line) if piece]
