"""Index and refresh over real HTTP, real local Qdrant and a real small embedder, with the page registry and the
embedding cache on real SQLite and on real PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from rag.embedder import Embedder
from rag.indexer import RefreshError
from scraper import extract
from storage.page_registry import PageRegistry
from tests import fixture_site
from tests.conftest import make_settings
from tuyabot.components import Components

C = fixture_site.CANONICAL


@pytest.fixture
def kb(tmp_path, models_dir, minilm: Embedder, database_url: str):  # type: ignore[no-untyped-def]
    """The knowledge base of conftest, on each database."""
    base = Components(make_settings(tmp_path / "data", models_dir, database_url=database_url), progress=False)
    base.__dict__["embedder"] = minilm
    yield base
    base.close()


def texts(kb: Components) -> list[str]:
    return [c.search_text for c in kb.store.all_chunks()]


def test_index_holds_clean_content_with_contact_block_once(site, kb: Components) -> None:
    _, base = site
    report = kb.indexer.index(base)
    assert sorted(report.added) == sorted(f"{C}{p}" for p in ("/", "/ahorro", "/credito", "/tarjeta"))
    assert report.chunks_embedded == report.chunks_total > 0
    chunks = texts(kb)
    joined = "\n".join(chunks)
    for furniture in ("Pasar al contenido principal", "Main navigation", "You must have JavaScript enabled",
                      fixture_site.SECRET_MARKER, "¿Te sirvió"):
        assert furniture not in joined
    (contact,) = [c for c in kb.store.all_chunks() if "Lunes a viernes de 7:00 am a 7:00 pm" in c.text]
    assert (contact.url, contact.title) == (f"{C}/#horarios-y-lineas-de-atencion", "Horarios y líneas de atención")
    row = [t for t in chunks if "Tarjeta Bajo Monto" in t]
    assert row and "Tasa Efectiva Anual: 45,33333%" in row[0]
    stored = {line: kind for c in kb.store.all_chunks() for line, kind in zip(c.text.split("\n"), c.kinds,
                                                                               strict=True)}
    (bajo_monto,) = [line for line in stored if "Tarjeta Bajo Monto" in line]
    assert stored[bajo_monto] == "row"  # every line's kind is stored with its chunk, a table row's from the table
    assert {c.url.split("#")[0] for c in kb.store.all_chunks()} <= {f"{C}{p}" for p in ("/", "/ahorro", "/credito",
                                                                                         "/tarjeta")}


def test_search_finds_the_page_that_answers(site, kb: Components) -> None:
    _, base = site
    kb.indexer.index(base)
    top = kb.retriever.search("¿Cuál es la tasa de la tarjeta bajo monto?", 3)
    assert top[0].chunk.url == f"{C}/tarjeta"
    assert any("45,33333%" in h.chunk.text and h.chunk.url == f"{C}/tarjeta" for h in top)


def test_refresh_applies_changes_and_reembeds_only_what_changed(site, kb: Components) -> None:
    s, base = site
    kb.indexer.index(base)
    credito_chunks = [c.text for c in kb.store.all_chunks() if c.url == f"{C}/credito"]
    fixture_site.build_v2(s)
    report = kb.indexer.refresh(base)
    assert report.added == [f"{C}/novedades"]
    assert report.changed == [f"{C}/tarjeta"]
    assert report.removed == [f"{C}/ahorro"]
    assert report.kept_after_error == [f"{C}/credito"]
    assert report.unchanged == [f"{C}/"]
    assert 0 < report.chunks_embedded < report.chunks_total
    chunks = kb.store.all_chunks()
    assert not any(c.url == f"{C}/ahorro" for c in chunks)
    assert [c.text for c in chunks if c.url == f"{C}/credito"] == credito_chunks
    top = kb.retriever.search("tasa tarjeta bajo monto", 3)
    assert any("44,99999%" in h.chunk.text for h in top)
    assert "45,33333%" not in "\n".join(texts(kb))
    registry = PageRegistry(kb.db).load()
    assert registry[f"{C}/credito"].status == "kept_after_error"


def test_refresh_without_change_embeds_nothing(site, kb: Components) -> None:
    _, base = site
    first = kb.indexer.index(base)
    again = kb.indexer.refresh(base)
    assert again.chunks_embedded == 0
    assert again.chunks_total == first.chunks_total
    assert len(again.unchanged) == 4 and not (again.added or again.changed or again.removed)


def test_a_refresh_reads_again_in_full_every_page_an_older_extractor_read(site, kb: Components) -> None:
    """After an upgrade that reads HTML otherwise, "not modified" must not keep the old reading of a page."""
    s, base = site
    kb.indexer.index(base)
    registry = PageRegistry(kb.db)
    pages = registry.load()
    older = {url: replace(r, page=replace(r.page, extracted_by=extract.VERSION - 1)) for url, r in pages.items()}
    older[f"{C}/"] = pages[f"{C}/"]  # the home page was read by this version
    registry.replace_all(older.values())
    s.requests.clear()
    kb.indexer.refresh(base)
    asked_if_changed = {urlsplit(r.path).path for r in s.requests if "If-None-Match" in r.headers}
    assert asked_if_changed == {"/"}  # every other page fetched in full
    assert {r.page.extracted_by for r in registry.load().values()} == {extract.VERSION}


def test_failed_refresh_leaves_previous_index_whole(site, kb: Components, monkeypatch) -> None:
    s, base = site
    kb.indexer.index(base)
    before = texts(kb)
    fixture_site.build_v2(s)

    def broken_upsert(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(kb.store, "upsert", broken_upsert)
    with pytest.raises(OSError):
        kb.indexer.refresh(base)
    assert texts(kb) == before
    assert f"{C}/ahorro" in PageRegistry(kb.db).load()
    assert len(kb.store.client.get_collections().collections) == 1  # the half-built version was dropped


def test_unreachable_site_does_not_empty_the_index(site, kb: Components) -> None:
    _, base = site
    kb.indexer.index(base)
    count = kb.store.count()
    with pytest.raises(RefreshError, match="index is unchanged"):
        kb.indexer.refresh("http://127.0.0.1:9")
    assert kb.store.count() == count


def test_searches_keep_answering_during_a_refresh(site, kb: Components) -> None:
    s, base = site
    kb.indexer.index(base)
    fixture_site.build_v2(s)
    s.delay_seconds = 0.05
    errors: list[BaseException] = []
    done = threading.Event()

    def run_refresh() -> None:
        try:
            kb.indexer.refresh(base)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=run_refresh)
    worker.start()
    answered = 0
    while not done.is_set():
        hits = kb.retriever.search("tarjeta internacional fuera de Colombia", 3)
        assert hits and hits[0].chunk.url == f"{C}/tarjeta"
        answered += 1
    worker.join()
    assert not errors and answered > 0


def test_index_survives_a_process_restart(site, kb: Components, minilm) -> None:
    _, base = site
    kb.indexer.index(base)
    count = kb.store.count()
    kb.close()
    reopened = Components(kb.settings, progress=False)
    reopened.__dict__["embedder"] = minilm
    try:
        assert reopened.store.count() == count
        assert reopened.indexer.refresh(base).chunks_embedded == 0
    finally:
        reopened.close()


def test_the_chunk_following_a_hit_can_be_fetched_for_context(site, kb: Components) -> None:
    from rag.retriever import Retrieved

    _, base = site
    kb.indexer.index(base)
    chunks = kb.store.all_chunks()
    first = next(c for c in chunks if any(o.url == c.url and o.position == c.position + 1 for o in chunks))
    (following,) = kb.retriever.following([Retrieved(first, 1.0)], 1)
    assert following.chunk.url == first.url and following.chunk.position == first.position + 1
    last = max((c for c in chunks if c.url == first.url), key=lambda c: c.position)
    assert kb.retriever.following([Retrieved(last, 1.0)], 1) == []
