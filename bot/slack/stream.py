"""One answer streamed into a Slack thread with Slack's streaming API for AI apps (chat.startStream,
chat.appendStream, chat.stopStream): the checked text appears as it is revealed, the sources and 👍/👎 buttons
come with the stop.

The stream starts at the answer's first text (a small first flush), then appends at most once every
``interval`` seconds. In a channel Slack needs the recipient's team and user ids, or the stream fails or
silently vanishes. What Slack refuses never costs the answer, and nothing is shown twice:
- the start refused (``ok: false``): the whole answer is posted once with chat.postMessage, as without streaming;
- an append or the stop refused mid-stream (the user pressed stop: ``stopped_by_user``; the stream expired:
  ``message_not_in_streaming_state``): what was not shown yet is posted once, with the sources and buttons;
- a 429 on an append: the Web API client waits out its Retry-After and sends it again (its retry handler).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import MESSAGE_TEXT_LIMIT, answer_messages, answer_tail, escape

log = logging.getLogger(__name__)

STREAM_GONE = frozenset({"message_not_in_streaming_state", "stopped_by_user", "message_not_found"})


async def post_answer(client: AsyncWebClient, channel: str, thread_ts: str | None, text: str,
                      sources: Sequence[tuple[str, str]], heading: str, feedback_value: str | None) -> None:
    """An answer (or what is left of one) posted whole: Block Kit messages, the sources and buttons under the last."""
    for message in answer_messages(text, sources, heading, feedback_value):
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                      **message)


class AnswerStream:
    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str, *, team_id: str | None,
                 user_id: str | None, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.team_id = team_id
        self.user_id = user_id
        self.interval = interval
        self.clock = clock
        self.ts: str | None = None  # the streamed message, once started
        self.broken = False  # Slack refused the start, or the stream went away: the rest is posted
        self.full = False  # the streamed message holds as much as one message should: the rest is posted
        self.finished = False
        self.shown = ""  # the answer text Slack has received
        self._shown_chars = 0  # len(escape(self.shown)): what the streamed message holds, as Slack counts it
        self._pending = ""
        self._sent_at = 0.0

    async def add(self, delta: str) -> None:
        """More checked answer text: started or appended now, or held until ``interval`` has passed."""
        self._pending += delta
        if self._shown_chars + len(escape(self._pending)) > MESSAGE_TEXT_LIMIT:
            self.full = True  # a very long answer: what does not fit one message follows in messages
        if self.broken or self.full or not self._pending.strip():
            return
        if self.ts is None:
            await self._start()
        elif self.clock() - self._sent_at >= self.interval:
            await self._append()

    async def finish(self, text: str, sources: Sequence[tuple[str, str]], heading: str,
                     feedback_value: str | None) -> None:
        """End the answer: the stream stopped with what is left of ``text`` and the sources and buttons, or (if
        Slack would not stream) the part not shown posted once."""
        self.finished = True
        rest = text[len(self.shown):] if text.startswith(self.shown) else text
        if self.ts is not None and not self.broken:
            last = "" if self.full else rest
            try:
                await self.client.chat_stopStream(channel=self.channel, ts=self.ts,
                                                  markdown_text=escape(last) if last.strip() else None,
                                                  blocks=None if self.full else answer_tail(sources, heading,
                                                                                            feedback_value))
                if not self.full:
                    return
            except SlackApiError as exc:
                self._gone(exc, "stop")
        await post_answer(self.client, self.channel, self.thread_ts, rest if rest.strip() else "", sources, heading,
                          feedback_value)

    async def abandon(self) -> None:
        """The answer failed or was cancelled after its stream began: stop the stream (what it shows stays), so
        that Slack does not show it as still being written; the caller then says what happened."""
        if self.ts is None or self.broken or self.finished:
            return
        self.finished = True
        try:
            await self.client.chat_stopStream(channel=self.channel, ts=self.ts)
        except Exception as exc:
            log.info("slack: could not stop an abandoned stream: %s", exc)

    async def _start(self) -> None:
        recipient: dict[str, Any] = {}
        if self.team_id and self.user_id:
            recipient = {"recipient_team_id": self.team_id, "recipient_user_id": self.user_id}
        text = self._pending
        try:
            started = await self.client.chat_startStream(channel=self.channel, thread_ts=self.thread_ts,
                                                         markdown_text=escape(text), **recipient)
        except SlackApiError as exc:
            log.warning("slack would not start a stream (%s): the answer is posted whole",
                        exc.response.get("error"))
            self.broken = True
            return
        self.ts = started["ts"]
        self._sent(text)

    async def _append(self) -> None:
        text = self._pending
        try:
            await self.client.chat_appendStream(channel=self.channel, ts=self.ts, markdown_text=escape(text))
        except SlackApiError as exc:
            self._gone(exc, "append")
            return
        self._sent(text)

    def _sent(self, text: str) -> None:
        self.shown += text
        self._shown_chars += len(escape(text))
        self._pending = ""
        self._sent_at = self.clock()

    def _gone(self, exc: SlackApiError, step: str) -> None:
        """The stream cannot take more: the rest goes in a message of its own. Any other refusal is raised."""
        error = exc.response.get("error")
        if error not in STREAM_GONE:
            raise exc
        log.info("slack stream ended by Slack at %s (%s): the rest of the answer is posted", step, error)
        self.broken = True
