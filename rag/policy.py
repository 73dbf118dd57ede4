"""Answering policy: injection attempts, scope, language, and the polite replies for each outcome."""

from __future__ import annotations

import re
from typing import Literal

from rag.sparse import fold

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
ENGLISH_WORDS = frozenset(
    [
        "the",
        "what",
        "how",
        "can",
        "do",
        "does",
        "is",
        "are",
        "my",
        "your",
        "i",
        "you",
        "to",
        "of",
        "for",
        "in",
        "with",
        "which",
        "where",
        "when",
        "much",
        "many",
        "there",
    ]
)
SPANISH_WORDS = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "que",
        "como",
        "cual",
        "cuales",
        "puedo",
        "es",
        "son",
        "mi",
        "tu",
        "de",
        "del",
        "para",
        "en",
        "con",
        "donde",
        "cuando",
        "cuanto",
        "cuanta",
        "hay",
        "una",
        "un",
        "y",
        "por",
        "se",
    ]
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
    words = re.findall(r"[a-z]+", fold(text))
    english = sum(w in ENGLISH_WORDS for w in words)
    spanish = sum(w in SPANISH_WORDS for w in words)
    return "en" if english > spanish else "es"


def reply(status: Status, lang: Language, contact: str) -> str:
    return REPLIES[lang][status].format(contact=contact)
