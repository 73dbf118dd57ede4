"""Chunks carry title and heading, fit the size bound, keep table rows with headers, have stable ids."""

from rag.chunker import chunk_page
from scraper.extract import extract
from tests.fixture_site import TARJETA, page


def tarjeta():
    return extract(page("/tarjeta", "Tarjeta de crédito", TARJETA * 6), "http://x/tarjeta").page


def test_ids_are_deterministic_and_positions_ordered() -> None:
    first, second = chunk_page(tarjeta(), 400, 100), chunk_page(tarjeta(), 400, 100)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert [c.position for c in first] == list(range(len(first)))


def test_size_bound_and_context_carried() -> None:
    chunks = chunk_page(tarjeta(), 400, 100)
    assert len(chunks) > 3
    assert all(len(c.text) <= 400 for c in chunks)
    assert all(c.search_text.startswith("Tarjeta de crédito") for c in chunks)


def test_table_row_stays_with_its_headers() -> None:
    chunks = chunk_page(tarjeta(), 400, 100)
    rows = [c for c in chunks if "Tarjeta Bajo Monto" in c.text]
    assert rows and all("Tasa Efectiva Anual: 45,33333%" in c.text for c in rows)
    assert all("Tus tarifas" in c.search_text for c in rows)


def test_over_long_paragraph_is_split_on_sentences() -> None:
    from scraper.page import Page, Section

    long = " ".join(f"Frase número {i} sobre el crédito." for i in range(200))
    chunks = chunk_page(Page("https://s.co/x", "X", (Section("", (long,)),)), 500, 100)
    assert all(len(c.text) <= 500 for c in chunks)
    assert " ".join(c.text.replace("\n", " ") for c in chunks) == long
