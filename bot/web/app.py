"""The web chat: one page (no build step, nothing fetched from elsewhere) and a small API over the shared core.

- ``GET /``: the page (``page.html``); it gives the browser its conversation cookie (random, HttpOnly,
  SameSite=Strict). The conversation is stored like the other platforms', under a hash of that cookie.
- ``POST /api/ask`` ``{"text": …}``: the answer as server-sent events: ``notice`` (the question's place in the
  queue), ``delta`` (checked text as it is revealed), then ``done`` (the answer's text, status, sources and
  the id the 👍/👎 buttons send), or ``reply`` (a polite message instead of an answer: too long, too many
  messages, busy, restarting, an error).
- ``POST /api/feedback`` ``{"message_id": …, "value": 1 | -1}``, ``POST /api/reset``, ``GET /api/history``.

Anything unauthenticated is turned away before its body is read: with ``WEB_ACCESS_TOKEN`` set, a request needs
the access cookie (set by opening ``/?token=…`` once) or ``Authorization: Bearer …``; every API call needs the
conversation cookie, and a request from another site (its ``Origin``) is refused. Served on loopback unless
an access token protects it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import itertools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot import request_context, texts
from bot.core import Answer, BotCore, ConversationKey, Gate, GeneratorBusy
from bot.in_flight import InFlight
from bot.platforms import PlatformSetupError
from bot.streaming import in_thread
from tuyabot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "web"
SESSION_COOKIE = "tuyabot_session"
ACCESS_COOKIE = "tuyabot_access"
MAX_BODY_BYTES = 64 * 1024
CORE = web.AppKey("core", BotCore)
ACCESS = web.AppKey("access", str)  # the access cookie's value ("" = no access token)
TOKEN = web.AppKey("token", str)
PAGE = web.AppKey("page", str)  # page.html, read once when the app is built
_requests = itertools.count(1)


class WebSetupError(PlatformSetupError):
    """The web chat's settings cannot start it."""


def build_app(core: BotCore, settings: Settings) -> web.Application:
    """The aiohttp application of the web chat (checked settings, every route)."""
    token = settings.web_access_token.get_secret_value() if settings.web_access_token else ""
    if not token and not _is_loopback(settings.web_host):
        raise WebSetupError(f"WEB_HOST={settings.web_host} serves the web chat beyond this machine: set "
                            "WEB_ACCESS_TOKEN too (or WEB_HOST=127.0.0.1)")
    app = web.Application(middlewares=[_access_checked, _same_origin_only], client_max_size=MAX_BODY_BYTES)
    app[CORE] = core
    app[ACCESS] = hmac.new(token.encode(), b"tuyabot-web-access", hashlib.sha256).hexdigest() if token else ""
    app[TOKEN] = token
    app[PAGE] = resources.files("bot.web").joinpath("page.html").read_text(encoding="utf-8")
    app.router.add_get("/", page)
    app.router.add_post("/api/ask", ask)
    app.router.add_post("/api/feedback", feedback)
    app.router.add_post("/api/reset", reset)
    app.router.add_get("/api/history", history)
    return app


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- before anything is read -----------------------------------------------------------------------
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _access_checked(request: web.Request, handler: Handler) -> web.StreamResponse:
    """With an access token: the access cookie, the bearer token, or ``/?token=`` (which sets the cookie)."""
    expected = request.app[ACCESS]
    if not expected:
        return await handler(request)
    token = request.app[TOKEN]
    offered = request.query.get("token") if request.path == "/" else None
    if offered is not None and hmac.compare_digest(offered.encode(), token.encode()):
        response = web.HTTPSeeOther("/")  # the token leaves the address bar at once
        response.set_cookie(ACCESS_COOKIE, expected, httponly=True, samesite="Strict", secure=request.secure)
        raise response
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if hmac.compare_digest(request.cookies.get(ACCESS_COOKIE, "").encode(), expected.encode()) or \
            hmac.compare_digest(bearer.encode(), token.encode()):
        return await handler(request)
    log.info("web request without access refused: %s %s", request.method, request.path)
    return web.Response(status=401, text=texts.WEB_NO_ACCESS, content_type="text/plain")


@web.middleware
async def _same_origin_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A browser on another site cannot use a visitor's cookies to ask or vote in their name."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin and origin.split("://", 1)[-1] != request.host:
        return web.json_response({"error": "cross-site request"}, status=403)
    return await handler(request)


# -- the page and the API ----------------------------------------------------------------------------
async def page(request: web.Request) -> web.Response:
    response = web.Response(text=request.app[PAGE], content_type="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                   "img-src 'self' data:; base-uri 'none'; form-action 'none'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
    if SESSION_COOKIE not in request.cookies:
        response.set_cookie(SESSION_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="Strict",
                            secure=request.secure, max_age=90 * 24 * 3600)
    return response


def _conversation(request: web.Request) -> ConversationKey:
    """The visitor's conversation: stored under a hash of their cookie (the cookie itself is never stored)."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if len(session) < 32:
        raise web.HTTPBadRequest(text=json.dumps({"error": texts.WEB_NO_SESSION}), content_type="application/json")
    visitor = hashlib.sha256(session.encode()).hexdigest()[:32]
    request_context.set_request(PLATFORM, visitor[:8], next(_requests))
    return ConversationKey(PLATFORM, visitor, visitor)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is not JSON"}),
                                 content_type="application/json") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is not a JSON object"}),
                                 content_type="application/json")
    return body


async def ask(request: web.Request) -> web.StreamResponse:
    key = _conversation(request)
    text = (await _json(request)).get("text")
    if not isinstance(text, str):
        return web.json_response({"error": "text must be a string"}, status=400)
    events = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                         "X-Accel-Buffering": "no"})
    await events.prepare(request)
    try:
        await Answering(request.app[CORE], key, events).run(text)
        await events.write_eof()
    except ConnectionResetError:  # the visitor closed the page: the answer stops (nothing half of it is stored)
        log.info("web visitor left before the answer ended")
    return events


class Answering:
    """One question of one visitor, answered as server-sent events."""

    def __init__(self, core: BotCore, key: ConversationKey, events: web.StreamResponse) -> None:
        self.core = core
        self.key = key
        self.events = events

    async def send(self, event: str, data: dict[str, Any]) -> None:
        await self.events.write(f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode())

    async def run(self, text: str) -> None:
        core = self.core
        if core.in_flight.stopping:
            return await self.send("reply", {"text": texts.SHUTTING_DOWN})
        gate = await core.gate(PLATFORM, self.key.user_id, text)
        if gate is not Gate.OK:
            return await self.send("reply", {"text": texts.gate_reply(gate, core.max_message_chars)})
        if not core.has_room(PLATFORM):
            return await self.send("reply", {"text": texts.BUSY})
        async with core.in_flight.track(lambda: self.send("reply", {"text": texts.SHUTTING_DOWN})):
            try:
                await self._answer(text)
            except GeneratorBusy:
                await self.send("reply", {"text": texts.BUSY})
            except (ConnectionResetError, asyncio.CancelledError):
                raise  # the visitor left (the model is stopped), or the service is stopping
            except Exception:
                log.exception("web question could not be answered")
                await self.send("reply", {"text": texts.ERROR})
        return None

    async def _answer(self, text: str) -> None:
        if ahead := self.core.questions_ahead():
            await self.send("notice", {"text": texts.queued(ahead)})
        async for item in in_thread(self.core.stream(self.key, text), self.core.answer_pool):
            if isinstance(item, Answer):
                await self.send("done", {
                    "text": item.text, "status": item.status,
                    "sources": [{"url": s.url, "title": s.title} for s in item.sources],
                    "message_id": item.message_id if self.core.wants_feedback(item) else None})
            else:
                await self.send("delta", {"text": item})


async def feedback(request: web.Request) -> web.Response:
    key = _conversation(request)
    body = await _json(request)
    message_id, value = body.get("message_id"), body.get("value")
    if type(message_id) is not int or value not in (1, -1):
        return web.json_response({"error": "message_id (an integer) and value (1 or -1) are needed"}, status=400)
    stored = await asyncio.to_thread(request.app[CORE].feedback, message_id, key, value)
    return web.json_response({"stored": stored, "text": texts.FEEDBACK_THANKS if stored else texts.FEEDBACK_GONE})


async def reset(request: web.Request) -> web.Response:
    key = _conversation(request)
    await asyncio.to_thread(request.app[CORE].reset, key)
    return web.json_response({"text": texts.RESET_DONE})


async def history(request: web.Request) -> web.Response:
    key = _conversation(request)
    turns = await asyncio.to_thread(request.app[CORE].history, key)
    return web.json_response({"turns": [{"role": t.role, "text": t.content} for t in turns]})


# -- transport --------------------------------------------------------------------------------------
async def start(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("web chat on http://%s:%s/", host, port)
    return runner


async def serve(app: web.Application, settings: Settings, in_flight: InFlight) -> None:
    """Serve the page until cancelled; then stop taking questions, let answers in progress finish (up to
    SHUTDOWN_GRACE_SECONDS; the rest are told to ask again) and close."""
    runner = await start(app, settings.web_host, settings.web_port)
    try:
        await asyncio.Event().wait()
    finally:
        await in_flight.drain(settings.shutdown_grace_seconds)
        await runner.cleanup()


build = build_app
