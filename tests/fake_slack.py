"""A local fake of Slack for tests (ours: no Slack emulator exists in the registries).

- The Web API: ``/api/<method>`` answers auth.test, chat.postMessage, chat.update, reactions.add and .remove,
  assistant.threads.setStatus, the streaming trio chat.startStream / appendStream / stopStream (a stream is
  refused once stopped, as Slack does), conversations.replies and apps.connections.open, and records every call
  with its arguments. A test can make the next calls of a method fail (``refuse``) or be rate limited.
- ``/response/<id>``: response_url posts (slash-command and button replies), recorded too.
- ``/socket``: a Socket Mode websocket that sends ``hello``, then whatever envelopes a test pushes,
  and records the SDK's acknowledgements.
Plus ``signed``: the headers of Slack's v0 request signature, to post events to the app as Slack does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_USER_ID = "UTUYABOT"
TEAM_ID = "T0001"


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.acks: list[dict[str, Any]] = []
        self.rate_limited: dict[str, int] = {}  # method -> how many more calls get 429
        self.refusals: dict[str, list[str]] = {}  # method -> the errors ("ok": false) its next calls get
        self.streaming: set[str] = set()  # the ts of messages being streamed
        self.changed = threading.Condition()
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/"

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, shutdown_timeout=2)  # a call the app leaves half-sent never holds a close
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def _record(self, method: str, args: dict[str, Any]) -> None:
        with self.changed:
            self.calls.append(SlackCall(method, args))
            self.changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if "json" in request.content_type and raw:
            args = json.loads(raw)
        else:
            args = {k: _maybe_json(v) for k, v in parse_qsl(raw, keep_blank_values=True)}
            args.update({k: _maybe_json(v) for k, v in request.query.items()})
        with self.changed:
            limited = self.rate_limited.get(method, 0) > 0
            if limited:
                self.rate_limited[method] -= 1
            refusal = self.refusals[method].pop(0) if self.refusals.get(method) else None
        if limited:  # Slack's rate limit: 429 with Retry-After (recorded)
            self._record(f"{method}!429", args)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
        if method in ("chat.appendStream", "chat.stopStream") and args.get("ts") not in self.streaming:
            refusal = refusal or "message_not_in_streaming_state"
        if refusal:
            self._record(f"{method}!{refusal}", args)
            if refusal == "stopped_by_user":
                self.streaming.discard(args.get("ts"))
            return web.json_response({"ok": False, "error": refusal})
        if method == "chat.startStream":
            args["_ts"] = f"{int(time.time())}.{next(self._ts):06d}"  # the new message's ts, recorded with it
            self.streaming.add(args["_ts"])
        self._record(method, args)
        result: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            result.update(url="https://tuya-test.slack.com/", team="Tuya", user="tuyabot", team_id=TEAM_ID,
                          user_id=BOT_USER_ID, bot_id="BTUYABOT", is_enterprise_install=False)
        elif method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            result.update(channel=args.get("channel"), ts=ts, message={"text": args.get("text"), "ts": ts})
        elif method == "chat.startStream":
            result.update(channel=args.get("channel"), ts=args["_ts"])
        elif method in ("chat.appendStream", "chat.stopStream"):
            result.update(channel=args.get("channel"), ts=args.get("ts"))
            if method == "chat.stopStream":
                self.streaming.discard(args.get("ts"))
        elif method == "conversations.replies":
            result.update(messages=[], has_more=False)
        elif method == "apps.connections.open":
            result.update(url=f"ws://127.0.0.1:{self.port}/socket")
        return web.json_response(result)

    async def _response_url(self, request: web.Request) -> web.Response:
        self._record("response_url", json.loads(await request.text() or "{}"))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"},
                            "connection_info": {"app_id": "A0001"}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                with self.changed:
                    self.acks.append(json.loads(message.data))
                    self.changed.notify_all()
        return ws

    def refuse(self, method: str, *errors: str) -> None:
        """The next calls of ``method`` get ``{"ok": false, "error": …}``, one error each (recorded as
        ``method!error``)."""
        with self.changed:
            self.refusals[method] = list(errors)

    def streamed_text(self, ts: str) -> str:
        """What a streamed message holds: the text its start, appends and stop carried, joined (as Slack shows it,
        entities unescaped)."""
        with self.changed:
            parts = [c.args.get("markdown_text") or "" for c in self.calls
                     if c.method in ("chat.startStream", "chat.appendStream", "chat.stopStream")
                     and ts in (c.args.get("ts"), c.args.get("_ts"))]
        return html.unescape("".join(parts))

    def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to every connected client."""
        async def send() -> None:
            for ws in self._sockets:
                await ws.send_json(envelope)
        asyncio.run_coroutine_threadsafe(send(), self.loop).result(10)

    def connected(self) -> bool:
        return bool(self._sockets)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; calls: {[(c.method, str(c.args)[:80]) for c in self.calls]}")
                self.changed.wait(min(left, 0.2))

    def of(self, method: str) -> list[SlackCall]:
        with self.changed:
            return [c for c in self.calls if c.method == method]

    def close(self) -> None:
        async def stop() -> None:
            for ws in self._sockets:
                await ws.close()
            await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def _maybe_json(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def signed(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends: v0 signature = HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
