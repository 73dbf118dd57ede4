"""The Slack app end to end over real HTTP on loopback.

The real slack-bolt AsyncApp runs our listeners behind its aiohttp adapter (HTTP mode) or its
Socket Mode client; requests are signed with Slack's v0 scheme and posted to it; its Web API client
talks to a local fake of Slack's API that records every call (tests/fake_slack.py). Answers come
from the real core over the fixture site with a scripted model streaming the pages' own sentence. In a
thread an answer is streamed (a status, then chat.startStream / appendStream / stopStream); in a DM it is
posted whole.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot import texts
from bot.slack.app import build_app, start_http, start_socket
from bot.slack.blocks import FEEDBACK_UP, MAX_BLOCKS, SECTION_LIMIT
from storage.conversations import ConversationKey
from storage.models import Message
from tests import fixture_site
from tests.chat_server import ChatServer
from tests.doubles import ScriptedChatModel, unrepeated_text
from tests.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, SlackCall, signed
from tests.telegram_emulator import free_port
from tests.test_hostile_input import CARD, HOSTILE, ID_NUMBER
from tuyabot.components import Components

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "UADMIN01"
QUESTION = "¿La Tarjeta Oro sirve fuera de Colombia?"
_ids = itertools.count(1)


class RunningSlackApp:
    """Our bolt app on its own event loop thread, in HTTP mode (default) or Socket Mode."""

    def __init__(self, components: Components, fake: FakeSlack, *, socket_mode: bool = False) -> None:
        self.fake = fake
        self.components = components
        settings = components.settings.model_copy(update={
            "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET),
            "slack_app_token": SecretStr("xapp-test"), "slack_api_url": fake.api_url,
            "slack_admin_user_ids": ADMIN})
        self.core = components.core
        self.app = build_app(self.core, settings)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.port = free_port()
        if socket_mode:
            self.handler = self._run(start_socket(self.app, settings))
        else:
            self.runner = self._run(start_http(self.app, "127.0.0.1", self.port, SECRET))
        self.resident = self._run(self._tasks())  # what runs while nothing is being handled
        self.url = f"http://127.0.0.1:{self.port}/slack/events"

    @staticmethod
    async def _tasks() -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]

    def wait_idle(self, timeout: float = 60) -> None:
        """Until every event posted so far has been handled (HTTP mode: each post returns once acknowledged, and
        its listeners run on in tasks of the app's loop): anything the app would send about them has been sent."""
        async def settle() -> None:
            while pending := await self._tasks() - self.resident:
                await asyncio.wait(pending)
        asyncio.run_coroutine_threadsafe(settle(), self.loop).result(timeout)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        if hasattr(self, "handler"):
            self._run(self.handler.close_async())
        if hasattr(self, "runner"):
            self.wait_idle()  # what the app still does after the answer (removing the 👀) ends first
            self._run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.core.close()

    # posting as Slack does ---------------------------------------------------------------------------
    def post_json(self, payload: dict[str, Any], **headers: str) -> httpx.Response:
        body = json.dumps(payload)
        return httpx.post(self.url, content=body, timeout=30,
                          headers={"Content-Type": "application/json", **signed(body, SECRET), **headers})

    def post_form(self, fields: dict[str, str]) -> httpx.Response:
        body = urlencode(fields)
        return httpx.post(self.url, content=body, timeout=30, headers={
            "Content-Type": "application/x-www-form-urlencoded", **signed(body, SECRET)})

    def answers(self, channel: str) -> list[SlackCall]:
        """What ends each answer in a channel: the message or the stream's stop carrying the 👍/👎 buttons."""
        return [c for c in self.fake.calls if c.method in ("chat.postMessage", "chat.stopStream")
                and c.args.get("channel") == channel
                and any(b.get("type") == "actions" for b in c.args.get("blocks") or [])]

    def thread_of(self, call: SlackCall) -> str | None:
        """The thread a message (or a streamed message, by its stop) was posted in."""
        if call.method == "chat.postMessage":
            return call.args.get("thread_ts")
        return next(c.args["thread_ts"] for c in self.fake.of("chat.startStream") if c.args["_ts"] == call.args["ts"])

    def wait_answers(self, channel: str, count: int = 1, timeout: float = 90) -> list[SlackCall]:
        self.fake.wait_for(lambda: len(self.answers(channel)) >= count, timeout)
        return self.answers(channel)


def event_payload(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0001", "type": "event_callback",
            "event": event, "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}


def mention(text: str, *, user: str = "UANA0001", channel: str = "C0001", ts: str | None = None,
            thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "channel": channel,
             "ts": ts or f"{time.time():.6f}", "event_ts": f"{time.time():.6f}"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, *, user: str = "UANA0001", channel: str = "C0001", channel_type: str = "channel",
            thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "channel": channel, "channel_type": channel_type,
             "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}", **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


@pytest.fixture
def slack(bot_components: Callable[..., Components], fake: FakeSlack) -> Iterator[Callable[..., RunningSlackApp]]:
    apps: list[RunningSlackApp] = []

    def make(*, components: Components | None = None, socket_mode: bool = False, **overrides: object
             ) -> RunningSlackApp:
        app = RunningSlackApp(components or bot_components(**overrides), fake, socket_mode=socket_mode)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def _section_texts(calls: list[SlackCall]) -> list[str]:
    return [b["text"]["text"] for c in calls for b in c.args["blocks"] if b["type"] == "section"]


# -- tests --------------------------------------------------------------------------------------------
def test_url_verification_and_signatures(slack) -> None:
    app = slack()
    ok = app.post_json({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
    assert ok.status_code == 200 and "3eZbrw1aBm2rZgRNFdxV" in ok.text
    body = json.dumps(event_payload(mention(QUESTION)))
    forged = httpx.post(app.url, content=body, headers={"Content-Type": "application/json",
                                                        **signed(body, "not-the-secret")})
    assert forged.status_code == 401
    stale = httpx.post(app.url, content=body, headers={"Content-Type": "application/json",
                                                       **signed(body, SECRET, int(time.time()) - 600)})
    assert stale.status_code == 401
    app.wait_idle()
    assert app.fake.of("chat.postMessage") == []


def test_a_mention_is_answered_in_its_thread_with_sources_and_buttons(slack) -> None:
    app = slack(generator=ScriptedChatModel(pieces=["La Tarjeta Oro es internacional. ", "Funciona en comercios ",
                                                   "de todo el mundo."]), slack_stream_interval_seconds=0)
    event = mention(QUESTION, ts="1700000000.000100")
    assert app.post_json(event_payload(event)).status_code == 200
    (answer,) = app.wait_answers("C0001")
    app.wait_idle()
    order = [c.method for c in app.fake.calls if c.method != "auth.test"]
    assert order[:3] == ["reactions.add", "assistant.threads.setStatus", "chat.startStream"]
    assert order[-2:] == ["chat.stopStream", "reactions.remove"] and "chat.appendStream" in order
    assert "chat.postMessage" not in order  # the answer is the streamed message
    (status,) = app.fake.of("assistant.threads.setStatus")
    assert status.args["thread_ts"] == "1700000000.000100" and status.args["status"] == texts.SLACK_STATUS
    (start,) = app.fake.of("chat.startStream")
    assert start.args["thread_ts"] == "1700000000.000100"
    assert (start.args["recipient_team_id"], start.args["recipient_user_id"]) == (TEAM_ID, "UANA0001")
    key = ConversationKey("slack", "C0001:1700000000.000100", "UANA0001")
    stored = app.components.conversations.history(key)
    assert [t.content for t in stored if t.role == "user"] == [QUESTION]
    assert app.fake.streamed_text(answer.args["ts"]) == stored[-1].content  # the appends joined are the answer
    assert stored[-1].content == "La Tarjeta Oro es internacional. Funciona en comercios de todo el mundo."
    context = next(b for b in answer.args["blocks"] if b["type"] == "context")
    assert any(f"<{fixture_site.CANONICAL}/" in e["text"] for e in context["elements"])
    buttons = next(b for b in answer.args["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["feedback_up", "feedback_down"]
    (removed,) = app.fake.of("reactions.remove")
    assert removed.args["name"] == "eyes" and removed.args["timestamp"] == "1700000000.000100"


def test_a_model_that_breaks_mid_stream_stops_the_stream_and_apologises(slack) -> None:
    app = slack(generator=ScriptedChatModel(pieces=["La Tarjeta Oro es internacional. ", "Funciona en ", "todo."],
                                            fail_after=2), slack_stream_interval_seconds=0)
    app.post_json(event_payload(mention(QUESTION, ts="1700000000.000300")))
    app.fake.wait_for(lambda: any(c.args.get("text") == texts.ERROR for c in app.fake.of("chat.postMessage")))
    app.wait_idle()
    (start,) = app.fake.of("chat.startStream")
    (stop,) = app.fake.of("chat.stopStream")  # not left "still writing" in the thread
    assert stop.args["ts"] == start.args["_ts"] and not stop.args.get("blocks")
    assert app.fake.streamed_text(start.args["_ts"]) == "La Tarjeta Oro es internacional."
    assert len(app.fake.of("reactions.remove")) == 1


def test_a_stream_slack_refuses_to_start_is_posted_whole_once(slack) -> None:
    app = slack()
    app.fake.refuse("chat.startStream", "invalid_arguments")
    app.fake.refuse("assistant.threads.setStatus", "not_allowed_token_type")  # a status never blocks the answer
    app.post_json(event_payload(mention(QUESTION, ts="1700000000.000200")))
    (answer,) = app.wait_answers("C0001")
    app.wait_idle()
    assert answer.method == "chat.postMessage" and answer.args["thread_ts"] == "1700000000.000200"
    assert "es internacional" in answer.args["blocks"][0]["text"]["text"]
    assert not app.fake.of("chat.appendStream") and not app.fake.of("chat.stopStream")
    assert len(app.fake.of("chat.postMessage")) == 1 and len(app.fake.of("reactions.remove")) == 1


def test_a_follow_up_in_the_thread_continues_the_conversation(slack) -> None:
    app = slack()
    app.post_json(event_payload(mention("¿Qué financia el Crédito Hogar?", ts="1700000001.000100")))
    app.wait_answers("C0001", 1)
    app.post_json(event_payload(message("¿Y en qué ciudades lo puedo solicitar?", thread_ts="1700000001.000100")))
    second = app.wait_answers("C0001", 2)[-1]
    assert app.thread_of(second) == "1700000001.000100"
    key = ConversationKey("slack", "C0001:1700000001.000100", "UANA0001")
    assert len(app.components.conversations.history(key, 10)) == 4
    app.post_json(event_payload(message("¿Y otra cosa?", thread_ts="1799999999.000100")))  # a thread it never joined
    app.wait_idle()
    assert len(app.answers("C0001")) == 2


def test_a_direct_message_is_answered(slack) -> None:
    app = slack()
    app.post_json(event_payload(message(QUESTION, channel="D0001", channel_type="im")))
    (answer,) = app.wait_answers("D0001")
    assert answer.args.get("thread_ts") is None
    assert app.components.conversations.history(ConversationKey("slack", "D0001", "UANA0001")) != []


def test_retries_duplicates_bots_and_edits_produce_no_second_answer(slack) -> None:
    app = slack()
    payload = event_payload(mention(QUESTION), "EvDUPLICATE1")
    app.post_json(payload)
    app.wait_answers("C0001")
    assert app.post_json(payload, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
                         ).status_code == 200
    assert app.post_json(payload).status_code == 200
    app.post_json(event_payload(message("Soy otro bot", channel="D0002", channel_type="im", bot_id="B0002")))
    app.post_json(event_payload(message("", channel="D0002", channel_type="im", subtype="message_changed",
                                        message={"text": "editado"})))
    app.post_json(event_payload(message("", channel="D0002", channel_type="im", subtype="message_deleted")))
    app.post_json(event_payload(message("mío", user=BOT_USER_ID, channel="D0002", channel_type="im")))
    app.wait_idle()
    assert len(app.fake.of("chat.startStream")) == 1 and len(app.fake.of("reactions.add")) == 1
    assert not app.fake.of("chat.postMessage")


def test_page_and_model_text_is_escaped_and_long_answers_fit_block_kit(slack, bot_components, site) -> None:
    s, _ = site
    s.routes["/avisos"] = fixture_site.Route(fixture_site.page(
        "/avisos", "Avisos &lt;!channel&gt; &amp; novedades",
        "<p>Los avisos de la Tarjeta Oro llegan por correo y por la aplicación.</p>"))
    s.routes["/sitemap.xml"] = fixture_site.Route(fixture_site.sitemap(["/", "/tarjeta", "/credito", "/ahorro",
                                                                        "/avisos"]), "application/xml", etag=False)
    about_notices = ("avisos", "llegan", "correo", "aplicación", "novedades", "mensaje", "noticia", "envío", "semana",
                     "recordatorio", "alerta", "buzón", "notificación", "revisa", "recibe", "lectura", "resumen",
                     "boletín", "entrega", "aviso", "consulta", "remitente", "asunto", "bandeja", "carta", "nota",
                     "comunicado", "anuncio", "circular", "respuesta", "lista", "registro", "historial", "copia",
                     "firma", "sobre", "sello", "destinatario", "envíos", "reenvío")  # /avisos' subject: it is cited
    long_text = unrepeated_text(8, 25, ["<!channel>", "<https://{w}.evil.{w}.example|haz {w}>", "& {w}"],
                                piece_chars=80, vocabulary=about_notices)
    server = ChatServer([long_text[i:i + 80] for i in range(0, len(long_text), 80)])
    try:
        components = bot_components(llm_backend="openai", llm_base_url=server.url, llm_model="scripted",
                                    grounding_min_answer_share=0.0)  # random words: not a grounding test
        components.__dict__.pop("generator")
        app = slack(components=components)
        app.post_json(event_payload(message("¿Cómo llegan los avisos de la Tarjeta Oro?", channel="D0001",
                                            channel_type="im")))  # a DM: posted whole, in Block Kit messages
        app.wait_answers("D0001")
        app.wait_idle()
        posts = [c for c in app.fake.of("chat.postMessage") if c.args.get("blocks")]
        assert len(posts) >= 2  # one long answer, several messages in the thread
        for post in posts:
            assert len(post.args["blocks"]) <= MAX_BLOCKS
            assert all(len(t) <= SECTION_LIMIT for t in _section_texts([post]))
            assert "<!channel>" not in json.dumps(post.args) and "<https://evil" not in json.dumps(post.args)
        shown = "".join(_section_texts(posts))
        assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == long_text
        assert "&lt;!channel&gt;" in shown
        context = next(b for b in posts[-1].args["blocks"] if b["type"] == "context")
        links = " ".join(e["text"] for e in context["elements"])
        assert "/avisos|Avisos &lt;!channel&gt; &amp; novedades" in links
    finally:
        server.close()


def test_feedback_buttons_store_the_vote(slack) -> None:
    app = slack()
    app.post_json(event_payload(mention(QUESTION, ts="1700000002.000100")))
    (answer,) = app.wait_answers("C0001")
    button = next(b for b in answer.args["blocks"] if b["type"] == "actions")["elements"][0]
    payload = {"type": "block_actions", "user": {"id": "UANA0001", "team_id": TEAM_ID}, "team": {"id": TEAM_ID},
               "api_app_id": "A0001", "trigger_id": "t1", "response_url": f"{app.fake.url}/response/fb1",
               "container": {"type": "message", "channel_id": "C0001", "message_ts": answer.args.get("ts", "")},
               "channel": {"id": "C0001"}, "actions": [{**button, "block_id": "b1", "action_ts": "1"}]}
    assert app.post_form({"payload": json.dumps(payload)}).status_code == 200
    app.fake.wait_for(lambda: bool(app.fake.of("response_url")))
    assert app.fake.of("response_url")[0].args["text"] == texts.FEEDBACK_THANKS
    message_id = int(button["value"].split("|")[0])
    assert app.components.conversations.feedback_for(message_id) == [1]


def _command(app: RunningSlackApp, user: str, text: str = "") -> httpx.Response:
    return app.post_form({"token": "legacy", "team_id": TEAM_ID, "channel_id": "C0001", "user_id": user,
                          "command": "/tuyabot-refresh", "text": text, "api_app_id": "A0001", "trigger_id": "t2",
                          "response_url": f"{app.fake.url}/response/{user}"})


def test_refresh_command_is_acked_at_once_then_reports_to_the_admin(slack, site) -> None:
    app = slack(crawl_timeout_seconds=120)  # the crawler waits for the held site
    s, _ = site
    fixture_site.build_v2(s)
    released = s.hold()  # the refresh lasts until the question asked meanwhile is answered
    ack = _command(app, ADMIN)
    assert ack.status_code == 200 and "Actualizando el índice" in ack.json()["text"]
    assert not app.fake.of("response_url")  # the ack did not wait for the refresh
    app.post_json(event_payload(mention(QUESTION)))
    app.wait_answers("C0001")
    released.set()
    app.fake.wait_for(lambda: any("Índice actualizado" in c.args.get("text", "") for c in app.fake.of("response_url")),
                      timeout=120)
    report = app.fake.of("response_url")[-1].args["text"]
    assert "Nuevas: 1" in report and "Eliminadas: 1" in report
    events = app.components.conversations.audit_events("refresh")
    assert [(e.user_id, e.outcome) for e in events] == [(ADMIN, "started"), (ADMIN, "done")]


def test_refresh_command_is_refused_for_anyone_else(slack, site) -> None:
    app = slack()
    s, _ = site
    fixture_site.build_v2(s)
    pages = set(app.components.indexer.registry.load())
    ack = _command(app, "UANA0001")
    assert ack.status_code == 200 and "solo los administradores" in ack.json()["text"]
    app.fake.wait_for(lambda: bool(app.components.conversations.audit_events("refresh")), timeout=60)
    assert [(e.user_id, e.outcome) for e in app.components.conversations.audit_events("refresh")] == [
        ("UANA0001", "refused")]
    assert set(app.components.indexer.registry.load()) == pages


def test_socket_mode_delivers_a_mention_end_to_end(slack, fake) -> None:
    app = slack(socket_mode=True)
    fake.wait_for(fake.connected, timeout=60)
    assert fake.of("apps.connections.open")
    fake.push({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
               "payload": event_payload(mention(QUESTION, ts="1700000003.000100"))})
    (answer,) = app.wait_answers("C0001")
    assert app.thread_of(answer) == "1700000003.000100"
    assert any(a.get("envelope_id") == "env-1" for a in fake.acks)


def test_an_internal_error_gets_a_polite_message_in_the_thread(slack, bot_components) -> None:
    components = bot_components()
    components.store.drop(components.store.live_collection() or "")  # the index vanished under the app
    app = slack(components=components)
    app.post_json(event_payload(mention(QUESTION, ts="1700000004.000100")))
    app.fake.wait_for(lambda: any(c.args.get("text") == texts.ERROR for c in app.fake.of("chat.postMessage")))
    (apology,) = app.fake.of("chat.postMessage")
    assert apology.args["thread_ts"] == "1700000004.000100"


def _button_press(app: RunningSlackApp, value: str, n: int) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": "UANA0001", "team_id": TEAM_ID}, "team": {"id": TEAM_ID},
            "api_app_id": "A0001", "trigger_id": f"tj{n}", "response_url": f"{app.fake.url}/response/junk{n}",
            "container": {"type": "message", "channel_id": "C0001", "message_ts": "1700000009.000100"},
            "channel": {"id": "C0001"},
            "actions": [{"action_id": FEEDBACK_UP, "block_id": "b1", "type": "button", "value": value,
                         "action_ts": "1"}]}


def test_unsigned_requests_get_401_unread_and_signed_malformed_ones_400(slack, caplog) -> None:
    app = slack()
    bodies = [("{not json", "application/json"), ("", "application/json"), ("[1, 2]", "application/json"),
              ("payload=%7Bnot+json", "application/x-www-form-urlencoded")]
    for body, content_type in bodies:
        anonymous = httpx.post(app.url, content=body, headers={"Content-Type": content_type}, timeout=60)
        assert anonymous.status_code == 401
        malformed = httpx.post(app.url, content=body, timeout=60,
                               headers={"Content-Type": content_type, **signed(body, SECRET)})
        assert malformed.status_code == 400
    forged = json.dumps(event_payload(mention(QUESTION)))
    wrong = httpx.post(app.url, content=forged, timeout=60, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64})
    assert wrong.status_code == 401
    assert not app.fake.of("chat.postMessage")
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_button_value_the_app_never_wrote_is_acknowledged_and_ignored(slack, caplog) -> None:
    app = slack()
    for n, value in enumerate(("junk", "", "12|", "9" * 30 + "|C0001")):
        assert app.post_form({"payload": json.dumps(_button_press(app, value, n))}).status_code == 200
    assert app.post_form({"payload": json.dumps(_button_press(app, "987654|C0001", 9))}).status_code == 200
    app.fake.wait_for(lambda: bool(app.fake.of("response_url")), timeout=30)
    (gone,) = app.fake.of("response_url")  # only the well-formed id of no stored answer is answered
    assert gone.args["text"] == texts.FEEDBACK_GONE
    assert 'tuyabot_ignored_total{platform="slack",reason="bad_button"} 4.0' in app.core.metrics.exposition().decode()
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]


def test_rate_limited_posts_are_retried_after_the_wait_and_delivered_once(slack) -> None:
    app = slack()
    app.fake.rate_limited["chat.postMessage"] = 1  # Slack answers 429, Retry-After: 1
    app.post_json(event_payload(message(QUESTION, channel="D0011", channel_type="im")))
    (answer,) = app.wait_answers("D0011", timeout=120)
    assert len(app.fake.of("chat.postMessage!429")) == 1 and app.fake.of("chat.postMessage") == [answer]


def test_the_hostile_corpus_gets_one_polite_reply_each_and_leaks_nothing(slack, bot_components, caplog) -> None:
    model = ScriptedChatModel(reply="Sí, la Tarjeta Oro es internacional y funciona en comercios de todo el mundo.")
    components = bot_components(model, bot_max_message_chars=1000, llm_queue_size=32)
    app = slack(components=components)
    channels = {name: f"CH{i:03d}" for i, name in enumerate(HOSTILE)}
    for name, channel in channels.items():
        assert app.post_json(event_payload(mention(HOSTILE[name][:40_000], channel=channel))).status_code == 200
    edited = message("texto editado", channel="CEDIT", subtype="message_changed")  # edits are not questions
    assert app.post_json(event_payload(edited)).status_code == 200
    for _ in range(3):  # a non-admin, again and again, with an argument the command doesn't take
        assert "solo los administradores" in _command(app, "UANA0001", "ya mismo").json()["text"]

    def replies(channel: str) -> list[SlackCall]:  # messages and streams the channel got, but "your place"
        return [c for c in app.fake.calls if c.method in ("chat.postMessage", "chat.startStream")
                and c.args.get("channel") == channel and not str(c.args.get("text", "")).startswith("Recibí tu")]
    app.fake.wait_for(lambda: all(replies(c) for c in channels.values()), timeout=120)
    app.wait_idle()  # and nothing more comes
    assert {name: len(replies(c)) for name, c in channels.items()} == {name: 1 for name in channels}
    assert not replies("CEDIT")
    posted = [json.dumps(c.args, ensure_ascii=False) for c in app.fake.calls]
    assert not [p for p in posted if texts.ERROR in p or texts.BUSY in p]
    assert replies(channels["huge"])[0].args["text"] == texts.TOO_LONG.format(limit=1000)
    for name in ("empty", "whitespace", "zero-width only"):
        assert replies(channels[name])[0].args["text"] == texts.HELP
    assert not [p for p in posted if "<!channel>" in p or "<!here>" in p]  # never a broadcast from the bot
    assert [e.outcome for e in components.conversations.audit_events("refresh")] == ["refused"] * 3
    with components.db.session() as session:
        stored = " ".join(session.scalars(select(Message.content)))
    for secret in (CARD, ID_NUMBER):
        assert not [p for p in posted if secret in p] and secret not in stored and secret not in caplog.text
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]
