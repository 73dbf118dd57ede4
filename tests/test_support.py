"""Answer support checks: invented figures, off-subject copies and answers made of other words are caught."""

from __future__ import annotations

from rag.retriever import Retrieved
from rag.support import evidence, figures, invented_numbers, question_coverage, supported, unsupported_reason
from storage.records import Chunk

CONTEXT = """[1] Credicompras › ¿Puedo pagar la garantía en una cuota?
No es posible, la comisión por garantía se distribuye en las cuotas del crédito.
[2] Otras soluciones financieras
Vehículos
En la actualidad nuestra Compañía no se encuentra ofreciendo este producto.
Línea nacional 01 8000 978 888. Tasa efectiva anual 26,27322%."""


def test_figures_in_no_page_are_caught_whatever_their_format() -> None:
    assert invented_numbers("Llama al 01 8000 978 888; la tasa es 26,27322 %", CONTEXT) == set()
    assert invented_numbers("Llama al 021-3000000", CONTEXT) == {"0213000000"}
    assert invented_numbers("Llama al 01 8000 978 026", CONTEXT) == {"018000978026"}  # groups of two figures
    assert invented_numbers("La tasa es 26,27 %", CONTEXT) == {"2627"}  # a part of a figure is not the figure
    assert invented_numbers("Marca el 978 888", CONTEXT) == set()  # a phone number's last groups
    assert invented_numbers("Paso 1: ve a la app", CONTEXT) == set()  # one digit: list numbering


def test_a_copied_sentence_must_speak_to_the_question() -> None:
    question = "¿Puedo pagar la comisión por garantía en una sola cuota?"
    assert question_coverage("No es posible, la comisión por garantía se distribuye en las cuotas.", question) >= 0.5
    copied = "En la actualidad nuestra Compañía no se encuentra ofreciendo este producto."
    assert not supported(copied, "¿Tuya tiene cuentas de ahorro para niños?", CONTEXT, grounding=copied)
    restated = "No, Tuya no tiene cuentas de ahorro para niños."  # the question, negated: in no page
    assert not supported(restated, "¿Tuya tiene cuentas de ahorro para niños?", CONTEXT, grounding=restated)
    assert not supported("Sí, tenemos cuentas para niños con 5% de interés.", "¿Tuya tiene cuentas para niños?",
                         CONTEXT, grounding="")  # words and a figure of its own


def test_a_copied_heading_is_no_answer() -> None:
    context = "[1] Seguros y asistencias\nSeguros y asistencias\nSeguro de Desempleo\nSeguro de Fraude"
    question = "¿Qué seguros comercializa Tuya?"
    assert not supported("Seguros y asistencias", question, context, grounding="Seguros y asistencias")
    assert supported("Seguro de Desempleo, Seguro de Fraude", question, context,
                     grounding="Seguros y asistencias: Seguro de Desempleo Seguro de Fraude")


def test_the_label_of_the_copied_sentence_counts_as_its_subject() -> None:
    chunk = Chunk("1", "https://e.co/otras", "Otras soluciones financieras", "",
                  "CDT a término.\nVehículos\nEn la actualidad nuestra Compañía no se encuentra ofreciendo este "
                  "producto.", 0)
    answer = "No. En la actualidad nuestra Compañía no se encuentra ofreciendo este producto."
    source = evidence(answer, [Retrieved(chunk, 1.0)])
    assert source.startswith("Otras soluciones financieras: Vehículos En la actualidad")
    assert supported(answer, "¿Tuya ofrece actualmente créditos para vehículos?", CONTEXT, grounding=source)
    assert not supported(answer, "¿Tuya ofrece actualmente créditos para vehículos?", CONTEXT, grounding=answer)


def test_the_not_found_marker_is_recognised_however_the_model_spells_it() -> None:
    from rag.draft import marker_form, says_not_found

    for spelt in ("NO_ENCONTRADO", "No_ENCONTRADO", "no encontrado.", "  NO_ENCONTRADO\n"):
        assert says_not_found(spelt), spelt
    assert not says_not_found("No, la tarjeta no se encuentra disponible.")
    assert "NO_ENCONTRADO".startswith(marker_form("No_ENC"))  # held back while it is being streamed


def test_figures_are_read_as_written() -> None:
    assert figures("Bogotá: 601 482 4804, Cali: (602) 380-8933; $15.900. Tasa 26,27322%.") == {
        "6014824804", "6023808933", "15900", "2627322"}
    assert figures("6 y 48 meses, paso 1") == {"48"}


def test_an_answer_that_only_restates_the_question_must_be_in_the_pages() -> None:
    question = "¿Tuya da créditos hipotecarios?"
    echo = unsupported_reason("Sí, Tuya da créditos hipotecarios.", CONTEXT, question, min_context_share=0.75,
                              echo_min_context_share=1.0)
    assert echo is not None and echo.check == "echo"  # the pages hold no "hipotecario": the question vouches alone
    said = "Sí, puedes pagar la garantía en una cuota."  # every term in the pages: a yes they can back
    assert unsupported_reason(said, CONTEXT, "¿Puedo pagar la garantía en una cuota?", min_context_share=0.75,
                              echo_min_context_share=1.0) is None
    assert unsupported_reason("Sí, Tuya da créditos hipotecarios.", CONTEXT, question,
                              min_context_share=0.75) is None  # the check off
    negated = "No, Tuya no da créditos hipotecarios."  # a no to a yes-or-no question: the pages must say it too
    assert unsupported_reason(negated, CONTEXT, question, min_context_share=0.75, echo_min_context_share=1.0,
                              yes_or_no=True) is not None
    told = "No es posible, la comisión por garantía se distribuye en las cuotas del crédito."
    assert unsupported_reason(told, CONTEXT, "¿Puedo pagar la garantía en una cuota?", min_context_share=0.75,
                              echo_min_context_share=1.0, yes_or_no=True) is None
    for bare in ("No.", "Sí.", "Yes."):  # a yes or a no alone, in any language: nothing to go by
        assert unsupported_reason(bare, CONTEXT, question, min_context_share=0.0) == ("echo", "it says only yes or no")
