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


FLAT_PRODUCTS = "\n".join(f"<p>{line}</p>" for line in [
    *[f"Producto {i}: una frase larga que describe el producto número {i} con todos sus detalles." for i in range(8)],
    "Vehículos",
    "En la actualidad nuestra Compañía no se encuentra ofreciendo este producto.",
    "Descubre más",
    *[f"Otra frase de relleno número {i} sobre los servicios que ofrece la compañía." for i in range(6)],
    "Estos son los bancos que puedes inscribir a tu débito automático:",
    *[f"Banco Número {i}" for i in range(14)],
    "Ten presente que la cuenta debe estar a tu nombre.",
])


def flat_chunks(max_chars: int = 400):
    return chunk_page(extract(page("/planos", "Productos", FLAT_PRODUCTS), "http://x/planos").page, max_chars, 100)


def test_a_label_line_stays_with_the_text_it_names() -> None:
    chunks = flat_chunks()
    holding = [c for c in chunks if "no se encuentra ofreciendo" in c.text]
    assert len(holding) == 1 and "Vehículos\nEn la actualidad" in holding[0].text
    assert not any(c.text.rstrip().endswith("Vehículos") for c in chunks)


def test_a_colon_line_keeps_its_list_in_one_chunk() -> None:
    chunks = flat_chunks()
    listing = [c for c in chunks if "Banco Número 0" in c.text]
    assert len(listing) == 1
    assert listing[0].text.startswith("Estos son los bancos")
    assert all(f"Banco Número {i}\n" in listing[0].text for i in range(14))


def test_a_list_longer_than_a_chunk_is_still_split_within_the_bound() -> None:
    chunks = flat_chunks(max_chars=200)
    assert all(len(c.text) <= 200 for c in chunks)
    text = "\n".join(c.text for c in chunks)
    assert all(f"Banco Número {i}" in text for i in range(14))


LAID_OUT = """<p>Tarjeta Oro</p><p>Tu tarjeta para comprar en todo el mundo con puntos en cada compra que haces.</p>
<p>Documentos que necesitas:</p><p>Cédula original.</p><p>¿Cuánto cuesta la cuota de manejo?</p>
<p>La cuota de manejo es de $15.900 al mes.</p><p>Convenio: 10658</p><ul><li>Ofertas</li><li>App</li></ul>
<h3>Tarifas</h3><table><thead><tr><th>Producto</th><th>Tasa</th></tr></thead><tbody>
<tr><td>Oro</td><td>28,1%</td></tr></tbody></table>"""


def test_every_line_carries_its_kind_from_the_structure_or_the_layout() -> None:
    """The chunker types each line once: a table row, a list's item and a joined section heading from the
    page's structure, a flat line from its layout; the readers of retrieved text read these kinds."""
    (chunk,) = chunk_page(extract(page("/oro", "Oro", LAID_OUT), "http://x/oro").page, 800, 400)
    assert chunk.lines[:11] == [  # then the fixture pages' contact block
        ("Tarjeta Oro", "label"),
        ("Tu tarjeta para comprar en todo el mundo con puntos en cada compra que haces.", "text"),
        ("Documentos que necesitas:", "intro"), ("Cédula original.", "text"),
        ("¿Cuánto cuesta la cuota de manejo?", "question"), ("La cuota de manejo es de $15.900 al mes.", "text"),
        ("Convenio: 10658", "field"), ("Ofertas", "item"), ("App", "item"), ("Tarifas:", "heading"),
        ("Producto: Oro; Tasa: 28,1%", "row"),
    ]
    assert chunk.kinds == tuple(kind for _, kind in chunk.lines)


FLAT_LIST = """<p>Si quieres una Tarjeta Oro solo debes tener en cuenta los siguientes requisitos y hacer la
solicitud en línea o en un almacén.</p><p>Debes ser mayor de edad.</p><p>Debes tener cédula colombiana.</p>
<p>La aprobación depende del estudio de crédito. Te avisamos por mensaje de texto.</p>
<p>Te llamamos al recibirla.</p><p>Con la tarjeta en tu poder te llamaremos para ayudarte a activarla y elegir
la fecha de pago que más te sirva cada mes.</p><p>Actívala en la app.</p>"""


def test_a_run_of_short_one_sentence_lines_is_typed_as_a_list() -> None:
    """A list written one ``<p>`` an item (TUYA's requirements) is typed once, by the layout: two or more short
    lines of one sentence each in a row are items; one such line alone, or a line of two sentences, is text."""
    (chunk,) = chunk_page(extract(page("/oro", "Oro", FLAT_LIST), "http://x/oro").page, 800, 400)
    assert [kind for _, kind in chunk.lines[:6]] == ["text", "item", "item", "text", "text", "text"]
    assert chunk.lines[6] == ("Actívala en la app.", "text")


def test_typed_pairs_and_questions_keep_their_kinds_and_a_question_stays_with_its_answer() -> None:
    html = page("/pagos", "Pagos", "<dl><dt>Efecty</dt><dd>Convenio 10658</dd></dl><p>" + "Texto largo. " * 50 +
                "</p><details><summary>¿Cobran por pagar?</summary><p>No, el pago es gratis.</p></details>")
    chunks = chunk_page(extract(html, "http://x/pagos").page, 800, 200)
    assert ("Efecty: Convenio 10658", "field") in chunks[0].lines
    (faq,) = [c for c in chunks if "¿Cobran por pagar?" in c.text]
    assert faq.lines[faq.lines.index(("¿Cobran por pagar?", "question")) + 1] == ("No, el pago es gratis.", "text")
