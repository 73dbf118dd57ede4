"""Card and identity numbers never reach storage, logs or the model."""

from hypothesis import given
from hypothesis import strategies as st

from storage.masking import luhn_valid, mask


def test_cards_that_pass_luhn_are_masked_in_any_spelling() -> None:
    assert mask("mi tarjeta es 4111 1111 1111 1111 y no funciona") == \
        "mi tarjeta es [TARJETA ****1111] y no funciona"
    assert mask("5500-0000-0000-0004") == "[TARJETA ****0004]"
    assert mask("4111111111111111") == "[TARJETA ****1111]"


def test_numbers_that_are_not_cards_stay() -> None:
    assert mask("4111 1111 1111 1112") == "4111 1111 1111 1112"  # fails Luhn
    assert mask("llama al 01 8000 978 888") == "llama al 01 8000 978 888"
    assert mask("$15.000.000 a 36 meses") == "$15.000.000 a 36 meses"


def test_colombian_identity_numbers_are_masked() -> None:
    assert mask("mi cédula es 1.020.304.050") == "mi cédula es [DOCUMENTO]"
    assert mask("CC 79123456, ¿cuál es mi saldo?") == "CC [DOCUMENTO], ¿cuál es mi saldo?"
    assert mask("C.C. No. 52.345.678") == "C.C. No. [DOCUMENTO]"
    assert mask("mi número de documento: 1020304050") == "mi número de documento: [DOCUMENTO]"
    assert mask("NIT 860032330-3") == "NIT [DOCUMENTO]"


@given(st.lists(st.integers(0, 9), min_size=12, max_size=18))
def test_every_valid_card_number_is_masked(prefix: list[int]) -> None:
    digits = "".join(map(str, prefix))
    check = next(str(d) for d in range(10) if luhn_valid(digits + str(d)))
    card = digits + check
    masked = mask(f"pago con {card} hoy")
    assert card not in masked and f"****{card[-4:]}" in masked
