"""Offline sparse terms and URL normalisation."""

from concurrent.futures import ThreadPoolExecutor

from rag.sparse import encode_documents, encode_query, term_index
from rag.text import stem, tokens
from scraper.urls import normalize


def test_terms_fold_accents_stem_and_normalise_numbers() -> None:
    assert tokens("¿Cuál es la TASA?") == tokens("cual tasa")
    assert tokens("$15’000,000") == tokens("15.000.000") == ["15000000"]
    assert tokens("créditos") == tokens("credito")


def test_query_terms_match_document_terms() -> None:
    (doc,) = encode_documents(["Bajo Monto 56,08602% tasa efectiva anual"])
    query = encode_query("tasa del bajo monto")
    assert set(query.indices) <= set(doc.indices)
    assert all(v > 0 for v in doc.values)


def test_urls_lose_fragments_tracking_and_trailing_slash() -> None:
    assert normalize("/credicompras/?utm_source=menu&utm_medium=nav#top", "http://127.0.0.1:8000/x") == \
        "http://127.0.0.1:8000/credicompras"
    assert normalize("HTTPS://WWW.Tuya.com.co:443/a?b=1") == "https://www.tuya.com.co/a?b=1"
    assert normalize("mailto:a@b.co") is None
    assert normalize("javascript:void(0)", "http://x/") is None


PAGES = {
    "accionistas": "Composición accionaria: Almacenes Éxito S.A. y Bancolombia S.A. son titulares del 50 % de las "
                   "acciones cada uno; los accionistas eligen la junta directiva.",
    "atencion": "Líneas de atención: lunes a sábado de 8:00 am a 6:00 pm en Medellín, Bogotá y Cali.",
    "retiros": "Puedes retirar efectivo de tu TuyaPay en los almacenes Éxito hasta $700.000 al día.",
    "tarjeta": "La tarjeta de crédito Tuya tiene cuota de manejo y beneficios en compras.",
}


def sparse_ranking(tmp_path, question: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The pages' names ranked by a real local Qdrant on the sparse side only."""
    import numpy as np

    from storage.records import Chunk, chunk_id
    from storage.vector_store import VectorStore

    store = VectorStore("t", path=tmp_path / "q")
    chunks = [Chunk(chunk_id(f"https://s.co/{name}", 0), f"https://s.co/{name}", name, "", text, 0)
              for name, text in PAGES.items()]
    collection = store.new_version(2)
    store.upsert(collection, chunks, np.ones((len(chunks), 2), dtype=np.float32),
                 encode_documents([c.search_text for c in chunks]))
    store.publish(collection)
    try:
        (hits,) = store.search(None, encode_query(question, 0.5), limit=4)
        return [h.chunk.title for h in hits]
    finally:
        store.close()


def test_customer_words_find_the_pages_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert sparse_ranking(tmp_path, "¿Quiénes son los dueños?")[0] == "accionistas"
    assert sparse_ranking(tmp_path, "¿Cuál es el horario?")[0] == "atencion"
    assert sparse_ranking(tmp_path, "How much cash can I withdraw per day?")[0] == "retiros"


def test_synonyms_weigh_less_than_the_questions_own_words() -> None:
    query = encode_query("¿Cuál es el horario de la tarjeta?", 0.5)
    weights = dict(zip(query.indices, query.values, strict=True))
    own = {term_index(t) for t in tokens("horario tarjeta")}
    assert {weights[i] for i in own} == {1.0}
    assert set(weights.values()) == {1.0, 0.5}
    assert encode_query("¿Cuál es el horario de la tarjeta?", 0.0).indices == sorted(own)  # weight 0: none added


def test_terms_come_out_the_same_from_many_threads_at_once() -> None:
    """Answers are checked in several threads at once (one per chat): the stemmer must not be shared by them."""
    text = "Las tarjetas internacionales funcionan en comercios de todo el mundo, comunicándote con nuestras " \
           "líneas de atención telefónica y solicitándolas " * 20
    expected = tokens(text)

    def fresh_tokens(_: int) -> list[str]:
        stem.cache_clear()  # every word stemmed again, by whichever thread gets there
        return tokens(text)
    with ThreadPoolExecutor(8) as pool:
        assert all(terms == expected for terms in pool.map(fresh_tokens, range(400)))
