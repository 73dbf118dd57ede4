"""Repeated site-wide blocks are kept once; a lone short line is still content."""

from scraper.page import ItemList, Page, Section
from scraper.sitewide import dedupe_pages

CONTACT = "Horarios de atención\nLunes a sábado de 8:00 am a 6:00 pm y fraudes las 24 horas.\nMedellín\n(604) 444 3727"


def make(url: str, *blocks: str | ItemList) -> Page:
    return Page(url=url, title=url, sections=(Section("", tuple(blocks)),))


def test_contact_block_is_its_own_document_seen_on_the_shortest_url() -> None:
    pages = [make("https://s.co/b", "Texto b", CONTACT), make("https://s.co/", "Inicio", CONTACT),
             make("https://s.co/a/c", "Texto c", CONTACT), make("https://s.co/d", "Texto d")]
    out = dedupe_pages(pages, min_pages=3)
    holders = [p for p in out if "Lunes a sábado de 8:00 am" in p.text()]
    assert [(p.url, p.title) for p in holders] == [("https://s.co/#horarios-de-atencion", "Horarios de atención")]
    assert "Medellín\n(604) 444 3727" in holders[0].text()
    texts = {p.url: p.text() for p in out}
    assert "Medellín" not in texts["https://s.co/b"] and "Medellín" not in texts["https://s.co/"]
    assert "Texto b" in texts["https://s.co/b"] and "Inicio" in texts["https://s.co/"]


def test_a_block_without_a_label_gets_a_generic_title_and_two_blocks_two_documents() -> None:
    blurb = "Somos la compañía que más tarjetas de crédito entrega a quienes acceden por primera vez."
    pages = [make(f"https://s.co/{n}", f"Texto {n}", blurb, f"Detalle de la página {n}", CONTACT) for n in "abc"]
    blocks = [p for p in dedupe_pages(pages, min_pages=3) if "#" in p.url]
    assert [(p.url, p.title) for p in blocks] == [
        ("https://s.co/a#informacion-general-de-la-compania", "Información general de la compañía"),
        ("https://s.co/a#horarios-de-atencion", "Horarios de atención")]
    assert blurb in blocks[0].text()


def test_short_repeated_line_alone_in_content_is_kept() -> None:
    pages = [make("https://s.co/", CONTACT), make("https://s.co/x", CONTACT),
             make("https://s.co/y", CONTACT), make("https://s.co/ciudades", "Solicítala en:", "Medellín", "y más")]
    out = {p.url: p.text() for p in dedupe_pages(pages, min_pages=3)}
    assert "Medellín" in out["https://s.co/ciudades"]


def test_repeats_within_a_page_are_dropped() -> None:
    (page,) = dedupe_pages([make("https://s.co/", "Conoce el producto", "Detalle", "Conoce el producto")])
    assert page.text().count("Conoce el producto") == 1


def test_a_site_wide_list_is_taken_out_of_each_page_and_kept_once() -> None:
    lines = ItemList(("Líneas de atención", "Bogotá (601) 745 5420", "Resto del país 01 8000 978 888"))
    pages = [make(f"https://s.co/{n}", f"Texto propio de la página {n}", lines) for n in "abc"]
    out = {p.url: p.text() for p in dedupe_pages(pages, min_pages=3)}
    assert [url for url, text in out.items() if "745 5420" in text] == ["https://s.co/a#lineas-de-atencion"]
    assert out["https://s.co/b"] == "https://s.co/b\nTexto propio de la página b"
