"""Answering policy: injection attempts, scope, language, and the polite replies for each outcome."""

from __future__ import annotations

import re
from typing import Literal

from rag.text import STOPWORDS_EN, STOPWORDS_ES, fold, words

Status = Literal["answered", "no_answer", "out_of_scope", "refused"]
Language = Literal["es", "en"]

INJECTION = re.compile(
    r"(olvida|ignora|omite|salta(te)?)\s+(todas\s+)?(tus|las|mis|esas)?\s*(reglas|instrucciones|indicaciones|"
    r"restricciones)|a partir de ahora (eres|eras|seras|actua)|actua como|haz(te)? pasar por|finge (que )?ser|"
    r"(muestra|revela|dime|repite|imprime|escribe)\s+(tu|el|tus|las)\s+(prompt|instrucciones|reglas|"
    r"mensaje de sistema|system prompt)|system prompt|prompt del sistema|modo desarrollador|jailbreak|"
    r"ignore (all |any |the )?(previous |prior |above )?(instructions|rules)|you are now|act as|pretend to be|"
    r"reveal (your|the) (prompt|instructions)|developer mode",
    re.IGNORECASE,
)
TUYA_TOPIC = re.compile(
    r"tuya|tarjeta|card|credicompra|credito|credit|prestamo|loan|tuyapay|cuenta|account|cdt|seguro|insurance|"
    r"asistencia|pago|pagar|pay|cuota|tasa|rate|interes|interest|extracto|saldo|balance|cupo|avance|retiro|"
    r"withdraw|recarga|exito|carulla|surtimax|banco|bank|ahorro|saving|inversion|accionista|garantia|app|"
    r"cajero|atm|deuda|debt|mora|plazo|monto|efectivo|cash|transferencia|transfer|bloque|fraude|sucursal|"
    r"oficina|horario|linea|telefono|phone|financ|compra|purchase|gobierno corporativo|sostenibilidad",
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


def is_injection(text: str) -> bool:
    return bool(INJECTION.search(fold(text)))


def mentions_tuya_topic(text: str) -> bool:
    return bool(TUYA_TOPIC.search(fold(text)))


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
