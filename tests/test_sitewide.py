"""Repeated site-wide blocks are kept once; a lone short line is still content."""

from scraper.page import Page, Section
from scraper.sitewide import dedupe_pages

CONTACT = "Horarios de atención\nLunes a sábado de 8:00 am a 6:00 pm y fraudes las 24 horas.\nMedellín\n(604) 444 3727"


def make(url: str, *blocks: str) -> Page:
    return Page(url=url, title=url, sections=(Section("", tuple(blocks)),))


def test_contact_block_kept_once_on_the_shortest_url() -> None:
    pages = [make("https://s.co/b", "Texto b", CONTACT), make("https://s.co/", "Inicio", CONTACT),
             make("https://s.co/a/c", "Texto c", CONTACT), make("https://s.co/d", "Texto d")]
    out = {p.url: p.text() for p in dedupe_pages(pages, min_pages=3)}
    holders = [u for u, t in out.items() if "Lunes a sábado de 8:00 am" in t]
    assert holders == ["https://s.co/"]
    assert "Medellín" in out["https://s.co/"]
    assert "Medellín" not in out["https://s.co/b"]
    assert "Texto b" in out["https://s.co/b"]


def test_short_repeated_line_alone_in_content_is_kept() -> None:
    pages = [make("https://s.co/", CONTACT), make("https://s.co/x", CONTACT),
             make("https://s.co/y", CONTACT), make("https://s.co/ciudades", "Solicítala en:", "Medellín", "y más")]
    out = {p.url: p.text() for p in dedupe_pages(pages, min_pages=3)}
    assert "Medellín" in out["https://s.co/ciudades"]


def test_repeats_within_a_page_are_dropped() -> None:
    (page,) = dedupe_pages([make("https://s.co/", "Conoce el producto", "Detalle", "Conoce el producto")])
    assert page.text().count("Conoce el producto") == 1
