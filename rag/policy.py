"""Answering policy: injection attempts, scope, language, and the polite replies for each outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rag.text import STOPWORDS_EN, STOPWORDS_ES, fold, words

Status = Literal["answered", "no_answer", "out_of_scope", "refused"]


@dataclass(frozen=True)
class Rules:
    """The answering path's inner thresholds, one place, each with what it trades (the settings-backed ones are
    ``rag.chat.ChatPolicy``'s). Chosen on the tune half of bench/eval only; README "What each rule buys" gives
    what switching each off costs there (``bench/bench_rules.py``)."""

    # completion (rag.completion): the rest of a passage the answer quotes in part
    complete_min_drawn_share: float = 0.6  # lower: more answers completed, some from a line they were not drawn from
    complete_covered_share: float = 0.5  # lower: a sentence counts as said sooner (less repeated, more left out)
    complete_max_added_chars: int = 400  # higher: whole long passages added, answers grow long
    # second pass (rag.second_pass): a copied sentence must be on the question's subject and say something new
    extract_min_coverage: float = 0.5  # higher: fewer off-subject copies, fewer right ones
    extract_min_context_share: float = 0.9  # lower: copies that are less the page's own words pass
    extract_min_new_terms: int = 2  # lower: an echo of the question counts as an answer
    # first pass (rag.support.unsupported_reason): a Spanish answer to a yes-or-no question, or one that only
    # restates the question, must be the pages' words alone
    echo_min_context_share: float = 1.0  # lower: a "Sí" or a "No" the pages do not say is given


DEFAULT_RULES = Rules()
Language = Literal["es", "en"]

# Instructions addressed to the bot itself, matched on folded text at word boundaries. A phrase that also reads
# as an honest question ("can my wife act as co-signer?") counts only as a command: at the start of a sentence.
# This screen only saves a model call; the prompt's rules and the grounding checks are the real defence.
_COMMAND_START = r"(?:^|[.!?;:,]\s*|\bpor favor\s+|\bplease\s+)"
_OVERRIDE = r"(?:olvida|ignora|omite|saltate|descarta)\s+(?:todas\s+|todo\s+)?"
_RULES = r"(?:\w+\s+)?(?:reglas|instrucciones|indicaciones|restricciones)\b"
INJECTION = re.compile(
    rf"\b{_OVERRIDE}(?:tus|esas)\s+{_RULES}|{_COMMAND_START}{_OVERRIDE}(?:las\s+|mis\s+)?{_RULES}"
    r"|\ba partir de ahora (?:eres|seras|actuas|actua)\b|\bhazte pasar por\b|\bfinge (?:que )?ser\b"
    r"|\b(?:muestra|muestrame|revela|revelame|dime|repite|imprime|escribe)\s+(?:tu|tus)\s+"
    r"(?:prompt|instrucciones|reglas|mensaje de sistema)\b"
    r"|\bsystem prompt\b|\bprompt (?:del|de) sistema\b|\bmodo desarrollador\b|\bjailbreak\b|\bdeveloper mode\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous\s+|prior\s+|above\s+)?"
    r"(?:instructions|rules)\b"
    r"|\breveal (?:your|the) (?:prompt|instructions)\b"
    rf"|{_COMMAND_START}(?:actua como|act as|you are now|pretend to be)\b",
)
REPLIES: dict[Language, dict[Status, str]] = {
    "es": {
        "no_answer": "No encontré esa información en las páginas de TUYA. Puedes consultarla en tuya.com.co o "
        "en la línea de atención {contact}.",
        "out_of_scope": "Solo puedo ayudarte con preguntas sobre los productos y servicios de TUYA: tarjetas de "
        "crédito, CrediCompras, Cuenta Digital TuyaPay, seguros, pagos y más.",
        "refused": "No puedo cambiar mis instrucciones ni compartirlas. Con gusto te ayudo con preguntas sobre "
        "los productos y servicios de TUYA.",
    },
    "en": {
        "no_answer": "I couldn't find that in TUYA's pages. You can check tuya.com.co or call {contact}.",
        "out_of_scope": "I can only help with questions about TUYA's products and services: credit cards, "
        "CrediCompras, the TuyaPay digital account, insurance, payments and more.",
        "refused": "I can't change or share my instructions. I'm happy to help with questions about TUYA's "
        "products and services.",
    },
}


# An open question names what it asks for: Spanish writes its interrogative with the accent (often left out of
# "cuánto", "cuál" and "quién", which are seldom anything else; "que", "como", "donde" and "cuando" without it are
# other words), English puts it first. Any other question asks for a yes or a no ("Muéstrame…" is no question).
OPEN_ES = re.compile(r"\b(?:qué|cómo|dónde|adónde|cuándo|cu[aá]l(?:es)?|cu[aá]nt[oa]s?|qui[eé]n(?:es)?)\b",
                     re.IGNORECASE)
YES_NO_EN = re.compile(r"^\W*(?:do|does|did|is|are|was|were|can|could|will|would|should|may|must|has|have|am)\b",
                       re.IGNORECASE)


def yes_no(question: str, lang: Language) -> bool:
    """Whether a question asks for a yes or a no rather than for something it names."""
    if lang == "en":
        return bool(YES_NO_EN.match(question))
    return "?" in question and not OPEN_ES.search(question)


def is_injection(text: str) -> bool:
    return bool(INJECTION.search(fold(text)))


def language(text: str) -> Language:
    """English when more of its words are English-only function words than Spanish-only ones, else Spanish."""
    said = words(text)
    english = sum(w in STOPWORDS_EN and w not in STOPWORDS_ES for w in said)
    spanish = sum(w in STOPWORDS_ES and w not in STOPWORDS_EN for w in said)
    return "en" if english > spanish else "es"


QUOTED = {"es": "{quote}", "en": "TUYA's page says (in Spanish): {quote}"}


def quoted(quote: str, lang: Language) -> str:
    """A sentence copied from the (Spanish) pages as the answer, introduced as such for an English question."""
    return QUOTED[lang].format(quote=quote)


def reply(status: Status, lang: Language, contact: str) -> str:
    return REPLIES[lang][status].format(contact=contact)
