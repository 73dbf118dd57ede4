"""The Slack app: bolt listeners (prefilter -> handler -> blocks) over the shared core, run in Socket Mode or HTTP.

Bolt acknowledges every event before the listener runs (``process_before_response=False``); model
work runs in a worker thread. Each event id is recorded in the database, so Slack's retries and
duplicate deliveries never produce a second answer, across restarts and replicas.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import request_context, texts
from bot.core import Answer, BotCore, ConversationKey, Gate, GeneratorBusy, RefreshStart
from bot.in_flight import InFlight
from bot.platforms import PlatformSetupError
from bot.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, escape
from bot.slack.signed import signed_requests_only
from bot.slack.stream import AnswerStream, post_answer
from bot.streaming import final_in_thread, in_thread
from tuyabot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
REFRESH_COMMAND = "/tuyabot-refresh"
MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")
FEEDBACK_VALUE = re.compile(r"([0-9]{1,18})\|(.+)")  # what blocks.answer_messages writes: "<message id>|<chat>"


class SlackSetupError(PlatformSetupError):
    """The Slack settings cannot start the app (missing tokens or secret)."""


@dataclass(frozen=True)
class SlackConfig:
    admins: frozenset[str]
    thread_followups_without_mention: bool = True
    stream_interval_seconds: float = 1.0  # at most one append to a streamed answer this often


def build_app(core: BotCore, settings: Settings) -> AsyncApp:
    """The bolt app with every listener; HTTP requests are signature-checked with SLACK_SIGNING_SECRET."""
    token = _secret(settings.slack_bot_token, "SLACK_BOT_TOKEN", "the app's Bot User OAuth Token (xoxb-…)")
    if mode_of(settings) == "socket":  # the transport's secret too, before any model is loaded
        _app_token(settings)
    else:
        _secret(settings.slack_signing_secret, "SLACK_SIGNING_SECRET", "the app's Signing Secret (HTTP mode)")
    signing = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = AsyncApp(token=token, signing_secret=signing, client=web_client(token, settings.slack_api_url),
                   request_verification_enabled=signing is not None)
    listeners = Listeners(core, SlackConfig(settings.slack_admins, settings.slack_thread_followups_without_mention,
                                            settings.slack_stream_interval_seconds))
    app.use(tag_request)  # after bolt's own middleware: only signed requests get here
    app.event("app_mention")(listeners.mention)
    app.event("message")(listeners.message)
    app.action(re.compile(f"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$"))(listeners.feedback)
    app.command(REFRESH_COMMAND)(ack=listeners.refresh_ack, lazy=[listeners.refresh_run])
    app.error(listeners.error)
    return app


async def tag_request(body: dict[str, Any], next: Any) -> None:
    """Mark what this request's handling logs with its request id (slack:channel:event)."""
    event, channel = body.get("event"), body.get("channel")
    channel = (event.get("channel") if isinstance(event, dict) else None) or \
        (channel.get("id") if isinstance(channel, dict) else channel) or body.get("channel_id")
    request_context.set_request(PLATFORM, channel, body.get("event_id") or body.get("trigger_id"))
    await next()


def web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """The Web API client, retrying what Slack asks to retry: 429 after its Retry-After, 5xx and dropped
    connections with backoff (a message is posted once)."""
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=[
        AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2)])


class Listeners:
    def __init__(self, core: BotCore, config: SlackConfig) -> None:
        self.core = core
        self.config = config

    # -- events -------------------------------------------------------------------------------------
    async def mention(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient,
                      context: dict[str, Any]) -> None:
        """@TuyaBot in a channel: answered in the thread of the message (a thread is one conversation)."""
        if _from_a_bot(event) or not await self._first_delivery(body):
            return
        await self._answer(event, client, thread_ts=event.get("thread_ts") or event["ts"], team_id=_team(body, event))

    async def message(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient,
                      context: dict[str, Any]) -> None:
        """DMs, and follow-ups without a mention in threads the bot already answers in."""
        if _from_a_bot(event) or event.get("subtype") or event.get("user") == context.get("bot_user_id"):
            return  # bots (itself included), edits, deletions and other message changes
        thread_ts = event.get("thread_ts")
        wanted = event.get("channel_type") == "im" or await self._follow_up(event, thread_ts, context)
        if wanted and await self._first_delivery(body):
            await self._answer(event, client, thread_ts=thread_ts, team_id=_team(body, event))

    async def _follow_up(self, event: dict[str, Any], thread_ts: str | None, context: dict[str, Any]) -> bool:
        """A message without a mention in a thread the bot already answers in (mentions are app_mention's)."""
        return bool(thread_ts and self.config.thread_followups_without_mention
                    and f"<@{context.get('bot_user_id')}" not in (event.get("text") or "")
                    and await asyncio.to_thread(self.core.knows_chat, PLATFORM, f"{event['channel']}:{thread_ts}"))

    async def _first_delivery(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        first = await asyncio.to_thread(self.core.first_delivery, PLATFORM, event_id)
        if not first:
            log.info("slack event %s already handled: ignored", event_id)
        return first

    async def _answer(self, event: dict[str, Any], client: AsyncWebClient, *, thread_ts: str | None,
                      team_id: str | None) -> None:
        channel = event["channel"]
        text = MENTION.sub("", event.get("text") or "").strip()
        chat_id = f"{channel}:{thread_ts}" if thread_ts else channel
        if self.core.in_flight.stopping:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=texts.SHUTTING_DOWN)
            return
        if not self.core.has_room(PLATFORM):
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=texts.BUSY)
            return
        async with self.core.in_flight.track(lambda: client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                                             text=texts.SHUTTING_DOWN)):
            await self._reply(event, client, text, chat_id, thread_ts, team_id)

    async def _reply(self, event: dict[str, Any], client: AsyncWebClient, text: str, chat_id: str,
                     thread_ts: str | None, team_id: str | None) -> None:
        channel, user = event["channel"], event.get("user", "")
        reacted = False
        try:
            gate = await self.core.gate(PLATFORM, user, text)
            if gate is not Gate.OK:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                              text=texts.gate_reply(gate, self.core.max_message_chars))
                return
            await client.reactions_add(channel=channel, name="eyes", timestamp=event["ts"])
            reacted = True
            if ahead := self.core.questions_ahead():  # a long wait: say so now, with the question's place
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=texts.queued(ahead))
            await self._deliver(client, ConversationKey(PLATFORM, chat_id, user), text, channel, thread_ts, team_id)
        except GeneratorBusy:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=texts.BUSY)
        except Exception:
            log.exception("slack event in %s could not be answered", channel)
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=texts.ERROR)
        finally:
            if reacted:
                await _quietly(client.reactions_remove(channel=channel, name="eyes", timestamp=event["ts"]),
                               "remove the 👀 reaction")

    async def _deliver(self, client: AsyncWebClient, key: ConversationKey, text: str, channel: str,
                       thread_ts: str | None, team_id: str | None) -> None:
        """The answer: streamed into the thread as it is revealed (Slack's AI streaming, after a "thinking"
        status), or, outside a thread (a DM), posted whole when it is done."""
        if thread_ts is None:
            answer = await final_in_thread(self.core.stream(key, text), self.core.answer_pool)
            await post_answer(client, channel, None, answer.text, [(s.url, s.title) for s in answer.sources],
                              texts.SOURCES, self._feedback(answer, key))
            return
        await _quietly(client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts,
                                                          status=texts.SLACK_STATUS,
                                                          loading_messages=list(texts.SLACK_LOADING)),
                       "set the thread's status")
        stream = AnswerStream(client, channel, thread_ts, team_id=team_id, user_id=key.user_id,
                              interval=self.config.stream_interval_seconds)
        try:
            async for item in in_thread(self.core.stream(key, text), self.core.answer_pool):
                if isinstance(item, Answer):
                    await stream.finish(item.text, [(s.url, s.title) for s in item.sources], texts.SOURCES,
                                        self._feedback(item, key))
                else:
                    await stream.add(item)
        except BaseException:  # a fault or a shutdown mid-answer: the stream is stopped, then the user told
            await stream.abandon()
            raise

    def _feedback(self, answer: Answer, key: ConversationKey) -> str | None:
        return f"{answer.message_id}|{key.chat_id}" if self.core.wants_feedback(answer) else None

    # -- actions and commands -----------------------------------------------------------------------
    async def feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        written = FEEDBACK_VALUE.fullmatch(action.get("value") or "")
        if written is None:
            self.core.ignored(PLATFORM, "bad_button")
            return
        message_id, chat_id = written.groups()
        key = ConversationKey(PLATFORM, chat_id, body["user"]["id"])
        value = 1 if action["action_id"] == FEEDBACK_UP else -1
        stored = await asyncio.to_thread(self.core.feedback, int(message_id), key, value)
        await respond(text=texts.FEEDBACK_THANKS if stored else texts.FEEDBACK_GONE, response_type="ephemeral",
                      replace_original=False)

    async def refresh_ack(self, ack: Any, command: dict[str, Any]) -> None:
        """Acknowledged at once (Slack waits 3 s at most); the refresh itself runs in ``refresh_run``."""
        admin = command.get("user_id") in self.config.admins
        await ack(text=texts.REFRESH_STARTED if admin else texts.REFRESH_REFUSED, response_type="ephemeral")

    async def refresh_run(self, command: dict[str, Any], respond: Any) -> None:
        user = command.get("user_id", "")
        ticket = await asyncio.to_thread(self.core.request_refresh, PLATFORM, user, admin=user in self.config.admins)
        if ticket.start is RefreshStart.BUSY:
            await respond(text=texts.refresh_busy(ticket.running), response_type="ephemeral")
        if ticket.start is not RefreshStart.STARTED or ticket.report is None:
            return
        try:
            text = texts.refresh_report(await asyncio.wrap_future(ticket.report))
        except Exception as exc:  # logged and audited by the core
            text = texts.REFRESH_FAILED.format(error=exc)
        await respond(text=escape(text), response_type="ephemeral")

    async def error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack request %s failed", body.get("event_id") or body.get("type"), exc_info=error)


def _team(body: dict[str, Any], event: dict[str, Any]) -> str | None:
    """The workspace of the user who asked (a stream in a channel is addressed to them)."""
    return event.get("user_team") or event.get("team") or body.get("team_id")


async def _quietly(call: Awaitable[Any], what: str) -> None:
    """A call the answer does not depend on (a status, a reaction): its failure is logged, never raised."""
    try:
        await call
    except Exception as exc:
        log.info("slack: could not %s: %s", what, exc)


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def _secret(value: Any, name: str, what: str) -> str:
    if value is None or not value.get_secret_value():
        raise SlackSetupError(f"{name} is not set: {what}; see README, 'Slack'")
    return value.get_secret_value()


def _app_token(settings: Settings) -> str:
    return _secret(settings.slack_app_token, "SLACK_APP_TOKEN", "an app-level token (xapp-…) with connections:write")


# -- transports -------------------------------------------------------------------------------------
def mode_of(settings: Settings) -> str:
    if settings.slack_mode != "auto":
        return settings.slack_mode
    return "socket" if settings.slack_app_token else "http"


async def start_http(app: AsyncApp, host: str, port: int, signing_secret: str) -> web.AppRunner:
    """Serve the Events API (events, actions, commands) on host:port at /slack/events; only signed, well-formed
    requests reach bolt."""
    web_app = app.web_app(path=EVENTS_PATH, port=port)
    web_app.middlewares.append(signed_requests_only(signing_secret))
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("slack HTTP mode on http://%s:%s%s", host, port, EVENTS_PATH)
    return runner


async def start_socket(app: AsyncApp, settings: Settings) -> AsyncSocketModeHandler:
    """Connect over Socket Mode (no public URL): Slack pushes the events through a websocket."""
    handler = AsyncSocketModeHandler(app, _app_token(settings),
                                     web_client=web_client(None, settings.slack_api_url))
    await handler.connect_async()
    log.info("slack Socket Mode connected")
    return handler


async def serve(app: AsyncApp, settings: Settings, in_flight: InFlight) -> None:
    """Run until cancelled, in the configured mode; then stop taking events, let answers in progress finish
    (up to SHUTDOWN_GRACE_SECONDS; the rest are told to ask again) and close."""
    if mode_of(settings) == "socket":
        handler = await start_socket(app, settings)
        close = handler.close_async
    else:
        secret = _secret(settings.slack_signing_secret, "SLACK_SIGNING_SECRET", "the app's Signing Secret")
        runner = await start_http(app, settings.slack_http_host, settings.slack_http_port, secret)
        close = runner.cleanup
    try:
        await asyncio.Event().wait()
    finally:
        await close()
        await in_flight.drain(settings.shutdown_grace_seconds)


build = build_app
