"""`tuyabot serve` as an operator runs it: one process, one event loop, every configured platform sharing one
core (one model, one index, one database), against local fakes of the Telegram and Slack APIs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import update

from bot import texts
from storage.conversations import ConversationKey, ConversationStore
from storage.db import Database
from storage.models import Conversation, ProcessedEvent
from tests import fixture_site
from tests.chat_server import ChatServer, scripted_env
from tests.doubles import GROUNDED_PIECES
from tests.fake_slack import signed
from tests.telegram_emulator import CompatProxy, User, free_port
from tests.test_slack import event_payload, mention
from tests.waiting import wait_until

QUESTION = "¿La tarjeta sirve fuera de Colombia?"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def model() -> Iterator[ChatServer]:
    """The services' model: a scripted server (the fixture pages' own answer) behind the real `openai` backend."""
    server = ChatServer(list(GROUNDED_PIECES))
    yield server
    server.close()


def _service_env(base: str, proxy: CompatProxy, token: str, fake, data: Path, models_dir: Path,  # type: ignore[no-untyped-def]
                 slack_port: int, admin_port: int, model: ChatServer, **extra: str) -> dict[str, str]:
    """Both platforms pointed at their local fakes, ``model`` answering, the admin endpoints on ``admin_port``."""
    return {**os.environ, "TUYABOT_PROFILE": "offline", "TUYABOT_DATA_DIR": str(data),
            "TUYABOT_MODELS_DIR": str(models_dir), "EMBEDDING_MODEL": "all-minilm-l6-v2", "CRAWL_DELAY_SECONDS": "0",
            "CRAWL_BASE_URL": base, **scripted_env(model),
            "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": proxy.base_url,
            "SLACK_BOT_TOKEN": "xoxb-service-SECRET", "SLACK_SIGNING_SECRET": SECRET, "SLACK_MODE": "http",
            "SLACK_HTTP_PORT": str(slack_port), "SLACK_API_URL": fake.api_url, "ADMIN_HTTP_PORT": str(admin_port),
            **extra}


def test_one_process_serves_telegram_slack_and_the_web_chat(emulator, fake, site, indexed_data_dir: Path,
                                                             tmp_path: Path, models_dir: Path, model: ChatServer
                                                             ) -> None:
    _, base = site
    proxy = CompatProxy(emulator)
    token, slack_port, admin_port, web_port = "4242:service-SECRET-token", free_port(), free_port(), free_port()
    env = _service_env(base, proxy, token, fake, indexed_data_dir, models_dir, slack_port, admin_port, model,
                       RETENTION_SWEEP_INTERVAL="1s", HISTORY_RETENTION_DAYS="30", WEB_PORT=str(web_port))
    tuyabot = str(Path(sys.executable).with_name("tuyabot"))
    old = _idle_conversation(indexed_data_dir / "tuyabot.db", days=45)
    process = subprocess.Popen([tuyabot, "serve"], env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    admin = f"http://127.0.0.1:{admin_port}"
    try:
        readiness = _readiness_until_ready(admin)
        assert readiness[0] == 503 and readiness[-1] == 200  # ready only once the model is loaded
        assert httpx.get(f"{admin}/healthz").json() == {"status": "up"}
        proxy.wait_for(lambda calls: any(c.method == "setMyCommands" for c in calls), 180)
        User(emulator, token, 120).send(QUESTION)
        body = json.dumps(event_payload(mention(QUESTION)))
        posted = _post_when_listening(f"http://127.0.0.1:{slack_port}/slack/events", body)
        assert posted.status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{web_port}", timeout=60) as browser:
            assert browser.get("/").status_code == 200
            said = browser.post("/api/ask", json={"text": QUESTION}).text
        assert "event: done" in said and f"{fixture_site.CANONICAL}/tarjeta" in said
        proxy.wait_for(lambda calls: any(texts.SOURCES in c.params.get("text", "") for c in calls), 180)
        fake.wait_for(lambda: any(any(b.get("type") == "actions" for b in c.args.get("blocks") or [])
                                  for c in fake.of("chat.stopStream")), 180)  # streamed into the thread
        metrics = httpx.get(f"{admin}/metrics").text
        assert 'tuyabot_questions_total{platform="telegram"} 1.0' in metrics
        assert 'tuyabot_questions_total{platform="slack"} 1.0' in metrics
        assert 'tuyabot_questions_total{platform="web"} 1.0' in metrics
        assert 'tuyabot_answers_total{platform="slack",status="answered"} 1.0' in metrics
        assert 'tuyabot_answers_total{platform="web",status="answered"} 1.0' in metrics
        assert "tuyabot_answer_seconds_count 3.0" in metrics and "tuyabot_generation_queue_depth 0.0" in metrics
        assert "tuyabot_retention_deletions_total 1.0" in metrics  # the sweep ran without anyone asking
        assert "tuyabot_processed_event_deletions_total 1.0" in metrics  # and forgot the old event id
        assert not old.exists()
    finally:
        process.terminate()
        logs = process.communicate(timeout=60)[1]
        proxy.close()
    assert process.returncode == 0, logs[-2000:]
    assert "serving telegram, slack, web" in logs and "SECRET" not in logs


ADMIN_TOKEN = "adm-8d1f0c2e9b7a4f11SECRET"
TELEGRAM_ADMIN, SLACK_ADMIN = 77, "UADMIN01"


def test_refreshes_from_every_source_run_one_at_a_time_while_answers_flow(emulator, fake, site, indexed_data_dir: Path,
                                                                          tmp_path: Path, models_dir: Path,
                                                                          model: ChatServer) -> None:
    """The command line refreshes through the running service; Telegram, Slack, the schedule and a second
    command line are told it runs (by whom); a question is answered meanwhile; the logs are JSON lines with
    request ids and no message text."""
    s, base = site
    proxy = CompatProxy(emulator)
    token, slack_port, admin_port = "4343:service-SECRET-token", free_port(), free_port()
    env = _service_env(base, proxy, token, fake, indexed_data_dir, models_dir, slack_port, admin_port, model,
                       ADMIN_TOKEN=ADMIN_TOKEN, LOG_FORMAT="json", REFRESH_INTERVAL="20s",
                       TELEGRAM_ADMIN_IDS=str(TELEGRAM_ADMIN), SLACK_ADMIN_USER_IDS=SLACK_ADMIN,
                       CRAWL_TIMEOUT_SECONDS="120")
    tuyabot = str(Path(sys.executable).with_name("tuyabot"))
    fixture_site.build_v2(s)
    released = s.hold()  # the refresh lasts until every other source has been told it runs
    process = subprocess.Popen([tuyabot, "serve"], env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    admin = f"http://127.0.0.1:{admin_port}"
    try:
        assert _readiness_until_ready(admin)[-1] == 200
        proxy.wait_for(lambda calls: any(c.method == "setMyCommands" for c in calls), 180)
        assert httpx.post(f"{admin}/refresh").status_code == 401  # no token, nothing started
        cli = subprocess.Popen([tuyabot, "refresh"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path)
        _wait(lambda: (httpx.get(f"{admin}/refresh", headers=_bearer()).json()["running"] or {}).get("platform")
              == "cli")
        User(emulator, token, TELEGRAM_ADMIN).send("/refresh")
        body = urlencode({"command": "/tuyabot-refresh", "user_id": SLACK_ADMIN, "channel_id": "C0001",
                          "team_id": "T0001", "text": "", "trigger_id": "t9",
                          "response_url": f"{fake.url}/response/{SLACK_ADMIN}"})
        assert _post_when_listening(f"http://127.0.0.1:{slack_port}/slack/events", body,
                                    "application/x-www-form-urlencoded").status_code == 200
        second = subprocess.run([tuyabot, "refresh"], env=env, capture_output=True, text=True, cwd=tmp_path)
        assert second.returncode == 1 and "a refresh is already running, started by" in second.stderr
        User(emulator, token, 120).send(QUESTION)
        proxy.wait_for(lambda calls: any(texts.SOURCES in c.params.get("text", "") for c in calls), 180)
        _wait(lambda: 'tuyabot_refreshes_total{outcome="busy"} 4.0' in httpx.get(f"{admin}/metrics").text, 60)
        busy = [c.params["text"] for c in proxy.calls() if "Ya hay una actualización" in c.params.get("text", "")]
        assert busy and "cli)" in busy[0]  # who started the running one (user (platform)) and when
        fake.wait_for(lambda: any("Ya hay una actualización" in c.args.get("text", "")
                                  for c in fake.of("response_url")), 60)
        released.set()
        out, err = cli.communicate(timeout=180)
        assert cli.returncode == 0, err
        assert "added: 1" in out and "removed: 1" in out
    finally:
        released.set()
        process.terminate()
        logs = process.communicate(timeout=60)[1]
        proxy.close()
    assert process.returncode == 0, logs[-2000:]
    _assert_json_logs(logs)
    _assert_refreshes_never_overlapped(indexed_data_dir / "tuyabot.db")


def test_two_service_processes_sharing_postgresql_answer_a_slack_event_once(fake, site, tmp_path: Path,
                                                                              models_dir: Path, postgres,
                                                                              model: ChatServer) -> None:
    """Replicas behind one Slack app: the same event reaches both (Slack's retry, a load balancer); the
    processed-event table in PostgreSQL lets exactly one of them answer it."""
    _, base = site
    database_url = postgres.database()
    tuyabot = str(Path(sys.executable).with_name("tuyabot"))
    ports = [free_port(), free_port()]
    envs = [{**os.environ, "TUYABOT_PROFILE": "offline", "TUYABOT_DATA_DIR": str(tmp_path / "data"),
             "QDRANT_PATH": str(tmp_path / f"qdrant{i}"), "DATABASE_URL": database_url,
             "TUYABOT_MODELS_DIR": str(models_dir), "EMBEDDING_MODEL": "all-minilm-l6-v2",
             **scripted_env(model), "CRAWL_BASE_URL": base,
             "CRAWL_DELAY_SECONDS": "0", "SLACK_BOT_TOKEN": "xoxb-replica",
             "SLACK_SIGNING_SECRET": SECRET, "SLACK_MODE": "http", "SLACK_HTTP_PORT": str(port),
             "SLACK_API_URL": fake.api_url, "ADMIN_HTTP_PORT": "0"} for i, port in enumerate(ports)]
    subprocess.run([tuyabot, "index"], env=envs[0], check=True, capture_output=True, cwd=tmp_path)
    shutil.copytree(tmp_path / "qdrant0", tmp_path / "qdrant1")  # each replica its own copy (local mode); one DB
    replicas = [subprocess.Popen([tuyabot, "serve", "slack"], env=env, stderr=subprocess.PIPE, text=True,
                                 cwd=tmp_path) for env in envs]
    try:
        body = json.dumps(event_payload(mention(QUESTION), event_id="EvReplica0001"))
        for port in ports:  # both listening before the event is delivered to both at once
            _post_when_listening(f"http://127.0.0.1:{port}/slack/events", json.dumps({"type": "url_verification",
                                                                                      "challenge": "c"}))
        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(lambda port: _post_when_listening(f"http://127.0.0.1:{port}/slack/events",
                                                                       body).status_code, ports))
        assert statuses == [200, 200]
        fake.wait_for(lambda: any(texts.SOURCES in json.dumps(c.args) for c in fake.of("chat.stopStream")), 180)
    finally:  # a graceful stop: an answer still in progress would be finished and posted before exit
        for process in replicas:
            process.terminate()
        logs = [process.communicate(timeout=60)[1] for process in replicas]
    assert all(process.returncode == 0 for process in replicas), logs
    assert sum("already handled" in log for log in logs) == 1
    answers = [c for c in fake.of("chat.postMessage") + fake.of("chat.stopStream")
               if any(b.get("type") == "actions" for b in c.args.get("blocks") or [])]
    assert len(answers) == 1 and len(fake.of("reactions.add")) == 1 and len(fake.of("chat.startStream")) == 1


def _bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _wait(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    wait_until(condition, timeout)


def _assert_json_logs(logs: str) -> None:
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    answers = [line for line in lines if line["message"].startswith("answer status=")]
    assert answers and all(line["request_id"].startswith("telegram:120:") for line in answers), answers
    assert all({"asctime", "level", "logger", "message"} <= set(line) for line in lines)
    assert QUESTION not in logs and "tarjeta" not in logs.lower()  # no message text
    assert "SECRET" not in logs


def _assert_refreshes_never_overlapped(db: Path) -> None:
    database = Database(f"sqlite:///{db}")
    try:
        outcomes = [(e.platform, e.outcome) for e in ConversationStore(database, 30).audit_events("refresh")]
    finally:
        database.close()
    assert ("cli", "started") in outcomes and ("cli", "done") in outcomes
    assert {("telegram", "busy"), ("slack", "busy"), ("schedule", "busy")} <= set(outcomes)
    running = 0
    for _, outcome in outcomes:
        running += {"started": 1, "done": -1, "failed": -1}.get(outcome, 0)
        assert running in (0, 1)


class _Conversation:
    def __init__(self, db: Path, key: ConversationKey) -> None:
        self.db, self.key = db, key

    def exists(self) -> bool:
        database = Database(f"sqlite:///{self.db}")
        try:
            return bool(ConversationStore(database, 30).history(self.key))
        finally:
            database.close()


def _idle_conversation(db: Path, *, days: int) -> _Conversation:
    """A conversation whose last message is ``days`` old, and a Slack event id recorded as long ago (stored as the
    service would, then aged)."""
    key = ConversationKey("telegram", "999", "999")
    database = Database(f"sqlite:///{db}")
    try:
        store = ConversationStore(database, 30)
        store.add_message(key, "user", "¿una pregunta de hace tiempo?")
        assert store.first_delivery("slack", "EvLongAgo")
        with database.session() as session:
            session.execute(update(Conversation).values(updated_at=datetime.now(UTC) - timedelta(days=days)))
            session.execute(update(ProcessedEvent).values(created_at=datetime.now(UTC) - timedelta(days=days)))
    finally:
        database.close()
    conversation = _Conversation(db, key)
    assert conversation.exists()
    return conversation


def _readiness_until_ready(admin: str) -> list[int]:
    """The /readyz statuses seen from the moment the admin endpoint answers until it says ready."""
    seen: list[int] = []

    def ready() -> bool:
        with contextlib.suppress(httpx.ConnectError):
            seen.append(httpx.get(f"{admin}/readyz", timeout=30).status_code)
        return bool(seen) and seen[-1] == 200
    wait_until(ready, 180, "the service ready")
    return seen


def _post_when_listening(url: str, body: str, content_type: str = "application/json") -> httpx.Response:
    """POST a signed Slack request, retrying while the service is still starting its HTTP listener."""
    def post() -> httpx.Response | None:
        try:
            return httpx.post(url, content=body, timeout=30, headers={"Content-Type": content_type,
                                                                      **signed(body, SECRET)})
        except httpx.ConnectError:
            return None
    return wait_until(post, 180, f"something listening on {url}")
