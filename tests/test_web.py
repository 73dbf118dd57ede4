"""The web chat in a real browser (Debian's chromium, driven by Selenium through Debian's chromium-driver; nothing
is downloaded), served by the real aiohttp app over the shared core, and its API over real HTTP."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot import texts
from bot.web.app import SESSION_COOKIE, WebSetupError, build_app, start
from storage.conversations import ConversationKey
from tests import fixture_site
from tests.doubles import FOLLOW_UP_REWRITE, ScriptedChatModel
from tests.telegram_emulator import free_port
from tuyabot.components import Components

FIRST = "La Tarjeta Oro es internacional. "
PIECES = [FIRST, "Funciona en ", "comercios de todo el mundo."]
ANSWER = "".join(PIECES)
CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome")  # Debian's; a CI image may have Chrome
DRIVER = shutil.which("chromedriver")


class RunningWeb:
    """The web chat's app on its own event loop thread, as `tuyabot serve` runs it."""

    def __init__(self, components: Components) -> None:
        self.components = components
        self.core = components.core
        self.port = free_port()
        config = components.settings.model_copy(update={"web_port": self.port})
        self.app = build_app(self.core, config)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.runner = asyncio.run_coroutine_threadsafe(start(self.app, "127.0.0.1", self.port), self.loop).result(30)
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def conversations(self) -> list[str]:
        """The web conversations stored (their chat ids)."""
        with self.components.db.session() as s:
            from sqlalchemy import select

            from storage.models import Conversation
            return list(s.scalars(select(Conversation.chat_id).where(Conversation.platform == "web")))


@pytest.fixture
def web(bot_components: Callable[..., Components]) -> Iterator[Callable[..., RunningWeb]]:
    made: list[RunningWeb] = []

    def make(generator: object | None = None, **overrides: Any) -> RunningWeb:
        running = RunningWeb(bot_components(generator, **overrides))
        made.append(running)
        return running

    yield make
    for running in made:
        running.close()


# -- the API over HTTP --------------------------------------------------------------------------------
def events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    import json

    out = []
    for frame in response.text.split("\n\n"):
        if frame.strip():
            lines = dict(line.split(": ", 1) for line in frame.splitlines())
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def visitor(running: RunningWeb, **kwargs: Any) -> httpx.Client:
    client = httpx.Client(base_url=running.url, timeout=60, **kwargs)
    assert client.get("/").status_code == 200 and SESSION_COOKIE in client.cookies  # the page gives the cookie
    return client


def test_the_api_streams_a_cited_answer_and_keeps_each_visitor_apart(web) -> None:
    running = web(ScriptedChatModel(pieces=PIECES, rewrite=FOLLOW_UP_REWRITE))
    ana = visitor(running)
    said = events(ana.post("/api/ask", json={"text": "¿La Tarjeta Oro sirve fuera de Colombia?"}))
    assert [e for e, _ in said][-1] == "done" and "delta" in [e for e, _ in said]
    assert "".join(d["text"] for e, d in said if e == "delta") == ANSWER  # the deltas joined are the answer
    done = said[-1][1]
    assert done["status"] == "answered" and f"{fixture_site.CANONICAL}/tarjeta" in [s["url"] for s in done["sources"]]
    assert ana.post("/api/feedback", json={"message_id": done["message_id"], "value": 1}).json()["stored"]
    luis = visitor(running)
    assert luis.get("/api/history").json() == {"turns": []}  # another browser: another conversation
    assert luis.post("/api/feedback", json={"message_id": done["message_id"], "value": -1}).json()["stored"] is False
    assert [t["role"] for t in ana.get("/api/history").json()["turns"]] == ["user", "assistant"]
    assert 'tuyabot_questions_total{platform="web"} 1.0' in running.core.metrics.exposition().decode()


def test_bad_requests_get_clear_errors_and_other_sites_are_refused(web) -> None:
    running = web()
    stranger = httpx.Client(base_url=running.url, timeout=30)
    assert stranger.post("/api/ask", json={"text": "hola"}).status_code == 400  # no conversation cookie
    ana = visitor(running)
    assert ana.post("/api/ask", content=b"{no json", headers={"Content-Type": "application/json"}).status_code == 400
    assert ana.post("/api/ask", json={"text": 5}).status_code == 400
    assert ana.post("/api/ask", json={"text": "x" * 100_000}).status_code == 413  # over the body bound, unread
    assert ana.post("/api/feedback", json={"message_id": "1", "value": 3}).status_code == 400
    forged = ana.post("/api/ask", json={"text": "hola"}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    said = events(ana.post("/api/ask", json={"text": "¿tasa? " * 300}))
    assert said == [("reply", {"text": texts.TOO_LONG.format(limit=running.core.max_message_chars)})]
    assert running.conversations() == []


def test_an_access_token_guards_everything_and_public_binding_needs_one(web, bot_components) -> None:
    with pytest.raises(WebSetupError, match="WEB_ACCESS_TOKEN"):
        build_app(bot_components().core, bot_components().settings.model_copy(update={"web_host": "0.0.0.0"}))
    running = web(web_access_token=SecretStr("s3cret-web"))
    stranger = httpx.Client(base_url=running.url, timeout=30)
    assert stranger.get("/").status_code == 401
    assert stranger.post("/api/ask", json={"text": "hola"}).status_code == 401
    assert stranger.get("/?token=wrong").status_code == 401
    opened = stranger.get("/?token=s3cret-web")  # once, from the link: then the cookie
    assert opened.status_code == 303 and opened.headers["location"] == "/"
    assert stranger.get("/").status_code == 200
    said = events(stranger.post("/api/ask", json={"text": "¿La Tarjeta Oro sirve fuera de Colombia?"}))
    assert said[-1][0] == "done"
    bearer = httpx.Client(base_url=running.url, timeout=30, headers={"Authorization": "Bearer s3cret-web"})
    assert bearer.get("/").status_code == 200


def test_busy_and_hostile_text_get_the_same_replies_as_elsewhere(web) -> None:
    held = ScriptedChatModel(pieces=PIECES, hold_after=1)
    running = web(held, llm_queue_size=1)
    ana, luis = visitor(running), visitor(running)
    first = threading.Thread(target=lambda: ana.post("/api/ask", json={"text": "¿La Tarjeta Oro sirve afuera?"}))
    first.start()
    try:
        assert held.holding.wait(60)
        assert events(luis.post("/api/ask", json={"text": "¿Y el CDT?"})) == [("reply", {"text": texts.BUSY})]
    finally:
        held.release()
        first.join(60)
    card = events(luis.post("/api/ask", json={"text": "Mi tarjeta 4111 1111 1111 1111 <b>¿sirve afuera?</b>"}))
    assert card[-1][0] == "done" and "4111 1111 1111 1111" not in str(card)
    stored = " ".join(t.content for c in running.conversations()
                      for t in running.core.history(ConversationKey("web", c, c)))
    assert "4111 1111 1111 1111" not in stored and "[TARJETA ****1111]" in stored


def test_a_visitor_who_leaves_mid_answer_costs_that_answer_only(web, caplog) -> None:
    held = ScriptedChatModel(pieces=PIECES, hold_after=2)
    running = web(held)
    ana = visitor(running)
    with ana.stream("POST", "/api/ask", json={"text": "¿La Tarjeta Oro sirve fuera de Colombia?"}) as response:
        first = next(response.iter_text())  # the first sentence has arrived; then the page is closed
    assert "event: delta" in first and FIRST.strip() in first
    held.release()
    said = events(visitor(running).post("/api/ask", json={"text": "¿La Tarjeta Oro sirve fuera de Colombia?"}))
    assert said[-1][0] == "done"  # the service goes on
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]


# -- in a real browser ----------------------------------------------------------------------------------
@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """New headless Chromium windows, each with its own profile (its own cookies)."""
    if not (CHROMIUM and DRIVER):
        pytest.fail("chromium and chromium-driver are not installed (Debian's packages; .ci/install installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers: list[Any] = []

    def open_window() -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=900,760", f"--user-data-dir={tmp_path / f'profile{len(drivers)}'}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
        drivers.append(driver)
        return driver

    yield open_window
    for driver in drivers:
        driver.quit()


def test_in_a_browser_the_answer_grows_cites_remembers_and_takes_a_vote(web, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    model = ScriptedChatModel(pieces=PIECES, rewrite=FOLLOW_UP_REWRITE, hold_after=2)
    running = web(model)
    ana = browser()
    ana.get(running.url)
    wait = WebDriverWait(ana, 60)

    def last_answer() -> Any:
        return ana.find_elements(By.CSS_SELECTOR, ".msg.bot")[-1]

    ana.find_element(By.ID, "question").send_keys("¿La Tarjeta Oro sirve fuera de Colombia?")
    ana.find_element(By.ID, "send").click()
    wait.until(lambda _: last_answer().find_element(By.CLASS_NAME, "text").text == FIRST.strip())  # part of it
    assert not last_answer().find_elements(By.CSS_SELECTOR, ".sources a")  # not done yet
    model.release()
    wait.until(lambda _: last_answer().find_elements(By.CSS_SELECTOR, ".sources a"))
    answer = last_answer()
    assert answer.find_element(By.CLASS_NAME, "text").text == ANSWER  # it grew into the whole answer
    link = answer.find_element(By.CSS_SELECTOR, ".sources a")
    assert link.get_attribute("href") == f"{fixture_site.CANONICAL}/tarjeta"

    answer.find_element(By.CSS_SELECTOR, "button[data-vote='1']").click()
    wait.until(lambda _: texts.FEEDBACK_THANKS in answer.find_element(By.CLASS_NAME, "votes").text)
    (chat,) = running.conversations()
    key = ConversationKey("web", chat, chat)
    message_id = next(i for i in _assistant_ids(running))
    assert running.core.conversations.feedback_for(message_id) == [1]

    ana.find_element(By.ID, "question").send_keys("¿Y en qué ciudades lo puedo solicitar?")
    ana.find_element(By.ID, "send").click()
    wait.until(lambda _: len(ana.find_elements(By.CSS_SELECTOR, ".msg.bot .sources")) == 2)
    (rewrite_prompt,) = model.rewrite_prompts  # the follow-up was read with this browser's conversation
    assert "¿La Tarjeta Oro sirve fuera de Colombia?" in rewrite_prompt
    assert [t.role for t in running.core.history(key)] == ["user", "assistant"] * 2
    ana.save_screenshot(str(Path(running.components.settings.data_dir).parent / "web-chat.png"))

    luis = browser()  # another browser: its own conversation, none of Ana's
    luis.get(running.url)
    WebDriverWait(luis, 30).until(lambda _: luis.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    assert not luis.find_elements(By.CSS_SELECTOR, ".msg.user")
    ana.refresh()  # Ana's comes back with her
    wait.until(lambda _: len(ana.find_elements(By.CSS_SELECTOR, ".msg.user")) == 2)


def _assistant_ids(running: RunningWeb) -> list[int]:
    from sqlalchemy import select

    from storage.models import Message
    with running.components.db.session() as s:
        return list(s.scalars(select(Message.id).where(Message.role == "assistant").order_by(Message.id)))
