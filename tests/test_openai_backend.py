"""The OpenAI-compatible backend over real HTTP: streamed deltas, errors, unreachable servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.generator import GenerationError, OpenAIGenerator
from tests.chat_server import ChatServer


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
