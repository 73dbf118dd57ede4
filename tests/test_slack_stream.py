"""Streaming one answer into a Slack thread (bot/slack/stream.py) with the real Web API client against the fake
Slack API: what the user ends up seeing is the whole answer, once, whatever Slack refuses on the way."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterator

import pytest

from bot.slack.app import web_client
from bot.slack.stream import AnswerStream
from tests.fake_slack import FakeSlack

SOURCES = [("https://www.ejemplo.com.co/tarjeta", "Tarjeta <de> crédito & más")]
PIECES = ["La Tarjeta Oro ", "es internacional. ", "Funciona en ", "comercios de ", "todo el mundo & <más>."]
ANSWER = "".join(PIECES)


class Clock:
    """Time the test moves: the stream's "at most one append a second" read off it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slack_api() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def stream_answer(fake: FakeSlack, times: list[float], interval: float = 1.0) -> None:
    """Stream ``PIECES`` (the i-th at ``times[i]`` seconds), then finish with the sources and buttons."""
    async def run() -> None:
        clock = Clock()
        stream = AnswerStream(web_client("xoxb-test", fake.api_url), "C0001", "1700000000.000100",
                              team_id="T0001", user_id="UANA0001", interval=interval, clock=clock)
        for piece, at in zip(PIECES, times, strict=True):
            clock.now = at
            await stream.add(piece)
        await stream.finish(ANSWER, SOURCES, "Fuentes:", "42|C0001:1700000000.000100")
    asyncio.run(run())


def shown(fake: FakeSlack) -> str:
    """Everything the user sees: the streamed message's text, then any message posted after it (unescaped)."""
    streams = fake.of("chat.startStream")
    text = fake.streamed_text(streams[0].args["_ts"]) if streams else ""
    for post in fake.of("chat.postMessage"):
        text += "".join(html.unescape(b["text"]["text"]) for b in post.args["blocks"] if b["type"] == "section")
    return text


def test_the_first_text_starts_the_stream_then_at_most_one_append_a_second(slack_api: FakeSlack) -> None:
    stream_answer(slack_api, [0.0, 0.2, 0.5, 1.1, 1.3])
    methods = [c.method for c in slack_api.calls if c.method != "auth.test"]
    assert methods == ["chat.startStream", "chat.appendStream", "chat.stopStream"]  # at 0 s, 1.1 s, the end
    start, append, stop = slack_api.calls
    assert start.args["markdown_text"] == "La Tarjeta Oro "  # a small first flush, not a 256-character buffer
    assert (start.args["recipient_team_id"], start.args["recipient_user_id"]) == ("T0001", "UANA0001")
    assert append.args["markdown_text"] == "es internacional. Funciona en comercios de "
    assert stop.args["markdown_text"] == "todo el mundo &amp; &lt;más&gt;."  # escaped: nothing Slack would parse
    assert shown(slack_api) == ANSWER
    kinds = [b["type"] for b in stop.args["blocks"]]
    assert kinds == ["context", "actions"]
    assert "<https://www.ejemplo.com.co/tarjeta|Tarjeta &lt;de&gt; crédito &amp; más>" in str(stop.args["blocks"])


def test_a_start_slack_refuses_posts_the_whole_answer_once(slack_api: FakeSlack) -> None:
    slack_api.refuse("chat.startStream", "invalid_arguments")
    stream_answer(slack_api, [0.0, 0.2, 0.5, 1.1, 1.3])
    (post,) = slack_api.of("chat.postMessage")
    assert post.args["thread_ts"] == "1700000000.000100"
    assert shown(slack_api) == ANSWER and [b["type"] for b in post.args["blocks"]] == ["section", "context", "actions"]
    assert not slack_api.of("chat.appendStream") and not slack_api.of("chat.stopStream")


@pytest.mark.parametrize("error", ["stopped_by_user", "message_not_in_streaming_state"])
def test_a_stream_that_ends_mid_answer_gets_the_rest_once(slack_api: FakeSlack, error: str) -> None:
    slack_api.refuse("chat.appendStream", error)
    stream_answer(slack_api, [0.0, 1.0, 2.0, 3.0, 4.0])
    assert [c.method for c in slack_api.calls] == ["chat.startStream", f"chat.appendStream!{error}",
                                                   "chat.postMessage"]
    assert shown(slack_api) == ANSWER  # nothing lost, nothing doubled
    (post,) = slack_api.of("chat.postMessage")
    assert post.args["blocks"][0]["text"]["text"].startswith("es internacional.")
    assert [b["type"] for b in post.args["blocks"]][-2:] == ["context", "actions"]


def test_a_stop_slack_refuses_posts_the_rest_with_the_sources(slack_api: FakeSlack) -> None:
    slack_api.refuse("chat.stopStream", "message_not_in_streaming_state")  # it expired (about 5 minutes)
    stream_answer(slack_api, [0.0, 1.0, 2.0, 3.0, 3.5])
    assert shown(slack_api) == ANSWER
    (post,) = slack_api.of("chat.postMessage")
    assert post.args["blocks"][0]["text"]["text"] == "todo el mundo &amp; &lt;más&gt;."


def test_a_rate_limited_append_is_sent_again_after_the_wait(slack_api: FakeSlack) -> None:
    slack_api.rate_limited["chat.appendStream"] = 1  # 429 with Retry-After: 1
    stream_answer(slack_api, [0.0, 1.0, 2.0, 3.0, 4.0])
    assert len(slack_api.of("chat.appendStream!429")) == 1
    assert shown(slack_api) == ANSWER and not slack_api.of("chat.postMessage")
