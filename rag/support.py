"""Answer support checks: is a model's answer made of the context, and does it speak to the question?

Cheap lexical checks on the retrieval tokens (accents folded, Spanish stems, numbers without
separators). They catch the failures that matter most for a financial bot: a figure that is in no
retrieved page as written (an invented rate, amount or phone number), an answer whose words are largely in no
page (an invented list of products), and a copied sentence that does not touch the question's
subject (the model answering something else instead of saying "not found").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from rag.focus import units_of
from rag.policy import DEFAULT_RULES, Rules
from rag.retriever import Retrieved
from rag.text import tokens

GENERIC = frozenset({"tuy", "pued", "hac", "tien", "quier", "sab", "actual", "yes"})  # say nothing of a subject
# a figure as written: digits with their separators, a phone number's groups ("(601) 745 5420") joined
FIGURE = re.compile(r"\d(?:[.,:'’]?\d)*(?:[ \t()\-–]+\d(?:[.,:'’]?\d)*)*")
GROUP_SEPARATOR = re.compile(r"[ \t()\-–]+")


def figures(text: str) -> set[str]:
    """The figures written in a text (2+ digits), each as its digits: "(601) 745 5420" -> "6017455420"."""
    return {digits for run in FIGURE.findall(text) if len(digits := re.sub(r"\D", "", run)) > 1}


def written_figures(text: str) -> set[str]:
    """Every figure a text states, and each run of a phone number's groups ("601 745 5420" also gives
    "7455420"), as digits; never a part of a group ("$800.000" gives "800000", not "800")."""
    out: set[str] = set()
    for run in FIGURE.findall(text):
        groups = [re.sub(r"\D", "", g) for g in GROUP_SEPARATOR.split(run)]
        out.update("".join(groups[i:j]) for i in range(len(groups)) for j in range(i + 1, len(groups) + 1))
    return {figure for figure in out if len(figure) > 1}


def invented_numbers(answer: str, context: str) -> set[str]:
    """Figures in the answer that the context does not hold as written: a number in no page, a part of one
    ("$800" for "$800.000"), or a phone number put together from the groups of two different ones."""
    return figures(answer) - _context_figures(context)


@lru_cache(maxsize=8)
def _context_figures(context: str) -> frozenset[str]:
    """A context's written figures, computed once: a streamed draft checks every sentence against it."""
    return frozenset(written_figures(context))


@lru_cache(maxsize=8)
def _context_terms(context: str) -> frozenset[str]:
    """A context's terms, computed once: a streamed draft checks every sentence against them."""
    return frozenset(tokens(context))


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


class Unsupported(NamedTuple):
    """Why an answer is a guess: the check that refused it ("invented_figures", "answer_share")
    and the reason in words."""

    check: str
    why: str


def new_terms(answer: str, question: str) -> set[str]:
    """The answer's terms that the question does not hold (nor the generic ones)."""
    return set(tokens(answer)) - set(tokens(question)) - GENERIC


def unsupported_reason(answer: str, context: str, question: str, *, min_context_share: float,
                       echo_min_context_share: float = 0.0, yes_or_no: bool = False) -> Unsupported | None:
    """Why a generated answer is a guess (None when it is not): a figure in no page, too few of its terms in
    the pages or the question (``min_context_share``; 0 checks figures and a bare yes or no only), or, for an
    answer that says nothing the question does not ("Sí, Tuya ofrece créditos hipotecarios"), too few of its
    terms in the pages alone (``echo_min_context_share``): a question cannot vouch for its own yes. The same holds
    for any answer to a yes-or-no question (``yes_or_no``): "No, la tarjeta no ofrece seguros para mascotas" is
    no page's word when no page speaks of pets."""
    invented = invented_numbers(answer, context)
    if invented:
        return Unsupported("invented_figures", f"figures {sorted(invented)} are in no retrieved page")
    said = set(tokens(answer)) - GENERIC
    if not said:
        return Unsupported("echo", "it says only yes or no")  # "No.": nothing a customer or a check can go by
    share = context_share(answer, f"{context}\n{question}")
    if share < min_context_share:
        return Unsupported("answer_share", f"only {100 * share:.0f}% of its terms are in the retrieved pages")
    if echo_min_context_share and (yes_or_no or not new_terms(answer, question)):
        found = len(said & _context_terms(context)) / len(said)
        if found < echo_min_context_share:
            return Unsupported("echo", f"the question vouches for it: {100 * found:.0f}% of its terms in the pages")
    return None


def supported(answer: str, question: str, context: str, *, grounding: str, rules: Rules = DEFAULT_RULES,
              subject_covered: bool | None = None) -> bool:
    """An extracted answer counts when it is the context's own words with no invented figure, says something
    the question does not (a heading like "Seguros y asistencias" is no answer), and the context sentence it
    came from (``grounding``: with its label and heading) covers the question's subject; an answer that
    merely restates the question does not count. ``subject_covered``, when given, is that last verdict reached
    otherwise (an English question and a Spanish sentence share no words)."""
    on_subject = question_coverage(grounding, question) >= rules.extract_min_coverage if subject_covered is None \
        else subject_covered
    return (not invented_numbers(answer, context) and context_share(answer, context) >= rules.extract_min_context_share
            and len(new_terms(answer, question)) >= rules.extract_min_new_terms and on_subject)


def evidence(answer: str, hits: Sequence[Retrieved]) -> str:
    """The context sentence the answer was taken from, with its label and its chunk's title and heading."""
    said = set(tokens(answer))
    best, best_overlap = "", 0
    for hit in hits:
        for unit in units_of(hit.chunk.lines):
            overlap = len(said & set(tokens(unit)))
            if overlap > best_overlap:
                best, best_overlap = f"{hit.chunk.header}: {unit}", overlap
    return best
