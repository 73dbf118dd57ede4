"""The crawler over real HTTP on loopback: polite, same-site, canonical, resilient."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import pytest

from scraper.crawler import Crawler, InvalidBaseURL, PriorFetch
from scraper.urls import path_and_query
from tests import fixture_site
from tests.conftest import make_settings
from tests.site_server import Route
from tuyabot.components import crawl_config

FAST = crawl_config(make_settings(Path("unused"), Path("unused"), crawl_user_agent="TuyaBot-test/1.0"), progress=False)


def test_crawl_records_every_public_page_once_under_its_canonical_url(site) -> None:
    s, base = site
    result = Crawler(FAST).crawl(base)
    urls = [p.page.url for p in result.pages]
    assert sorted(urls) == sorted(f"{fixture_site.CANONICAL}{p}" for p in ("/", "/tarjeta", "/credito", "/ahorro"))
    assert len(urls) == len(set(urls))
    requested = s.requested_paths()
    assert "/privado" not in requested  # disallowed by robots.txt, though linked from every page
    assert requested.count("/tarjeta") == 1  # the utm link and the redirect lead to the same page
    assert requested.count("/credito") == 1
    assert "/tarjetas-viejas" in requested  # the redirect was followed...
    assert not any(fixture_site.SECRET_MARKER in p.page.text() for p in result.pages)
    assert "/docs/reglamento.pdf" in result.skipped or any("reglamento" in u for u in result.skipped)
    assert all("facebook" not in u and "instagram" not in u for u in result.requested)
    assert all(r.headers.get("User-Agent") == "TuyaBot-test/1.0" for r in s.requests)


def test_server_errors_are_retried_then_reported_failed(site) -> None:
    s, base = site
    s.routes["/credito"] = Route(b"oops", status=503)
    result = Crawler(FAST).crawl(base)
    assert s.requested_paths().count("/credito") == 2  # one retry (retries=2)
    assert any(path_and_query(u) == "/credito" for u in result.failed)
    assert all("credito" not in p.page.url for p in result.pages)


def test_gone_pages_are_reported(site) -> None:
    s, base = site
    del s.routes["/ahorro"]
    result = Crawler(FAST).crawl(base)
    assert any(path_and_query(u) == "/ahorro" for u in result.gone)


def test_conditional_get_answers_not_modified(site) -> None:
    s, base = site
    first = Crawler(FAST).crawl(base)
    prior = {path_and_query(p.fetch_url): PriorFetch(p.etag, p.last_modified, p.links) for p in first.pages}
    s.requests.clear()
    second = Crawler(FAST).crawl(base, prior)
    assert sorted(path_and_query(u) for u in second.not_modified) == ["/", "/ahorro", "/credito", "/tarjeta"]
    assert not second.pages
    assert any("If-None-Match" in r.headers for r in s.requests)


def test_max_pages_bounds_the_crawl(site) -> None:
    _, base = site
    assert len(Crawler(FAST).crawl(base).pages) == 4  # the bound is what stops it, not an empty crawl
    result = Crawler(replace(FAST, max_pages=2)).crawl(base)
    assert len(result.pages) == 2


def test_a_base_url_that_is_not_http_is_refused_with_its_reason() -> None:
    with pytest.raises(InvalidBaseURL, match="not an http"):
        Crawler(FAST).crawl("ftp://example.com")


def test_unreachable_site_yields_nothing() -> None:
    result = Crawler(FAST).crawl("http://127.0.0.1:9")  # nothing listens on the discard port
    assert not result.pages
    assert result.failed


def test_expected_page_failures_are_one_log_line_with_the_reason(site, caplog) -> None:
    s, base = site
    s.routes["/credito"] = Route(b"<p>" + b"x" * 300_000 + b"</p>")
    s.routes["/ahorro"] = Route(b"oops", status=503)
    with caplog.at_level("WARNING", logger="scraper.crawler"):
        result = Crawler(replace(FAST, max_bytes=200_000)).crawl(base)
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert {path_and_query(u) for u in result.failed} == {"/credito", "/ahorro"}
    assert failures and not any(r.exc_info for r in failures)
    assert any("larger than 200000 bytes" in r.getMessage() for r in failures)
    assert "Traceback" not in caplog.text


def test_a_hostile_site_is_crawled_within_bounds_and_its_good_pages_kept(site, caplog) -> None:
    s, base = site
    hostile = {
        "/vacia": Route(b""),  # 200 with nothing in it
        "/enorme": Route(b"<p>" + b"x" * (20 * 2**20) + b"</p>"),  # 20 MB
        "/bomba": Route(gzip.compress(b"\0" * (50 * 2**20)), headers={"Content-Encoding": "gzip"}),  # 50 KB -> 50 MB
        "/lenta": Route(fixture_site.page("/lenta", "Lenta", "<p>Llega tarde.</p>"), delay_seconds=3),
        "/corte": Route(reset=True),
        "/error": Route(b"<h1>Error</h1>", status=502),
        "/bucle-a": Route(status=301, location="/bucle-b"),
        "/bucle-b": Route(status=301, location="/bucle-a"),
        "/latina": Route("<html><head><title>Atención</title></head><body><main><h1>Atención</h1>"
                         "<p>Señor cliente: crédito en línea.</p></main></body></html>".encode("latin-1"),
                         content_type="text/html; charset=iso-8859-1"),  # declared only in the HTTP header
    }
    s.routes.update(hostile)
    s.routes["/sitemap.xml"] = Route(  # an index of two sitemaps: the pages, and 100,000 URLs (6 MB, over the bound)
        b'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>{BASE}/sitemap-grande.xml</loc></sitemap><sitemap><loc>{BASE}/sitemap-paginas.xml</loc>"
        b"</sitemap></sitemapindex>", "application/xml", etag=False)
    s.routes["/sitemap-grande.xml"] = Route(fixture_site.sitemap([f"/p/{n}" for n in range(100_000)]),
                                            "application/xml", etag=False)
    s.routes["/sitemap-paginas.xml"] = Route(fixture_site.sitemap(["/", "/tarjeta", "/credito", "/ahorro", *hostile]),
                                             "application/xml", etag=False)
    config = replace(FAST, max_pages=40, max_bytes=4 * 2**20, timeout_seconds=1.0, retries=2)
    with caplog.at_level("WARNING", logger="scraper.crawler"):
        result = Crawler(config).crawl(base)
    got = {path_and_query(p.fetch_url): p.page for p in result.pages}
    assert {"/", "/tarjeta", "/credito", "/ahorro", "/latina"} <= set(got)
    assert "Señor cliente: crédito en línea." in got["/latina"].text()  # decoded by its declared charset
    assert {"/enorme", "/bomba", "/lenta", "/corte", "/error"} <= {path_and_query(u) for u in result.failed}
    assert len(result.requested) <= 40 * config.retries + 4  # bounded: robots.txt, three sitemaps, 40 URLs
    assert "sitemap-grande.xml unreadable: body larger than 4194304 bytes" in caplog.text
    assert "Traceback" not in caplog.text
