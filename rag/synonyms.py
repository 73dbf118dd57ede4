"""Query expansion for the sparse side: the words customers use mapped to the words the pages use.

A customer asks "¿quiénes son los dueños?" and the page says "accionistas"; asks for the "horario" of
the lines and the page says "atención ... lunes a sábado"; asks in English ("withdraw cash") and the
pages are Spanish ("retirar efectivo"). BM25 finds none of these. Each customer word below adds the
page words to the sparse query at a lower weight, so a question that already uses the page's words
ranks as before. The dense side (a multilingual embedder) is unchanged.
"""

from __future__ import annotations

from functools import lru_cache

from rag.text import tokens

# customer word (any form) -> words the pages use for it
CUSTOMER_TO_PAGE_WORDS: dict[str, str] = {
    # owners, company
    "dueño": "accionistas acciones", "dueños": "accionistas acciones", "propietario": "accionistas acciones",
    "propietarios": "accionistas acciones", "socios": "accionistas", "owner": "accionistas acciones",
    "owners": "accionistas acciones", "owns": "accionistas acciones",
    # contact and service hours
    "horario": "atención lunes sábado", "horarios": "atención lunes sábado", "hora": "atención horario",
    "horas": "atención horario", "abren": "horario atención", "atienden": "atención horario",
    "teléfono": "línea atención", "teléfonos": "líneas atención", "telefónica": "línea", "número": "línea",
    "llamar": "línea atención", "contacto": "línea atención", "comunicarme": "línea atención",
    "hours": "horario atención", "phone": "línea atención", "call": "línea", "number": "línea",
    "customer": "cliente", "service": "servicio atención",
    # money words
    "sacar": "retirar retiro", "plata": "dinero efectivo", "interés": "tasa", "intereses": "tasa",
    "cobran": "comisión cuota", "costo": "cuota comisión valor", "precio": "valor cuota",
    # English questions on Spanish pages
    "withdraw": "retirar retiro", "withdrawal": "retiro", "cash": "efectivo", "day": "día diario",
    "daily": "diario día", "store": "almacén almacenes tienda", "stores": "almacenes tiendas",
    "card": "tarjeta", "cards": "tarjetas", "credit": "crédito", "loan": "crédito préstamo", "rate": "tasa",
    "interest": "tasa interés", "fee": "cuota comisión", "insurance": "seguro seguros", "benefits": "beneficios",
    "apply": "solicitar", "requirements": "requisitos", "pay": "pagar pago", "payment": "pago",
    "bank": "banco", "banks": "bancos", "abroad": "exterior internacional", "international": "internacional",
    "app": "app aplicación", "minimum": "mínimo", "maximum": "máximo", "recharge": "recargar recarga",
    "top": "recargar", "cities": "ciudades", "city": "ciudad", "guarantee": "garantía", "year": "año",
}


@lru_cache(maxsize=1)
def _expansions() -> dict[str, tuple[str, ...]]:
    """Search term of a customer word -> search terms of the page words (same stemming as the index)."""
    out: dict[str, set[str]] = {}
    for word, page_words in CUSTOMER_TO_PAGE_WORDS.items():
        for term in tokens(word):
            out.setdefault(term, set()).update(tokens(page_words))
    return {term: tuple(sorted(found - {term})) for term, found in out.items()}


def expand(terms: list[str], weight: float) -> dict[str, float]:
    """The query's terms (weight 1) plus the page words its customer words stand for (at ``weight``; 0: none)."""
    weights = dict.fromkeys(terms, 1.0)
    if weight <= 0:
        return weights
    expansions = _expansions()
    for term in terms:
        for extra in expansions.get(term, ()):
            weights.setdefault(extra, weight)
    return weights
