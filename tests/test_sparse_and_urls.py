"""Offline sparse terms and URL normalisation."""

from concurrent.futures import ThreadPoolExecutor

from rag.sparse import encode_documents, encode_query
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
