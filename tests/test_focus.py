"""Context focusing keeps the sentences closest to the question, with their subject and in page order."""

from __future__ import annotations

from rag.embedder import Embedder
from rag.focus import focus, units_of
from rag.retriever import Retrieved
from scraper.layout import laid_out
from storage.records import Chunk


def test_labels_and_questions_give_their_subject_to_the_next_sentence() -> None:
    text = ("Vehículos\nEn la actualidad no ofrecemos este producto. Consulta otras opciones.\n"
            "¿Cuánto cuesta la cuenta?\nEs gratis.\nProducto: Oro; Tasa: 28,1%")
    assert units_of(laid_out(text)) == [
        "Vehículos En la actualidad no ofrecemos este producto.", "Consulta otras opciones.",
        "¿Cuánto cuesta la cuenta? Es gratis.", "Producto: Oro; Tasa: 28,1%"]


def _hit(url: str, heading: str, text: str, position: int = 0) -> Retrieved:
    return Retrieved(Chunk(f"id-{url}-{position}", url, "Ejemplo", heading, text, position), 1.0)


def test_focus_keeps_the_closest_sentences_grouped_by_chunk(minilm: Embedder) -> None:
    hits = [
        _hit("https://e.co/otras", "Otras soluciones", "El CDT es una inversión a plazo fijo.\nVehículos\n"
             "En la actualidad no se encuentra ofreciendo este producto."),
        _hit("https://e.co/tarjeta", "Tarjeta", "La tarjeta Oro da puntos. The weather is nice today."),
    ]
    context = focus("Do you offer car loans? vehicles", hits, minilm, max_units=1)
    assert context == "[1] Ejemplo › Otras soluciones\nVehículos En la actualidad no se encuentra ofreciendo este " \
                      "producto."
    everything = focus("the weather", hits, minilm, max_units=10)  # every sentence kept: page order, hit order
    assert everything == ("[1] Ejemplo › Otras soluciones\nEl CDT es una inversión a plazo fijo.\nVehículos En la "
                          "actualidad no se encuentra ofreciendo este producto.\n\n[2] Ejemplo › Tarjeta\n"
                          "La tarjeta Oro da puntos.\nThe weather is nice today.")
