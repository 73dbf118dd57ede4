"""Masking of personal data before anything is stored, logged or sent to a model.

- Card numbers: 13 to 19 digits (spaces or dashes between them allowed) that pass the Luhn check
  become ``[TARJETA ****1234]``.
- Colombian identity numbers (cédula, NIT, CE, TI, pasaporte...) named as such become ``[DOCUMENTO]``.
"""

from __future__ import annotations

import re

CARD_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
ID_NUMBER = re.compile(
    r"(?P<label>\b(?:c\.?\s?c|c[ée]dula(?:\s+de\s+(?:ciudadan[íi]a|extranjer[íi]a))?|documento(?:\s+de\s+identidad)?"
    r"|identificaci[óo]n|nit|c\.?\s?e|t\.?\s?i|pasaporte|id)\b\.?"
    r"(?:\s*(?:es|de|mi|número|numero|no\.?|n[°º]|#|:|=)\s*){0,3}\s*)"
    r"(?P<number>\d{1,3}(?:[.\s]\d{3}){1,3}(?:-\d)?|\d{5,12}(?:-\d)?)(?![\d])",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return f"[TARJETA ****{digits[-4:]}]"
    return match.group(0)


def mask(text: str) -> str:
    """Text with card numbers and identity numbers masked."""
    text = CARD_CANDIDATE.sub(_mask_card, text)
    return ID_NUMBER.sub(lambda m: f"{m.group('label')}[DOCUMENTO]", text)


def carries_personal_data(text: str) -> bool:
    """Whether ``text`` holds a card or identity number, as it is or already masked."""
    return mask(text) != text or "[TARJETA" in text or "[DOCUMENTO]" in text
