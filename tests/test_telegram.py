"""The Telegram bot end to end over real HTTP on loopback.

python-telegram-bot 22 runs the real Application (long polling, or its webhook server) against the
npm Telegram Bot API emulator behind our compat proxy (tests/telegram_emulator.py); simulated users
post through the emulator, and the tests read back what the bot sent. Answers come from the real
core over the fixture site (local Qdrant, SQLite, MiniLM) with SmolLM2-135M as the model, or a scripted
model streaming the pages' own sentence where a test needs an answer that passes the grounding checks.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot import texts
from bot.telegram.app import Webhook, build_application, start, stop
from storage.conversations import ConversationKey
from storage.models import Message
from tests import fixture_site
from tests.chat_server import ChatServer, scripted_env
from tests.doubles import (
    FOLLOW_UP_REWRITE,
    GROUNDED_PIECES,
    ScriptedChatModel,
    held_model,
    unrepeated_text,
)
from tests.telegram_emulator import BOT_ID, BOT_USERNAME, Call, CompatProxy, Emulator, User, free_port, visible_text
from tests.test_hostile_input import CARD, HOSTILE, ID_NUMBER
from tuyabot.components import Components

ADMIN = 4242
_tokens = itertools.count(1)


class RunningBot:
    """The real Application started on its own event loop thread, as `tuyabot serve telegram` runs it."""

    def __init__(self, components: Components, emulator: Emulator, webhook: bool) -> None:
        self.proxy = CompatProxy(emulator)
        self.token = f"{next(_tokens)}00:tuyabot-test"
        self.emulator = emulator
        settings = components.settings.model_copy(update={
            "telegram_bot_token": SecretStr(self.token), "telegram_api_base_url": self.proxy.base_url,
            "telegram_admin_ids": str(ADMIN), "telegram_edit_interval_seconds": 0.2})
        self.components = components
        self.core = components.core
        self.app = build_application(self.core, settings)
        port = free_port()
        self.webhook = Webhook(f"http://127.0.0.1:{port}/telegram", "127.0.0.1", port, "telegram",
                               "s3cret-token") if webhook else None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(start(self.app, self.webhook), self.loop).result(30)

    def user(self, user_id: int, **kwargs: Any) -> User:
        return User(self.emulator, self.token, user_id, **kwargs)

    def close(self) -> None:
        core = self.app.bot_data["core"]
        asyncio.run_coroutine_threadsafe(stop(self.app, core.in_flight, 5), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.core.close()
        self.proxy.close()

    def wait_idle(self, timeout: float = 60) -> None:
        """Until every update sent so far has been fetched (two later long polls came back empty: the second began
        after this call) and handled (the application's queue joined): anything the bot would send about them has
        been sent. Long polling only."""
        polls = self.proxy.polls_seen()
        self.proxy.wait_for(lambda _: self.proxy.polls_seen() >= polls + 2, timeout)
        asyncio.run_coroutine_threadsafe(self.app.update_queue.join(), self.loop).result(timeout)

    # what the bot sent to one chat -------------------------------------------------------------------
    def sent(self, chat_id: int) -> list[Call]:
        return [c for c in self.proxy.calls(chat_id=chat_id) if c.method in ("sendMessage", "editMessageText")]

    def wait_text(self, chat_id: int, contains: str, timeout: float = 60) -> Call:
        def found(_: list[Call]) -> bool:
            return any(contains in c.params.get("text", "") for c in self.sent(chat_id))
        self.proxy.wait_for(found, timeout)
        return next(c for c in self.sent(chat_id) if contains in c.params.get("text", ""))

    def wait_answers(self, chat_id: int, count: int = 1, timeout: float = 90) -> list[Call]:
        """The final messages of ``count`` answers (the ones carrying the 👍/👎 buttons)."""
        def answers() -> list[Call]:
            return [c for c in self.sent(chat_id) if _feedback_data(c)]
        self.proxy.wait_for(lambda _: len(answers()) >= count, timeout)
        return answers()


BOTH_TRANSPORTS = pytest.mark.parametrize("telegram", ["polling", "webhook"], indirect=True)


@pytest.fixture(params=["polling"])
def telegram(request: pytest.FixtureRequest, bot_components: Callable[..., Components], emulator: Emulator
             ) -> Iterator[Callable[..., RunningBot]]:
    """Makes running bots on long polling; tests of the transport itself (``BOTH_TRANSPORTS``) run once with long
    polling and once with the webhook."""
    bots: list[RunningBot] = []

    def make(*, components: Components | None = None, **overrides: object) -> RunningBot:
        bot = RunningBot(components or bot_components(**overrides), emulator, request.param == "webhook")
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.close()


def _feedback_data(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row
            if b.get("callback_data", "").startswith("fb:")]


QUESTION = "¿La Tarjeta Oro sirve fuera de Colombia?"


# -- tests --------------------------------------------------------------------------------------------
@BOTH_TRANSPORTS
def test_start_registers_the_menu_and_welcomes(telegram) -> None:
    bot = telegram()
    (commands,) = bot.proxy.calls("setMyCommands")
    assert {c["command"] for c in commands.params["commands"]} >= {"start", "help", "reset", "olvidar"}
    ana = bot.user(101)
    ana.send("/start")
    welcome = bot.wait_text(101, "TuyaBot")
    assert "tuya.com.co" in welcome.params["text"]
    ana.send("/help")
    assert "/olvidar" in bot.wait_text(101, "/reset").params["text"]


@BOTH_TRANSPORTS
def test_a_question_gets_typing_then_an_html_answer_with_sources_and_buttons(telegram) -> None:
    bot = telegram()
    bot.user(102).send(QUESTION)
    (final,) = bot.wait_answers(102)
    calls = bot.proxy.calls(chat_id=102)
    assert calls[0].method == "sendChatAction" and calls[0].params["action"] == "typing"
    assert final.params["parse_mode"] == "HTML"
    html = final.params["text"]
    visible_text(html)
    assert texts.SOURCES in html and f'<a href="{fixture_site.CANONICAL}/' in html
    assert {d.split(":")[1] for d in _feedback_data(final)} == {"+1", "-1"}
    stored = bot.components.conversations.history(ConversationKey("telegram", "102", "102"))
    assert [t.role for t in stored] == ["user", "assistant"] and stored[0].content == QUESTION


def test_a_follow_up_goes_through_the_conversation_memory(telegram) -> None:
    bot = telegram()
    ana = bot.user(103)
    ana.send("¿Qué financia el Crédito Hogar?")
    bot.wait_answers(103, 1)
    ana.send("¿Y en qué ciudades lo puedo solicitar?")
    bot.wait_answers(103, 2)
    key = ConversationKey("telegram", "103", "103")
    assert len(bot.components.conversations.history(key, 10)) == 4
    (rewrite_prompt,) = bot.components.generator.rewrite_prompts  # the first question had no history to read
    assert "¿Qué financia el Crédito Hogar?" in rewrite_prompt and "¿Y en qué ciudades" in rewrite_prompt
    with bot.components.db.session() as s:  # the follow-up was rewritten with the history before retrieval
        standalone = s.scalars(select(Message.standalone_question).where(Message.role == "assistant")
                               .order_by(Message.id.desc())).first()
    assert standalone == FOLLOW_UP_REWRITE


def test_in_groups_only_mentions_and_replies_to_the_bot_are_answered(telegram) -> None:
    bot = telegram()
    group = -500
    ana = bot.user(104, chat_id=group, chat_type="group")
    ana.send("¿Alguien sabe la tasa de la Tarjeta Oro?")  # not for the bot
    ana.mention("¿La Tarjeta Oro sirve fuera de Colombia?")
    bot.wait_answers(group, 1)
    ana.send("¿Y tiene cuota de manejo?", reply_to_message={
        "message_id": bot.wait_answers(group)[0].result["message_id"], "date": int(time.time()),
        "chat": {"id": group, "type": "group", "title": "Grupo de prueba"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"}, "text": "…"})
    bot.wait_answers(group, 2)
    bot.wait_idle()
    asked = [t.content for t in bot.components.conversations.history(ConversationKey("telegram", str(group), "104"), 10)
             if t.role == "user"]
    assert asked == ["¿La Tarjeta Oro sirve fuera de Colombia?", "¿Y tiene cuota de manejo?"]
    assert len(bot.wait_answers(group)) == 2


def test_a_long_answer_is_split_into_valid_html_parts(telegram, bot_components) -> None:
    long_text = unrepeated_text(7, 12, ["<beneficios> & puntos", "28,11111%", "<{w}>", "& {w}"],
                                piece_chars=50, numbered=True)
    assert len(long_text) > 4096 * 1.5
    server = ChatServer([long_text[i:i + 50] for i in range(0, len(long_text), 50)])
    try:
        components = bot_components(llm_backend="openai", llm_base_url=server.url, llm_model="scripted",
                                    grounding_min_answer_share=0.0,  # random words: not a grounding test
                                    context_mode="chunks")  # the figure it carries is on another page than the best hit
        components.__dict__.pop("generator")
        bot = telegram(components=components)
        bot.user(105).send("Cuéntame todo sobre la Tarjeta Oro")
        bot.wait_answers(105)
        answer_calls = [c for c in bot.sent(105) if c.params.get("parse_mode") == "HTML"]
        last_edit = max(i for i, c in enumerate(answer_calls) if c.method == "editMessageText")
        rendered = [answer_calls[last_edit].params["text"]] + [c.params["text"] for c in answer_calls[last_edit + 1:]]
        assert len(rendered) >= 2
        for html in rendered:
            assert len(html.encode("utf-16-le")) // 2 <= 4096
        visible = "".join(visible_text(h) for h in rendered)
        assert visible.startswith(long_text) and texts.SOURCES in visible
        assert "&lt;beneficios&gt; &amp; puntos" in rendered[0]
        assert _feedback_data(answer_calls[-1]) and not any(_feedback_data(c) for c in answer_calls[last_edit:-1])
        edits = [c.at for c in answer_calls if c.method == "editMessageText"]
        assert all(b - a >= 0.2 * 0.95 for a, b in itertools.pairwise(edits))  # throttled per chat
    finally:
        server.close()


def test_photos_and_over_long_messages_are_refused_politely(telegram) -> None:
    bot = telegram()
    ana = bot.user(106)
    ana.send(photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}])
    bot.wait_text(106, "solo puedo leer texto")
    ana.send("¿Tasa? " * 200)
    bot.wait_text(106, "muy largo")
    bot.wait_idle()
    assert bot.components.conversations.history(ConversationKey("telegram", "106", "106")) == []
    assert not bot.proxy.calls("sendChatAction", chat_id=106)


def test_the_rate_limit_answers_wait_a_moment(telegram) -> None:
    bot = telegram(bot_rate_limit="1/minute")
    ana = bot.user(107)
    ana.send(QUESTION)
    bot.wait_answers(107)
    ana.send("¿Y la Tarjeta Oro?")
    bot.wait_text(107, "Espera un momento")
    assert len(bot.components.conversations.history(ConversationKey("telegram", "107", "107"))) == 2


@BOTH_TRANSPORTS
def test_feedback_buttons_store_the_vote(telegram) -> None:
    bot = telegram()
    ana = bot.user(108)
    ana.send(QUESTION)
    final = bot.wait_answers(108)[0]
    data = next(d for d in _feedback_data(final) if d.startswith("fb:-1:"))
    ana.press(data, final.result["message_id"])
    bot.proxy.wait_for(lambda calls: any(c.method == "answerCallbackQuery" for c in calls))
    (ack,) = bot.proxy.calls("answerCallbackQuery")
    assert ack.params["text"] == texts.FEEDBACK_THANKS
    assert bot.components.conversations.feedback_for(int(data.split(":")[2])) == [-1]


def test_reset_clears_and_olvidar_deletes_after_confirmation(telegram) -> None:
    bot = telegram()
    ana = bot.user(109)
    key = ConversationKey("telegram", "109", "109")
    ana.send(QUESTION)
    bot.wait_answers(109)
    ana.send("/reset")
    bot.wait_text(109, "empecemos de nuevo")
    assert bot.components.conversations.history(key) == []

    ana.send(QUESTION)
    final = bot.wait_answers(109, 2)[-1]
    ana.press(_feedback_data(final)[0], final.result["message_id"])
    bot.proxy.wait_for(lambda calls: any(c.method == "answerCallbackQuery" for c in calls))
    ana.send("/olvidar")
    confirm = bot.wait_text(109, "no se puede deshacer")
    buttons = [b["callback_data"] for row in confirm.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["forget:yes:109", "forget:no:109"]
    assert bot.components.conversations.history(key) != []
    bot.user(999).press("forget:yes:109", confirm.result["message_id"])  # someone else's press does nothing
    ana.press("forget:yes:109", confirm.result["message_id"])
    bot.wait_text(109, texts.FORGET_DONE)
    assert bot.components.conversations.history(key) == []
    assert bot.components.conversations.feedback_for(int(_feedback_data(final)[0].split(":")[2])) == []


def test_refresh_by_an_admin_reports_while_questions_are_still_answered(telegram, site) -> None:
    bot = telegram(crawl_timeout_seconds=120)  # the crawler waits for the held site
    s, _ = site
    fixture_site.build_v2(s)
    released = s.hold()  # the refresh lasts until the question asked meanwhile is answered
    admin, ana = bot.user(ADMIN), bot.user(110)
    admin.send("/refresh")
    bot.wait_text(ADMIN, "Actualizando el índice")
    admin.send("/refresh")
    bot.wait_text(ADMIN, f"Ya hay una actualización del índice en curso, iniciada por {ADMIN} (telegram)")
    ana.send(QUESTION)
    bot.wait_answers(110)
    released.set()
    report = bot.wait_text(ADMIN, "Índice actualizado", timeout=120).params["text"]
    assert "Nuevas: 1" in report and "Eliminadas: 1" in report
    events = bot.components.conversations.audit_events("refresh")
    assert [(e.user_id, e.outcome) for e in events] == [(str(ADMIN), o) for o in ("started", "busy", "done")]
    answered = [c for c in bot.sent(110) if _feedback_data(c)]
    refreshed_at = next(i for i, c in enumerate(bot.proxy.calls()) if "Índice actualizado" in c.params.get("text", ""))
    assert bot.proxy.calls().index(answered[0]) < refreshed_at  # answered before the refresh ended


def test_refresh_by_anyone_else_is_refused_and_the_index_untouched(telegram, site) -> None:
    bot = telegram()
    s, _ = site
    fixture_site.build_v2(s)
    pages_before = set(bot.components.indexer.registry.load())
    bot.user(111).send("/refresh")
    bot.wait_text(111, "solo los administradores")
    bot.wait_idle()
    assert set(bot.components.indexer.registry.load()) == pages_before
    events = bot.components.conversations.audit_events("refresh")
    assert [(e.user_id, e.outcome) for e in events] == [("111", "refused")]


def test_an_internal_error_gets_an_apology(telegram, bot_components) -> None:
    components = bot_components()
    components.store.drop(components.store.live_collection() or "")  # the index vanished under the bot
    bot = telegram(components=components)
    bot.user(112).send(QUESTION)
    bot.wait_text(112, "tuve un problema")


@pytest.mark.parametrize("telegram", ["webhook"], indirect=True)
def test_the_webhook_is_registered_with_a_secret_token_that_is_checked(telegram) -> None:
    bot = telegram()
    (hook,) = bot.proxy.calls("setWebhook")
    assert hook.params["url"] == bot.webhook.url and hook.params["secret_token"] == "s3cret-token"
    forged = {"update_id": 9999, "message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                                            "chat": {"id": 113, "type": "private"}}}
    response = httpx.post(bot.webhook.url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
    assert response.status_code == 403


def test_tuyabot_serve_telegram_runs_the_bot_and_never_logs_the_token(emulator, site, indexed_data_dir, tmp_path,
                                                                     models_dir) -> None:
    """The operator's command in its own process: long polling until SIGTERM, the token never in the logs (the
    model a scripted server behind the real `openai` backend, so the answer is the same on every CPU)."""
    _, base = site
    proxy = CompatProxy(emulator)
    model = ChatServer(list(GROUNDED_PIECES))
    token = "4242:serve-SECRET-token"
    env = {**os.environ, "TUYABOT_PROFILE": "offline", "TUYABOT_DATA_DIR": str(indexed_data_dir),
           "TUYABOT_MODELS_DIR": str(models_dir), "EMBEDDING_MODEL": "all-minilm-l6-v2", "CRAWL_DELAY_SECONDS": "0",
           "CRAWL_BASE_URL": base, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": proxy.base_url,
           "LOG_LEVEL": "DEBUG", **scripted_env(model)}
    tuyabot = str(Path(sys.executable).with_name("tuyabot"))
    process = subprocess.Popen([tuyabot, "serve", "telegram"], env=env, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    try:
        proxy.wait_for(lambda calls: any(c.method == "setMyCommands" for c in calls), 120)
        User(emulator, token, 114).send(QUESTION)
        proxy.wait_for(lambda calls: any(texts.SOURCES in c.params.get("text", "") for c in calls), 120)
    finally:
        process.terminate()
        logs = process.communicate(timeout=60)[1]
        proxy.close()
        model.close()
    assert process.returncode == 0, logs[-2000:]
    assert "getUpdates" in logs and "SECRET" not in logs  # DEBUG logs every request URL, token masked


def test_a_shutdown_tells_users_whose_answers_are_in_progress_to_ask_again(bot_components, emulator) -> None:
    slow = held_model()  # generating until released: still in progress at the shutdown, on any CPU
    bot = RunningBot(bot_components(slow), emulator, webhook=False)
    try:
        bot.user(103).send(QUESTION)
        assert slow.holding.wait(60)  # the model is generating
        drained = asyncio.run_coroutine_threadsafe(bot.core.in_flight.drain(0.5), bot.loop)
        assert drained.result(30) == 1  # cancelled after the grace period
        bot.wait_text(103, "me estoy reiniciando")
        key = ConversationKey("telegram", "103", "103")
        assert all(turn.role != "assistant" for turn in bot.components.conversations.history(key))
        bot.user(104).send(QUESTION)  # arriving while the service stops: told at once, never half-answered
        bot.wait_text(104, "me estoy reiniciando")
        assert len(slow.prompts) == 1
    finally:
        slow.release()
        bot.close()


def test_channel_posts_are_ignored_and_forged_buttons_never_reach_the_database(bot_components, emulator,
                                                                               caplog) -> None:
    bot = RunningBot(bot_components(), emulator, webhook=True)
    try:
        handle = f"@{BOT_USERNAME}"
        channel = {"id": -100777, "type": "channel", "title": "Canal de TUYA"}
        post = {"update_id": 900001, "channel_post": {
            "message_id": 5, "date": int(time.time()), "chat": channel, "sender_chat": channel,
            "text": f"{handle} {QUESTION}", "entities": [{"type": "mention", "offset": 0, "length": len(handle)}]}}
        assert bot.webhook is not None
        httpx.post(bot.webhook.url, json=post, timeout=10,
                   headers={"X-Telegram-Bot-Api-Secret-Token": bot.webhook.secret}).raise_for_status()
        ana = bot.user(106)
        for data in ("fb:-1:" + "9" * 30, "fb:+1:123456789"):
            ana.press(data, message_id=1)
        bot.proxy.wait_for(lambda _: len(bot.proxy.calls("answerCallbackQuery")) == 2, 30)
        assert {c.params.get("text") for c in bot.proxy.calls("answerCallbackQuery")} == {texts.FEEDBACK_GONE}
        ana.send(QUESTION)  # handled after the channel post: when it is answered, the post was too
        bot.wait_answers(106)
        assert not bot.sent(-100777)
        assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]
    finally:
        bot.close()


def test_flood_control_and_passing_faults_are_retried_and_the_answer_delivered_once(bot_components, emulator
                                                                                    ) -> None:
    bot = RunningBot(bot_components(), emulator, webhook=False)
    try:
        bot.proxy.fail("sendMessage", "429", "502", "502")  # "retry after 1 s", then Telegram's gateway fails twice
        bot.proxy.fail("editMessageText", "slow")  # done, but answered after the bot stopped waiting
        bot.user(108).send(QUESTION)
        answers = bot.wait_answers(108, timeout=120)
        faults = [c.method for c in bot.proxy.calls() if "!" in c.method]
        assert faults == ["sendMessage!429", "sendMessage!502", "sendMessage!502", "editMessageText!slow"]
        assert len(answers) == 1 and len([c for c in bot.sent(108) if c.method == "sendMessage"]) == 1
        assert texts.ERROR not in [c.params.get("text") for c in bot.sent(108)]
    finally:
        bot.close()


def test_a_question_that_must_wait_is_told_its_place_first(bot_components, emulator) -> None:
    bot = RunningBot(bot_components(), emulator, webhook=False)
    try:
        bot.core.metrics.generations = lambda: 2.0  # two answers are being generated before this one
        bot.user(109).send(QUESTION)
        bot.wait_answers(109)
        first = next(c for c in bot.sent(109) if c.method == "sendMessage")
        assert first.params["text"] == texts.queued(2) == (
            "Recibí tu pregunta. Hay 2 consultas antes que la tuya; te respondo en cuanto pueda.")
    finally:
        bot.close()


def test_past_the_answer_bound_questions_are_turned_away_at_once(bot_components, emulator) -> None:
    slow = held_model()  # both answers let in stay in progress until the others are turned away
    # the same question from every user: with the answer cache, a second admitted answer that starts after the
    # first is kept is served from it; this test counts what reaches the model, so the cache is off
    bot = RunningBot(bot_components(slow, llm_queue_size=2, answer_cache=False), emulator, webhook=False)
    users = [110, 111, 112, 113]
    try:
        for user in users:
            bot.user(user).send(QUESTION)

        def busy_told(user: int) -> bool:
            return any(c.params.get("text") == texts.BUSY for c in bot.sent(user))
        bot.proxy.wait_for(lambda _: sum(busy_told(u) for u in users) == 2, 120)
        slow.release()

        def replied(user: int) -> bool:
            return bool(_answers(bot, user)) or busy_told(user)
        bot.proxy.wait_for(lambda _: all(replied(u) for u in users), 120)
        answered = [u for u in users if _answers(bot, u)]
        busy = [u for u in users if any(c.params.get("text") == texts.BUSY for c in bot.sent(u))]
        assert len(answered) == 2 and sorted(answered + busy) == users
        assert len(slow.prompts) == 2  # the two turned away never reached retrieval or the model
        assert 'tuyabot_busy_total{platform="telegram"} 2.0' in bot.core.metrics.exposition().decode()
    finally:
        slow.release()
        bot.close()


def _answers(bot: RunningBot, chat_id: int) -> list[Call]:
    return [c for c in bot.sent(chat_id) if _feedback_data(c)]


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


def test_the_hostile_corpus_gets_one_polite_reply_each_and_leaks_nothing(bot_components, emulator,
                                                                        caplog) -> None:
    model = ScriptedChatModel(reply="Sí, la Tarjeta Oro es internacional y funciona en comercios de todo el mundo.")
    components = bot_components(model, bot_max_message_chars=1000, llm_queue_size=32)
    bot = RunningBot(components, emulator, webhook=False)
    chats = {name: 600 + i for i, name in enumerate(HOSTILE) if name != "empty"}  # Telegram sends no empty text
    try:
        for name, chat in chats.items():
            bot.user(chat).send(HOSTILE[name][:4096])  # as long as Telegram lets a message be
        bot.user(700).send("/reset ahora mismo por favor")  # commands with arguments they don't take
        bot.user(701).send("/start <b>x</b>")
        for _ in range(3):
            bot.user(702).send("/refresh")  # a non-admin, again and again
        bot.user(703).send(QUESTION, forward_origin={"type": "hidden_user", "date": int(time.time()),
                                                      "sender_user_name": "Alguien"})
        group = bot.user(704, chat_id=-100704, chat_type="supergroup")
        group.sender = ANONYMOUS_ADMIN  # an anonymous group admin, speaking as the group
        group.mention(QUESTION)
        expected = {chat: 1 for chat in chats.values()} | {700: 1, 701: 1, 702: 3, 703: 1, -100704: 1}

        def replies(chat: int) -> list[str]:  # what the chat was sent, but the "your place" notice
            return [c.params["text"] for c in bot.sent(chat)
                    if c.method == "sendMessage" and not c.params["text"].startswith("Recibí tu pregunta")]
        bot.proxy.wait_for(lambda _: all(len(replies(c)) >= n for c, n in expected.items()), 120)
        bot.wait_idle()  # and nothing more comes
        assert {chat: len(replies(chat)) for chat in expected} == expected
        sent = [c.params["text"] for c in bot.proxy.calls() if c.method in ("sendMessage", "editMessageText")]
        assert texts.ERROR not in sent and texts.BUSY not in sent
        assert replies(chats["huge"]) == [texts.TOO_LONG.format(limit=1000)]
        assert replies(chats["zero-width only"]) == replies(chats["whitespace"]) == [texts.HELP]
        assert replies(702) == [texts.REFRESH_REFUSED] * 3
        assert [e.outcome for e in components.conversations.audit_events("refresh")] == ["refused"] * 3
        for html in sent:
            visible_text(html)  # only Telegram's tags, balanced: the user's <b>, <a>, <script> arrive as text
        with components.db.session() as session:
            stored = " ".join(session.scalars(select(Message.content)))
        for secret in (CARD, ID_NUMBER):
            assert not [text for text in sent if secret in text]
            assert secret not in stored and secret not in caplog.text
        assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]
    finally:
        bot.close()
