"""The OpenAI-compatible backend over real HTTP: streamed deltas, errors, unreachable servers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.generator import GenerationError, OpenAIGenerator


class ChatServer:
    """A loopback server speaking the chat-completions streaming protocol (our test double)."""

    def __init__(self, pieces: list[str], status: int = 200) -> None:
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if status != 200:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "overloaded"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in pieces:
                    chunk = {"choices": [{"delta": {"content": piece}, "index": 0}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer(["La tasa ", "es 26,27322%", "."])
    yield s
    s.close()


def test_streams_deltas_and_sends_a_greedy_bounded_request(server: ChatServer) -> None:
    gen = OpenAIGenerator(server.url, "qwen", api_key="sk-test")
    pieces = list(gen.stream([{"role": "user", "content": "¿tasa?"}], 50))
    assert pieces == ["La tasa ", "es 26,27322%", "."]
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["stream"] is True and request["temperature"] == 0 and request["max_tokens"] == 50
    assert gen.generate([{"role": "user", "content": "x"}], 5) == "La tasa es 26,27322%."


def test_server_errors_and_unreachable_servers_raise_generation_error() -> None:
    failing = ChatServer([], status=503)
    try:
        with pytest.raises(GenerationError, match="503"):
            OpenAIGenerator(failing.url, "qwen").generate([{"role": "user", "content": "x"}], 5)
    finally:
        failing.close()
    with pytest.raises(GenerationError, match="unreachable"):
        OpenAIGenerator("http://127.0.0.1:9/v1", "qwen", timeout=2).generate([{"role": "user", "content": "x"}], 5)
