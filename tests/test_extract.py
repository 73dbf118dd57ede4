"""Extraction keeps what a reader calls content and drops the page furniture."""

from scraper.extract import VERSION, extract
from scraper.page import Faq, Fields, ItemList, Page, Table
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


STRUCTURED = """<h2>Pagos</h2><p>Paga en efectivo.</p><dl><dt>Efecty</dt><dt>Moviired</dt><dd>Convenio 10658</dd>
<dt>Bancos</dt><dd>Con tu extracto</dd><dd>o con tu cédula</dd></dl>
<h3>Preguntas frecuentes</h3><details><summary>¿Cobran por pagar?</summary><p>No, el pago es gratis.</p>
<p>Solo pagas tu cuota.</p></details><details><summary>¿Y en el exterior?</summary><ul><li>Visa</li></ul></details>
<h2>Seguros</h2><h3>¿Cómo reclamar?</h3><p>Llama a la aseguradora.</p>"""


def test_description_lists_faq_pairs_and_heading_paths_are_typed() -> None:
    """A ``<dl>`` keeps each value with its label, a ``<details>`` its question with its answer, and every
    section the path of headings above it."""
    sections = extract(page("/pagos", "Pagos", STRUCTURED), "http://x/pagos").page.sections
    assert [s.heading for s in sections][:3] == ["Pagos", "Pagos › Preguntas frecuentes", "Seguros › ¿Cómo reclamar?"]
    assert sections[0].blocks == ("Paga en efectivo.", Fields((("Efecty / Moviired", "Convenio 10658"),
                                                               ("Bancos", "Con tu extracto"),
                                                               ("Bancos", "o con tu cédula"))))
    faq, *rest = sections[1].blocks
    assert faq == Faq("¿Cobran por pagar?", "No, el pago es gratis.\nSolo pagas tu cuota.")
    assert rest[:2] == ["¿Y en el exterior?", ItemList(("Visa",))]  # an answer holding a list: read block by block
    again = Page.from_json(extract(page("/pagos", "Pagos", STRUCTURED), "http://x/pagos").page.to_json())
    assert again.sections[:2] == sections[:2]


def test_a_details_answer_keeps_its_inline_text_in_one_line_and_a_look_alike_heading_is_no_parent() -> None:
    html = page("/f", "F", "<h2>Pago</h2><h2>Pagos</h2><details><summary>¿Cobran?</summary>Puedes pagar "
                           "<strong>sin costo</strong> en línea.<p>Solo tu cuota.</p></details>")
    (section,) = extract(html, "http://x/f").page.sections[:1]
    assert section.heading == "Pago › Pagos"  # an empty heading joins the next; "Pagos" is not under "Pago"
    assert section.blocks[0] == Faq("¿Cobran?", "Puedes pagar sin costo en línea.\nSolo tu cuota.")


def test_a_paragraph_wrapped_in_the_html_source_stays_one_line() -> None:
    """A browser lays a line break of the source out as a space: only ``<br>`` (and ``<pre>``) break a line."""
    html = page("/w", "W", "<p>Para solicitar tu tarjeta debes tener\n    en cuenta los requisitos.</p>\n"
                           "Horario:\n<strong>lunes\na sábado</strong><br>\n24 horas.<pre>línea 1\nlínea 2</pre>")
    blocks = extract(html, "http://x/w").page.sections[0].blocks
    assert blocks[:3] == ("Para solicitar tu tarjeta debes tener en cuenta los requisitos.",
                          "Horario: lunes a sábado\n24 horas.", "línea 1\nlínea 2")


EVERY_READING = page("/todo", "Todo", """<h2>Tarjeta</h2><p>Tu tarjeta para comprar
    en todo el mundo</p><p>, sin cuota de manejo</p><p>.</p><p>Horario:<br>lunes a <strong>sábado</strong></p>
<pre>línea 1
línea 2</pre><ul><li>Ofertas</li><li>App</li></ul><dl><dt>Convenio</dt><dd>10658</dd></dl>
<h3>Preguntas</h3><details><summary>¿Cobran?</summary>No <em>cobramos</em>.</details>
<table><thead><tr><th>Producto</th><th>Tasa</th></tr></thead><tbody><tr><td>Oro</td><td>28,1%</td></tr></tbody></table>""",
                     aside="")
READING_OF_VERSION = {2: "7a5bedccbe3cd7e4da8ae73a67585b15b361452f71b7c594e4f0c7b18eb518ae"}


def test_what_the_extractor_reads_is_pinned_to_its_version() -> None:
    """A change to what the extractor gives for the same HTML must raise ``scraper.extract.VERSION`` (a refresh
    then reads every page again in full instead of keeping an older reading of the unchanged ones)."""
    page_read = extract(EVERY_READING, "http://x/todo").page
    assert page_read.extracted_by == VERSION
    assert READING_OF_VERSION.get(VERSION) == page_read.content_hash, (
        "the extractor reads this page otherwise: raise scraper.extract.VERSION and pin the new reading")
