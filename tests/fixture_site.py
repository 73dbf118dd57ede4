"""Fixture pages of a small made-up financing company site, shaped like a real CMS site.

Every page carries boilerplate a crawler must drop (skip link, header, main navigation, search
form, breadcrumb, footer, scripts) and a contact block in an aside that repeats on every page.
"""

from __future__ import annotations

from tests.site_server import Route, Site

CANONICAL = "https://www.ejemplo.com.co"
CONTACT = (
    "Horarios y líneas de atención<br>\n"
    "Lunes a viernes de 7:00 am a 7:00 pm – Bloqueos de tarjeta las 24 horas.<br>\n"
    "Medellín<br>\n(604) 555 0101<br>\n- Resto del país<br>\n01 8000 555 010"
)
SECRET_MARKER = "clave-secreta-91"

NAV = """<a href="#main" class="visually-hidden skip-link">Pasar al contenido principal</a>
<header role="banner"><div class="top-links"><a href="/privado">Zona privada</a></div>
<nav role="navigation"><h2 class="visually-hidden">Main navigation</h2><ul class="menu">
<li><a href="/">Inicio</a></li><li><a href="/tarjeta?utm_source=menu&amp;utm_medium=nav">Tarjeta</a></li>
<li><a href="/credito">Crédito</a></li><li><a href="/tarjetas-viejas">Tarjetas</a></li>
<li><a href="/privado">Privado</a></li><li><a href="/docs/reglamento.pdf">Reglamento</a></li>
<li><a href="https://www.facebook.com/ejemplo">Facebook</a></li></ul></nav>
<form class="search-block-form" action="/search"><label>¿Qué buscas?</label><input type="search">
<noscript>You must have JavaScript enabled to use this form.</noscript></form></header>"""
FOOTER = """<footer role="contentinfo"><ul><li><a href="/legal">Información legal</a></li>
<li><a href="https://www.instagram.com/ejemplo">Instagram</a></li></ul>
<p>Ejemplo S.A. Compañía de financiamiento.</p></footer><script>track('pageview');</script>"""


def page(path: str, title: str, main_html: str, *, aside: str = CONTACT, extra_head: str = "") -> bytes:
    html = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>{title} | Ejemplo</title>
<link rel="canonical" href="{CANONICAL}{path}">{extra_head}
<script>window.dataLayer = [];</script><style>.x{{color:red}}</style></head><body>
{NAV}<div class="breadcrumb"><a href="/">Inicio</a> › <span>{title}</span></div>
<main role="main"><div class="region-content"><h1 class="page-title">{title}</h1>
{main_html}</div></main>
<aside class="contact-block" role="complementary">¿Te sirvió esta información?<br>
{aside}</aside>{FOOTER}</body></html>"""
    return html.encode("utf-8")


TARJETA = """<p>La Tarjeta Ejemplo Oro te da puntos en cada compra y avances en efectivo.</p>
<h3>Tus tarifas</h3>
<table><thead><tr><th>Producto</th><th>Tasa Efectiva Anual</th><th>Cuota de manejo</th></tr></thead>
<tbody><tr><td>Tarjeta Oro</td><td>28,11111%</td><td>$15.900</td></tr>
<tr><td>Tarjeta Clásica</td><td>31,22222%</td><td>$9.900</td></tr>
<tr><td>Tarjeta Bajo Monto</td><td>45,33333%</td><td>$0</td></tr></tbody></table>
<h3>¿Puedo comprar fuera de Colombia?</h3>
<p>Sí, la Tarjeta Oro es internacional y funciona en comercios de todo el mundo.</p>
<h3>Tarjeta Platino</h3>
<p>Esta tarjeta dejó de ofrecerse en 2023 y ya no es posible solicitarla.</p>"""

CREDITO = """<p>El Crédito Hogar financia electrodomésticos y muebles.</p>
<p>Te ofrecemos montos desde $500.000 hasta $10’000.000 y plazos entre 6 y 48 meses.</p>
<h3>¿Qué es la garantía?</h3>
<p>Es un respaldo de tu deuda que exige el Fondo de Garantías; se paga en las cuotas del crédito.</p>
<p>Solicítalo en Bogotá, Medellín y Cartagena.</p>"""

AHORRO = """<p>La Cuenta Ahorro Ejemplo no cobra cuota de manejo y paga intereses mensuales del 4% E.A.</p>"""

HOME = """<p>Bienvenido a Ejemplo. Conoce nuestros productos:</p>
<ul><li><a href="/tarjeta">Tarjeta</a></li><li><a href="/credito?utm_campaign=home">Crédito</a></li></ul>"""

PRIVADO = f"""<p>Transacciones privadas: {SECRET_MARKER}</p>"""

ROBOTS = b"User-agent: *\nDisallow: /privado\nDisallow: /search\n\nSitemap: {BASE}/sitemap.xml\n"


def sitemap(paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{{BASE}}{p}</loc></url>" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


def build_v1(site: Site) -> None:
    """The site as first crawled: home, tarjeta, credito, ahorro (sitemap only), plus traps."""
    site.routes.clear()
    site.routes.update({
        "/robots.txt": Route(ROBOTS, "text/plain; charset=utf-8", etag=False),
        "/sitemap.xml": Route(sitemap(["/", "/tarjeta", "/credito", "/ahorro"]), "application/xml", etag=False),
        "/": Route(page("/", "Inicio", HOME)),
        "/tarjeta": Route(page("/tarjeta", "Tarjeta de crédito", TARJETA)),
        "/credito": Route(page("/credito", "Crédito Hogar", CREDITO)),
        "/ahorro": Route(page("/ahorro", "Cuenta de ahorro", AHORRO)),
        "/privado": Route(page("/privado", "Privado", PRIVADO)),
        "/tarjetas-viejas": Route(status=301, location="/tarjeta"),
        "/docs/reglamento.pdf": Route(b"%PDF-1.4 reglamento", "application/pdf"),
    })


def build_v2(site: Site) -> None:
    """The changed site: tarjeta rate changed, ahorro gone, credito failing (500), novedades new."""
    build_v1(site)
    site.routes["/tarjeta"] = Route(page("/tarjeta", "Tarjeta de crédito", TARJETA.replace("45,33333%", "44,99999%")))
    del site.routes["/ahorro"]
    site.routes["/credito"] = Route(b"<h1>Error</h1>", status=500)
    site.routes["/novedades"] = Route(page("/novedades", "Novedades",
                                           "<p>Desde enero atendemos también los domingos de 9:00 am a 1:00 pm.</p>"))
    site.routes["/sitemap.xml"] = Route(sitemap(["/", "/tarjeta", "/credito", "/novedades"]), "application/xml",
                                        etag=False)
