"""The page's structure is carried as typed blocks: from the HTML's own markup, and from flat lines read once."""

from __future__ import annotations

import json

from scraper.extract import extract
from scraper.layout import typed
from scraper.page import Field, ItemList, Page, Question, Section, Table
from tests.fixture_site import page

MARKED = """
<h2>Crédito Hogar</h2>
<p>Para solicitarlo necesitas:</p>
<ul><li>Ser mayor de edad.</li><li>Tu cédula de ciudadanía.</li><li>Ingresos desde un salario mínimo.</li></ul>
<h3>Tarifas</h3>
<dl><dt>Cuota de manejo</dt><dd>$15.900 al mes</dd><dt>¿Tiene seguro?</dt><dd>Sí, el seguro de deudores.</dd></dl>
<h3>Preguntas frecuentes</h3>
<details><summary>¿Puedo pagar por anticipado?</summary><p>Sí, sin penalidad.</p></details>
<h2>Contacto</h2>
<p>Escríbenos.</p>
"""

FLAT = """
<p>Estos son los requisitos:</p><p>Ser mayor de edad.</p><p>Tener cédula.</p>
<p>Vehículos</p><p>En la actualidad no ofrecemos este producto.</p>
<p>¿Cuánto cuesta la cuenta?</p><p>Es gratis.</p>
<p>Convenio: 10658</p>
<p>Horarios<br>Medellín<br>(604) 444 3727<br>-  Bogotá<br>(601) 482 4804</p>
<p>Una frase cualquiera sobre el producto.</p>
"""


def extracted(body: str) -> Page:
    return extract(page("/hogar", "Crédito Hogar", body), "http://x/hogar").page


def test_the_html_markup_becomes_typed_blocks_under_their_heading_path() -> None:
    sections = {s.heading: s.blocks for s in extracted(MARKED).sections}
    assert sections["Crédito Hogar"] == (ItemList("Para solicitarlo necesitas:", (
        "Ser mayor de edad.", "Tu cédula de ciudadanía.", "Ingresos desde un salario mínimo.")),)
    assert sections["Crédito Hogar › Tarifas"] == (Field("Cuota de manejo", "$15.900 al mes"),
                                                   Question("¿Tiene seguro?", "Sí, el seguro de deudores."))
    assert sections["Crédito Hogar › Preguntas frecuentes"] == (
        Question("¿Puedo pagar por anticipado?", "Sí, sin penalidad."),)
    assert sections["Contacto"][0] == "Escríbenos."  # a new h2 leaves the h3s and the h2 before it


def test_flat_lines_are_read_once_for_their_layout() -> None:
    blocks = [b for s in typed(extracted(FLAT)).sections for b in s.blocks]
    assert blocks[:4] == [
        ItemList("Estos son los requisitos:", ("Ser mayor de edad.", "Tener cédula.")),
        Field("Vehículos", "En la actualidad no ofrecemos este producto."),
        Question("¿Cuánto cuesta la cuenta?", "Es gratis."),
        Field("Convenio", "10658"),
    ]
    # a label above a label is no pair; each phone line keeps its city; a written bullet is not an item mark
    assert blocks[4:7] == ["Horarios", Field("Medellín", "(604) 444 3727"), Field("Bogotá", "(601) 482 4804"),
                          ]
    text = typed(extracted(FLAT)).text()
    assert "Estos son los requisitos:\n- Ser mayor de edad.\n- Tener cédula." in text
    assert "¿Cuánto cuesta la cuenta? Es gratis." in text and "Bogotá: (601) 482 4804" in text


def test_typed_blocks_survive_storage_and_old_stored_pages_still_read() -> None:
    original = typed(extracted(MARKED + FLAT))
    again = Page.from_json(original.to_json())
    assert again == original and again.content_hash == original.content_hash
    old = json.dumps({"url": "https://x/a", "title": "A", "fetched_at": "2026-01-01T00:00:00+00:00",
                      "sections": [{"heading": "", "blocks": ["Hola", {"headers": ["A"], "rows": [["1"]]}]}]})
    assert Page.from_json(old).sections == (Section("", ("Hola", Table(("A",), (("1",),)))),)


def test_a_list_ends_where_its_lines_stop_being_alike() -> None:
    from scraper.layout import typed_blocks

    lines = ["Llámanos:", "Bogotá: 601 482 4804", "A nivel nacional:01 8000 978 888", "Credicompras en app",
             "Estos son los pasos:", "Descarga la app.", "Crea tu cuenta.", "Recargar", "Es gratis y rápido.",
             "Lunes a viernes de 7:00 am a 7:00 pm."]
    assert typed_blocks(["\n".join(lines)]) == [
        ItemList("Llámanos:", ("Bogotá: 601 482 4804", "A nivel nacional:01 8000 978 888")),  # pairs, then none
        "Credicompras en app",
        ItemList("Estos son los pasos:", ("Descarga la app.", "Crea tu cuenta.")),  # sentences, then a label
        Field("Recargar", "Es gratis y rápido."),
        "Lunes a viernes de 7:00 am a 7:00 pm.",  # a time is no label and value
    ]
