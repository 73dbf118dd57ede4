"""Answer support checks: is a model's answer made of the context, and does it speak to the question?

Cheap lexical checks on the retrieval tokens (accents folded, Spanish stems, numbers without
separators). They catch the failures that matter most for a financial bot: a figure that is in no
retrieved page (an invented rate, amount or phone number), an answer whose words are largely in no
page (an invented list of products), and a copied sentence that does not touch the question's
subject (the model answering something else instead of saying "not found").
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.focus import units_of
from rag.retriever import Retrieved
from rag.text import tokens

GENERIC = frozenset({"tuy", "pued", "hac", "tien", "quier", "sab", "actual"})


def _numbers(text: str) -> set[str]:
    return {t for t in tokens(text) if t.isdigit() and len(t) > 1}  # one digit: list numbering, "2 días"


def invented_numbers(answer: str, context: str) -> set[str]:
    """Numbers (2+ digits) in the answer that appear nowhere in the context."""
    return _numbers(answer) - _numbers(context)


def question_coverage(answer: str, question: str) -> float:
    """Share of the question's content terms that the answer mentions."""
    asked = {t for t in tokens(question) if not t.isdigit()} - GENERIC
    if not asked:
        return 1.0
    return len(asked & set(tokens(answer))) / len(asked)


def context_share(answer: str, context: str) -> float:
    """Share of the answer's terms found in the context."""
    said = set(tokens(answer))
    if not said:
        return 0.0
    return len(said & set(tokens(context))) / len(said)


def unsupported_reason(answer: str, context: str, question: str, *, min_context_share: float) -> str:
    """Why a generated answer is a guess ("" when it is not): a figure in no page, or too few of its terms in
    the pages or the question (``min_context_share``; 0 checks figures only)."""
    invented = invented_numbers(answer, context)
    if invented:
        return f"figures {sorted(invented)} are in no retrieved page"
    share = context_share(answer, f"{context}\n{question}")
    if share < min_context_share:
        return f"only {100 * share:.0f}% of its terms are in the retrieved pages"
    return ""


def supported(answer: str, question: str, context: str, *, grounding: str, min_coverage: float = 0.5,
              min_context_share: float = 0.9, min_new_terms: int = 2) -> bool:
    """An extracted answer counts when it is the context's own words with no invented figure, says something
    the question does not (a heading like "Seguros y asistencias" is no answer), and the context sentence it
    came from (``grounding``: with its label and heading) covers the question's subject; an answer that
    merely restates the question does not count."""
    new_terms = set(tokens(answer)) - set(tokens(question)) - GENERIC
    return (not invented_numbers(answer, context) and context_share(answer, context) >= min_context_share
            and len(new_terms) >= min_new_terms and question_coverage(grounding, question) >= min_coverage)


def evidence(answer: str, hits: Sequence[Retrieved]) -> str:
    """The context sentence the answer was taken from, with its label and its chunk's title and heading."""
    said = set(tokens(answer))
    best, best_overlap = "", 0
    for hit in hits:
        for unit in units_of(hit.chunk.text):
            overlap = len(said & set(tokens(unit)))
            if overlap > best_overlap:
                best, best_overlap = f"{hit.chunk.header}: {unit}", overlap
    return best
