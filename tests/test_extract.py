"""Extraction keeps what a reader calls content and drops the page furniture."""

from scraper.extract import extract
from scraper.page import ItemList, Table
from tests.fixture_site import CREDITO, TARJETA, page


def test_boilerplate_is_dropped_and_content_kept() -> None:
    result = extract(page("/tarjeta", "Tarjeta de crédito", TARJETA), "http://127.0.0.1/tarjeta")
    text = result.page.text()
    for furniture in ("Pasar al contenido principal", "Main navigation", "You must have JavaScript",
                      "¿Qué buscas?", "Información legal", "dataLayer", "pageview", "Zona privada",
                      "¿Te sirvió esta información?"):
        assert furniture not in text
    assert "La Tarjeta Ejemplo Oro te da puntos" in text
    assert "Lunes a viernes de 7:00 am a 7:00 pm" in text  # the contact aside is content
    assert result.page.title == "Tarjeta de crédito"
    assert result.canonical == "https://www.ejemplo.com.co/tarjeta"
    assert result.page.url == "https://www.ejemplo.com.co/tarjeta"


def test_headings_open_sections_and_tables_keep_headers() -> None:
    result = extract(page("/tarjeta", "Tarjeta de crédito", TARJETA), "http://x/tarjeta")
    headings = [s.heading for s in result.page.sections]
    assert headings[:3] == ["", "Tus tarifas", "¿Puedo comprar fuera de Colombia?"]
    (table,) = result.page.tables
    assert isinstance(table, Table)
    assert table.headers == ("Producto", "Tasa Efectiva Anual", "Cuota de manejo")
    assert "Producto: Tarjeta Bajo Monto; Tasa Efectiva Anual: 45,33333%; Cuota de manejo: $0" in table.row_lines()


def test_links_are_returned_for_the_crawler_even_from_navigation() -> None:
    result = extract(page("/credito", "Crédito Hogar", CREDITO), "http://x/credito")
    assert "/privado" in result.links and "https://www.facebook.com/ejemplo" in result.links
    assert result.follow_links


def test_noindex_page_yields_links_but_no_page() -> None:
    html = page("/x", "Oculta", "<p>Nada</p><a href='/otra'>otra</a>",
                extra_head='<meta name="robots" content="noindex">')
    result = extract(html, "http://x/x")
    assert result.page is None
    assert "/otra" in result.links


def test_page_without_main_falls_back_to_body_without_furniture() -> None:
    html = b"<html><head><title>Simple | Tuya</title></head><body><nav>Menu</nav><p>Hola mundo</p>" \
           b"<footer>Pie</footer></body></html>"
    result = extract(html, "http://x/simple")
    assert result.page.title == "Simple"
    assert result.page.text() == "Simple\nHola mundo"
    assert result.page.url == "http://x/simple"


def test_page_json_round_trip_keeps_content_hash() -> None:
    from scraper.page import Page

    original = extract(page("/tarjeta", "Tarjeta de crédito", TARJETA), "http://x/tarjeta").page
    again = Page.from_json(original.to_json())
    assert again == original and again.content_hash == original.content_hash


def test_a_list_is_kept_as_its_items_and_a_list_holding_blocks_is_read_block_by_block() -> None:
    html = page("/req", "Requisitos", "<p>Necesitas:</p><ul><li>Ser mayor de <b>edad</b></li><li>Cédula</li>"
                "<li> </li></ul><ol><li><p>Paso uno.</p><p>Paso dos.</p></li></ol>")
    blocks = extract(html, "http://x/req").page.sections[0].blocks
    assert blocks[:4] == ("Necesitas:", ItemList(("Ser mayor de edad", "Cédula")), "Paso uno.", "Paso dos.")


def test_page_json_round_trip_keeps_lists() -> None:
    from scraper.page import Page

    original = extract(page("/req", "Requisitos", "<ul><li>Uno</li><li>Dos</li></ul>"), "http://x/req").page
    again = Page.from_json(original.to_json())
    assert again == original and ItemList(("Uno", "Dos")) in again.sections[0].blocks
