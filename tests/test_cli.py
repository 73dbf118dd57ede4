"""The `tuyabot` command as a user runs it (in-process, real components underneath)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import fixture_site
from tuyabot.cli import app
from tuyabot.logs import RedactSecrets

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, models_dir: Path, minilm_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for key, value in {"TUYABOT_PROFILE": "offline", "TUYABOT_DATA_DIR": str(tmp_path / "data"),
                       "TUYABOT_MODELS_DIR": str(models_dir), "EMBEDDING_MODEL": "all-minilm-l6-v2",
                       "CRAWL_DELAY_SECONDS": "0", "CRAWL_RETRIES": "1"}.items():
        monkeypatch.setenv(key, value)
    return tmp_path


def test_search_before_index_says_what_to_do(env) -> None:
    result = runner.invoke(app, ["search", "tasa"])
    assert result.exit_code == 1
    assert "tuyabot index" in result.output


def test_index_search_refresh_and_eval(env, site) -> None:
    _, base = site
    result = runner.invoke(app, ["index", "--url", base])
    assert result.exit_code == 0, result.output
    assert "added: 4" in result.output

    result = runner.invoke(app, ["search", "¿La tarjeta sirve fuera de Colombia?", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert f"{fixture_site.CANONICAL}/tarjeta" in result.output

    result = runner.invoke(app, ["search", "tarjeta internacional", "--json", "-k", "3"])
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and {"url", "title", "heading", "text", "score"} <= set(hits[0])

    result = runner.invoke(app, ["refresh", "--url", base, "--json"])
    report = json.loads(result.stdout)
    assert report["chunks_embedded"] == 0 and len(report["unchanged"]) == 4

    questions = env / "q.jsonl"
    questions.write_text(json.dumps({"id": "q1", "turns": ["¿Qué es la garantía?"]}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(questions), "--out", str(env / "r.jsonl"), "--retrieval-only"])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in (env / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "q1" and len(record["retrieved"]) == 5 and record["latency_ms"] > 0
    assert {"url", "text", "score"} <= set(record["retrieved"][0])

    result = runner.invoke(app, ["status"])
    assert "pages: 4" in result.output


def test_bad_input_gets_clear_errors(env) -> None:
    bad = env / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", str(bad), "--out", str(env / "r.jsonl"), "--retrieval-only"])
    assert result.exit_code == 1 and "turns" in result.output

    result = runner.invoke(app, ["models", "fetch", "--offline", "--name", "no-such-model"])
    assert result.exit_code == 1 and "unknown offline model" in result.output

    result = runner.invoke(app, ["search", "   "])
    assert result.exit_code == 1 and "empty" in result.output

    result = runner.invoke(app, ["index", "--url", "ftp://example.com"])
    assert result.exit_code == 1 and "not an http(s) URL: 'ftp://example.com'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # a message, no traceback
    assert "Traceback" not in result.output


def test_offline_profile_without_fetched_model_explains(env, monkeypatch, site) -> None:
    _, base = site
    monkeypatch.setenv("TUYABOT_MODELS_DIR", str(env / "empty-models"))
    result = runner.invoke(app, ["index", "--url", base])
    assert result.exit_code == 1
    assert "tuyabot models fetch --offline" in result.output


def test_serve_needs_an_index_and_the_platform_tokens(env, site, monkeypatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.setenv(name, "")
    result = runner.invoke(app, ["serve"])  # every configured platform: none is
    assert result.exit_code == 1 and "no chat platform is configured" in result.output
    assert "TELEGRAM_BOT_TOKEN" in result.output and "SLACK_SIGNING_SECRET" in result.output
    result = runner.invoke(app, ["serve", "telegram"])
    assert result.exit_code == 1 and "tuyabot index" in result.output
    _, base = site
    assert runner.invoke(app, ["index", "--url", base]).exit_code == 0
    result = runner.invoke(app, ["serve", "telegram"])
    assert result.exit_code == 1 and "TELEGRAM_BOT_TOKEN is not set" in result.output and "BotFather" in result.output
    result = runner.invoke(app, ["serve", "slack"])
    assert result.exit_code == 1 and "SLACK_BOT_TOKEN is not set" in result.output
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    result = runner.invoke(app, ["serve", "slack"])  # HTTP mode (no app token) needs the signing secret
    assert result.exit_code == 1 and "SLACK_SIGNING_SECRET is not set" in result.output
    result = runner.invoke(app, ["serve", "whatsapp"])
    assert result.exit_code == 1 and "unknown platform 'whatsapp': use telegram or slack" in result.output


def test_secrets_never_reach_the_logs(caplog) -> None:
    redact = RedactSecrets(["123456:AAH-secret-token", "xoxb-9999"])
    caplog.handler.addFilter(redact)
    log = logging.getLogger("tuyabot.test")
    log.warning("POST https://api.telegram.org/bot%s/getMe failed", "123456:AAH-secret-token")
    try:
        raise RuntimeError("auth failed for xoxb-9999")
    except RuntimeError:
        log.exception("slack")
    text = caplog.text
    assert "AAH-secret-token" not in text and "xoxb-9999" not in text
    assert "bot***/getMe" in text and "auth failed for ***" in text
