"""The served backend (LangChain's ChatOpenAI) over real HTTP: streamed deltas, a greedy bounded request,
errors and unreachable servers as GenerationError."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.generator import GenerationError, served_chat_model
from tests.chat_server import ChatServer


def model(url: str, *, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    return served_chat_model(url, "qwen", "sk-test", max_tokens=200, timeout=timeout, max_retries=0)


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer(["La tasa ", "es 26,27322%", "."])
    yield s
    s.close()


def test_streams_deltas_and_sends_a_greedy_bounded_request(server: ChatServer) -> None:
    gen = model(server.url)
    pieces = [c.content for c in gen.bind(max_tokens=50).stream([("human", "¿tasa?")]) if c.content]
    assert pieces == ["La tasa ", "es 26,27322%", "."]
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["stream"] is True and request["temperature"] == 0 and request["max_completion_tokens"] == 50
    assert gen.invoke([("human", "x")]).content == "La tasa es 26,27322%."


def test_server_errors_and_unreachable_servers_raise_generation_error() -> None:
    failing = ChatServer([], status=503)
    try:
        with pytest.raises(GenerationError, match="503"):
            model(failing.url).invoke([("human", "x")])
    finally:
        failing.close()
    with pytest.raises(GenerationError, match="unreachable"):
        model("http://127.0.0.1:9/v1", timeout=2).invoke([("human", "x")])
