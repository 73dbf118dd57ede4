"""What of a streamed draft may be shown: whole sentences the grounding checks have passed, never more."""

from __future__ import annotations

from rag.reveal import CheckedReveal

CONTEXT = "Tarjeta Oro: cuota de manejo $15.900. Sí, la Tarjeta Oro es internacional y funciona en todo el mundo."
QUESTION = "¿La Tarjeta Oro sirve fuera de Colombia?"


def _feed(reveal: CheckedReveal, pieces: list[str]) -> list[str]:
    return [shown for piece in pieces if (shown := reveal.add(piece))]


def test_text_is_shown_a_whole_checked_sentence_at_a_time() -> None:
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.75)
    shown = _feed(reveal, ["Sí, la Tarjeta ", "Oro es internacional.", " Su cuota de manejo", " es $15.900.", " Y"])
    assert shown == ["Sí, la Tarjeta Oro es internacional.", " Su cuota de manejo es $15.900."]
    assert reveal.shown == "".join(shown)


def test_a_figure_in_no_page_stops_the_showing_for_good() -> None:
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.0)
    shown = _feed(reveal, ["Es internacional.", " Cuesta $99.999.", " Funciona en todo el mundo.\n"])
    assert shown == ["Es internacional."]


def test_the_not_found_marker_is_never_shown() -> None:
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.0)
    assert _feed(reveal, ["NO_ENCONTRADO.", " Algo más."]) == []


def test_a_sentence_of_words_from_no_page_waits_until_the_draft_as_a_whole_passes() -> None:
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.75)
    assert _feed(reveal, ["Claro.", " "]) == []  # none of its words is in the pages
    shown = _feed(reveal, ["Sí, la Tarjeta Oro es internacional y funciona en todo el mundo.", " "])
    assert shown == ["Claro. Sí, la Tarjeta Oro es internacional y funciona en todo el mundo."]


def test_a_list_marker_alone_is_not_a_sentence_to_show() -> None:
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.0)
    assert _feed(reveal, ["1. ", "El 2022-01-01: la cuenta."]) == []  # the marker, then a figure in no page
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.0)
    assert _feed(reveal, ["1. ", "Es internacional.", " "]) == ["1. Es internacional."]


def test_a_yes_that_only_restates_the_question_waits_for_the_page_s_words() -> None:
    reveal = CheckedReveal(CONTEXT, QUESTION, min_context_share=0.75, echo_min_context_share=1.0)
    assert _feed(reveal, ["Sí, la Tarjeta Oro sirve fuera de Colombia.", " "]) == []  # no page says "fuera de Colombia"
    shown = _feed(reveal, ["Es internacional y funciona en todo el mundo.", " "])
    assert shown == ["Sí, la Tarjeta Oro sirve fuera de Colombia. Es internacional y funciona en todo el mundo."]
