"""A Telegram Bot API on loopback for tests: the npm emulator `telegram-test-api` 4.2.1 plus our compat layer.

The emulator (tests/emulators/telegram, installed by .ci/install with `npm ci`) plays Telegram's
servers: simulated users post messages through its client API, the bot reads them with getUpdates
or receives them on its webhook. Version 4.2.1 has gaps that python-telegram-bot 22 trips over, so
the bot talks to it through ``CompatProxy``, a small HTTP proxy of ours that:

- adds ``is_bot`` to getMe; turns the millisecond ``date`` of sent messages into seconds;
- answers sendChatAction / setMyCommands itself (the emulator answers 500) and returns the
  edited message from editMessageText (the emulator returns null);
- adds ``chat_instance`` to callback-query updates;
- holds getUpdates for up to a second while nothing is new (the emulator ignores ``timeout``);
- relays webhook calls to the bot with the ``X-Telegram-Bot-Api-Secret-Token`` header the
  emulator does not send.

It records every Bot API call the bot makes (method and parameters): the emulator neither enforces
the 4096-character limit nor validates HTML, so tests assert on these recorded requests.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

EMULATOR_DIR = Path(__file__).parent / "emulators" / "telegram"
BOT_ID = 666  # the emulator's getMe
BOT_USERNAME = "TestNameBot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """The node process of telegram-test-api on a free loopback port."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise RuntimeError("the Telegram emulator is not installed: run `npm ci --prefix tests/emulators/telegram`"
                               " (done by .ci/install)")
        self.port = free_port()
        self.process = subprocess.Popen([node, str(EMULATOR_DIR / "start.js"), str(self.port)],
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.strip():
            raise RuntimeError("the Telegram emulator did not start")
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Webhook:
    url: str
    secret: str | None


@dataclass
class CompatState:
    emulator: str
    calls: list[Call] = field(default_factory=list)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    faults: dict[str, list[str]] = field(default_factory=dict)  # method -> faults its next calls meet
    empty_polls: int = 0  # getUpdates calls that found nothing new: the bot had fetched every update before


SLOW_RESPONSE_SECONDS = 6.0  # past python-telegram-bot's default read timeout (5 s)
ANSWERED_HERE = {"sendChatAction", "setMyCommands", "deleteMyCommands", "setChatMenuButton"}


class CompatProxy:
    """Our compatibility layer between python-telegram-bot and the emulator (see the module docstring)."""

    def __init__(self, emulator: Emulator) -> None:
        self.state = CompatState(emulator.url)
        handler = type("Handler", (_ProxyHandler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.state.relay_base = self.url  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        """What the bot uses as TELEGRAM_API_BASE_URL."""
        return f"{self.url}/bot"

    def flood(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get 429 with retry_after 1, as Telegram's flood control does."""
        self.fail(method, *["429"] * times)

    def fail(self, method: str, *faults: str) -> None:
        """The next calls of ``method`` meet these faults, one each: "429" (flood control), "502" (Telegram's
        gateway fails; nothing done), or "slow" (done, but the response comes after the bot's read timeout).
        Each is recorded as a call named ``method!fault``."""
        with self.state.changed:
            self.state.faults[method] = list(faults)

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self.state.changed:
            return [c for c in self.state.calls if (method is None or c.method == method)
                    and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def polls_seen(self) -> int:
        with self.state.changed:
            return self.state.empty_polls

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 60.0) -> list[Call]:
        """Block until the recorded calls satisfy ``predicate``; returns them."""
        deadline = time.monotonic() + timeout
        with self.state.changed:
            while not predicate(self.state.calls):
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [(c.method, c.params.get("text", "")[:60]) for c in self.state.calls[-10:]]
                    raise AssertionError(f"timed out; last calls: {methods}")
                self.state.changed.wait(left)
            return list(self.state.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    state: CompatState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.strip("/").split("/")
        if parts[0] == "relay":
            self._reply(*self._relay(parts[1], body))
            return
        token, method = parts[0][len("bot"):], parts[1]
        params = _params(body, self.headers.get("Content-Type", ""))
        fault = self._fault(method, params)
        if fault == "429":
            self._reply(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                              "parameters": {"retry_after": 1}})
            return
        if fault == "502":
            self._reply(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
            return
        try:
            data = self._bot_call(token, method, dict(params))
        except httpx.TransportError as exc:  # the emulator went away (end of the test module)
            self._reply(502, {"ok": False, "description": str(exc)})
            return
        with self.state.changed:
            if method != "getUpdates":
                self.state.calls.append(Call(method, params, data.get("result")))
            elif not data.get("result"):
                self.state.empty_polls += 1
            self.state.changed.notify_all()
        if fault == "slow":
            time.sleep(SLOW_RESPONSE_SECONDS)  # the fault asked for: answered after the bot's read timeout
        self._reply(200, data)

    def _fault(self, method: str, params: dict[str, Any]) -> str | None:
        """The fault this call meets, if the test asked for one (recorded)."""
        with self.state.changed:
            faults = self.state.faults.get(method)
            if not faults:
                return None
            fault = faults.pop(0)
            self.state.calls.append(Call(f"{method}!{fault}", params, None))
            self.state.changed.notify_all()
            return fault

    def _bot_call(self, token: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in ANSWERED_HERE:
            return {"ok": True, "result": True}
        if method == "setWebhook":
            self.state.webhooks[token] = Webhook(params["url"], params.get("secret_token"))
            params = {"url": f"{self.state.relay_base}/relay/{token}"}  # type: ignore[attr-defined]
        if method == "getUpdates":
            return self._updates(token, float(params.get("timeout") or 0))
        data = self._forward(token, method, params)
        result = data.get("result")
        if method == "getMe" and isinstance(result, dict):
            result.update(is_bot=True, can_join_groups=True, can_read_all_group_messages=False,
                          supports_inline_queries=False)
        elif method == "sendMessage" and isinstance(result, dict):
            result["date"] = _seconds(result.get("date"))
        elif method == "editMessageText":
            data["result"] = {"message_id": int(params["message_id"]), "date": int(time.time()),
                              "chat": {"id": int(params["chat_id"]), "type": "private"}, "text": params["text"]}
        elif result is None and data.get("ok"):
            data["result"] = True
        return data

    def _forward(self, token: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.state.emulator}/bot{token}/{method}", json=params, timeout=10)
        return response.json()

    def _updates(self, token: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + min(timeout, 1.0)
        while True:
            data = self._forward(token, "getUpdates", {})
            if data.get("result") or time.monotonic() >= deadline:
                data["result"] = [_fix_update(u) for u in data.get("result") or []]
                return data
            time.sleep(0.05)  # getUpdates is a long poll: held while nothing is new (as Telegram does)

    def _relay(self, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
        hook = self.state.webhooks.get(token)
        if hook is None:
            return 404, {"ok": False}
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret} if hook.secret else {}
        response = httpx.post(hook.url, json=_fix_update(json.loads(body)), headers=headers, timeout=10)
        return response.status_code, {"ok": response.is_success}

    def _reply(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the bot stopped polling
            self.wfile.write(raw)


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    """Bot API parameters from a form or JSON body; JSON-encoded values (reply_markup...) decoded."""
    if not body:
        return {}
    if "json" in content_type:
        return json.loads(body)
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        try:
            params[key] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            params[key] = value
    return params


def _seconds(date: object) -> int:
    value = int(date) if isinstance(date, int | float) else int(time.time())
    return value // 1000 if value > 10**11 else value


def _fix_update(update: dict[str, Any]) -> dict[str, Any]:
    query = update.get("callback_query")
    if query is not None:
        query.setdefault("chat_instance", "compat")
        if isinstance(query.get("message"), dict):
            query["message"]["date"] = _seconds(query["message"].get("date"))
    return update


class User:
    """A simulated Telegram user posting through the emulator's client API."""

    def __init__(self, emulator: Emulator, token: str, user_id: int, *, chat_id: int | None = None,
                 chat_type: str = "private", name: str = "Ana") -> None:
        self.emulator, self.token, self.user_id = emulator, token, user_id
        self.chat_id = chat_id if chat_id is not None else user_id
        self.chat_type = chat_type
        self.sender = {"id": user_id, "is_bot": False, "first_name": name, "username": name.lower()}

    def _chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.chat_id, "type": self.chat_type}
        if self.chat_type != "private":
            chat["title"] = "Grupo de prueba"
        return chat

    def message(self, text: str | None = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"botToken": self.token, "from": self.sender, "chat": self._chat(),
                                   "date": int(time.time())}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message.update(extra)
        return message

    def send(self, text: str | None = None, **extra: Any) -> None:
        body = json.dumps(self.message(text, **extra))  # ASCII escapes: a lone surrogate travels as Telegram sends it
        httpx.post(f"{self.emulator.url}/sendMessage", content=body, timeout=10,
                   headers={"Content-Type": "application/json"}).raise_for_status()

    def mention(self, text: str) -> None:
        """A group message mentioning the bot at its start."""
        handle = f"@{BOT_USERNAME}"
        self.send(f"{handle} {text}", entities=[{"type": "mention", "offset": 0, "length": len(handle)}])

    def press(self, data: str, message_id: int) -> None:
        """Press an inline button with ``data`` under the bot's message ``message_id``."""
        message = {"message_id": message_id, "date": int(time.time()), "chat": self._chat(),
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"}, "text": "…"}
        payload = {"botToken": self.token, "from": self.sender, "message": message, "data": data}
        httpx.post(f"{self.emulator.url}/sendCallback", json=payload, timeout=10).raise_for_status()


class TelegramHTML(HTMLParser):
    """Checks a message against Telegram's HTML rules (our tags only, balanced) and collects its visible text."""

    ALLOWED: ClassVar[set[str]] = {"b", "i", "a", "code", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in self.ALLOWED, f"tag <{tag}> not allowed"
        if tag == "a":
            assert [name for name, _ in attrs] == ["href"], attrs
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def visible_text(html: str) -> str:
    assert not re.search(r"&(?!(amp|lt|gt|quot);)", html), "bare & in HTML"
    parser = TelegramHTML()
    parser.feed(html)
    parser.close()
    assert not parser.stack, f"unclosed {parser.stack}"
    return "".join(parser.visible)
