"""The one core every chat adapter calls (its façade): gatekeeping, answers, conversation commands,
feedback, refresh.

Adapters translate platform events into these calls and render what comes back; they import only from
``bot`` (this module re-exports the types they need) and never touch the model, the vector store or SQL.
Everything here is synchronous and may be slow (model work, crawling): adapters run it in a worker
thread, never on their event loop; answers in the core's ``answer_pool``, after ``has_room`` let them in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from bot.in_flight import InFlight
from bot.metrics import Metrics
from rag.chat import Answer, ChatService, final_answer
from rag.generator import GeneratorBusy
from rag.indexer import RefreshError, RefreshReport
from rag.text import printable
from storage.conversations import ConversationKey, ConversationStore, Turn

__all__ = ["Answer", "BotCore", "ConversationKey", "Gate", "GeneratorBusy", "Metrics", "RateLimit", "RefreshOutcome",
           "RefreshReport", "RefreshRun", "RefreshStart", "RefreshTicket", "Turn"]

log = logging.getLogger(__name__)

MAX_ROW_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL (bigint) can store


class Gate(Enum):
    """Whether a message may go on to the model."""

    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"


class RefreshStart(Enum):
    STARTED = "started"
    REFUSED = "refused"
    BUSY = "busy"


@dataclass(frozen=True)
class RefreshRun:
    """Who started a refresh, from where, and when."""

    platform: str
    user_id: str
    started_at: datetime


@dataclass(frozen=True)
class RefreshOutcome:
    """How a finished refresh ended: its report, or the error that stopped it (the previous index stays)."""

    run: RefreshRun
    finished_at: datetime
    report: RefreshReport | None = None
    error: str | None = None


@dataclass(frozen=True)
class RefreshTicket:
    """The outcome of a refresh request; ``report`` resolves when a started refresh ends; ``running`` is the
    refresh this request started, or the one already under way when it was told it is busy."""

    start: RefreshStart
    report: Future[RefreshReport] | None = None
    running: RefreshRun | None = None


@dataclass(frozen=True)
class RateLimit:
    """Messages a user may send (``limits`` notation, e.g. "6/minute") and where the counts live."""

    rate: str
    storage_uri: str


class BotCore:
    def __init__(self, chat: ChatService, conversations: ConversationStore, refresh: Callable[[], RefreshReport], *,
                 max_message_chars: int, rate_limit: RateLimit, max_answers: int,
                 metrics: Metrics | None = None) -> None:
        self.chat = chat
        self.conversations = conversations
        self.run_refresh = refresh
        self.max_message_chars = max_message_chars
        self.metrics = metrics or Metrics()
        self.in_flight = InFlight()
        self.max_answers = max_answers
        # one thread for every answer let in: past admission nothing waits for a thread, only for the model
        self.answer_pool = ThreadPoolExecutor(max_workers=max_answers, thread_name_prefix="answer")
        self._rate = parse(rate_limit.rate)
        storage = rate_limit.storage_uri if rate_limit.storage_uri.startswith("async+") else \
            f"async+{rate_limit.storage_uri}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage))
        self._refresh_lock = threading.Lock()
        self._refresh_running: RefreshRun | None = None
        self._refresh_last: RefreshOutcome | None = None
        self._refresh_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refresh")

    # -- questions -------------------------------------------------------------------------------
    async def gate(self, platform: str, user_id: str, text: str) -> Gate:
        """Check a message before any model work; a passing message counts against the rate limit (through
        the limiter's async API: a Redis-backed limit never blocks the adapters' event loop)."""
        screened = self.screen(text)
        if screened is not Gate.OK:
            return screened
        if not await self._limiter.hit(self._rate, platform, user_id):
            return Gate.RATE_LIMITED
        return Gate.OK

    def screen(self, text: str) -> Gate:
        """What the text alone says of a message: nothing a reader would see, too long, or fine."""
        if not printable(text).strip():  # zero-width and control characters only
            return Gate.EMPTY
        if len(text) > self.max_message_chars:
            return Gate.TOO_LONG
        return Gate.OK

    def has_room(self, platform: str) -> bool:
        """Whether one more answer may start now (at most ``max_answers`` in progress, waiting or generating);
        when not, the caller sends the busy reply, which is counted here."""
        if len(self.in_flight) < self.max_answers:
            return True
        log.info("%s question turned away: %d answers in progress", platform, len(self.in_flight))
        self.metrics.busy.labels(platform).inc()
        return False

    def ignored(self, platform: str, reason: str) -> None:
        """A request ignored by design (e.g. a button value the app never wrote): logged at INFO, counted."""
        log.info("%s request ignored: %s", platform, reason)
        self.metrics.ignored.labels(platform, reason).inc()

    def answer(self, key: ConversationKey, text: str) -> Answer:
        return final_answer(self.stream(key, text))

    def stream(self, key: ConversationKey, text: str) -> Iterator[str | Answer]:
        """Text deltas of the answer as they are generated, then the ``Answer`` (counted in the metrics)."""
        self.metrics.questions.labels(key.platform).inc()
        for item in self.chat.stream(key, text):
            if isinstance(item, Answer):
                self.metrics.answered(key.platform, item)
            yield item

    def questions_ahead(self) -> int:
        """How many answers come before a question being answered now: those the model is working on or has
        admitted, or all the others in progress (still retrieving), whichever is more."""
        return max(int(self.metrics.generations()), len(self.in_flight) - 1)

    @staticmethod
    def wants_feedback(answer: Answer) -> bool:
        """Whether the 👍/👎 buttons go under an answer (a stored answer or "not found", not a refusal)."""
        return answer.message_id is not None and answer.status in ("answered", "no_answer")

    # -- conversation commands ---------------------------------------------------------------------
    def history(self, key: ConversationKey, max_messages: int = 20) -> list[Turn]:
        """The conversation's last messages, oldest first (what a chat window shows when it is opened again)."""
        return self.conversations.history(key, max_messages)

    def reset(self, key: ConversationKey) -> int:
        return self.chat.reset(key)

    def forget(self, platform: str, user_id: str) -> int:
        removed = self.chat.forget(platform, user_id)
        log.info("forgot %s user data rows on %s", removed, platform)
        return removed

    def feedback(self, message_id: int, key: ConversationKey, value: int) -> bool:
        """Store a vote on an answer given in ``key``'s chat; False when that answer is no longer stored (or
        never was: an id no database row can have is refused before any query)."""
        if not 0 < message_id <= MAX_ROW_ID:
            return False
        stored = self.conversations.record_feedback(message_id, key.platform, key.chat_id, key.user_id, value)
        if stored:
            self.metrics.feedback.labels("up" if value > 0 else "down").inc()
        return stored

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete conversations idle past the retention period (with their messages and feedback) and the
        event ids recorded for de-duplication past theirs; audited and counted. Returns the conversations."""
        removed = self.conversations.purge_expired(now)
        events = self.conversations.purge_processed_events(now)
        self.metrics.retention_deletions.inc(removed)
        self.metrics.processed_event_deletions.inc(events)
        self.conversations.audit("service", "retention", "purge", "done",
                                 f"{removed} conversations and {events} processed event ids deleted")
        log.info("retention sweep: %d idle conversations and %d old event ids deleted", removed, events)
        return removed

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """True the first time a platform event id is seen (kept in the database: holds across restarts)."""
        return self.conversations.first_delivery(platform, event_id)

    def knows_chat(self, platform: str, chat_id: str) -> bool:
        """Whether the bot already holds a conversation in this chat (e.g. a Slack thread it answered in)."""
        return self.conversations.has_chat(platform, chat_id)

    # -- admin refresh -----------------------------------------------------------------------------
    def request_refresh(self, platform: str, user_id: str, *, admin: bool,
                        on_done: Callable[[Future[RefreshReport]], None] | None = None) -> RefreshTicket:
        """Start a refresh of the index in the background (answers go on meanwhile); audited."""
        audit = self.conversations.audit
        if not admin:
            audit(platform, user_id, "refresh", "refused")
            self.metrics.refreshes.labels("refused").inc()
            log.warning("refresh refused for %s user %s (not an admin)", platform, user_id)
            return RefreshTicket(RefreshStart.REFUSED)
        run = RefreshRun(platform, user_id, datetime.now(UTC))
        with self._refresh_lock:
            running = self._refresh_running
            if running is None:
                self._refresh_running = run
        if running is not None:
            audit(platform, user_id, "refresh", "busy")
            self.metrics.refreshes.labels("busy").inc()
            return RefreshTicket(RefreshStart.BUSY, running=running)
        audit(platform, user_id, "refresh", "started")
        future = self._refresh_pool.submit(self._refresh, run)
        if on_done:
            future.add_done_callback(on_done)
        return RefreshTicket(RefreshStart.STARTED, future, running=run)

    def refresh_state(self) -> tuple[RefreshRun | None, RefreshOutcome | None]:
        """The refresh running now (if any) and how the last one ended (if any)."""
        with self._refresh_lock:
            return self._refresh_running, self._refresh_last

    def _refresh(self, run: RefreshRun) -> RefreshReport:
        outcome = RefreshOutcome(run, run.started_at, error="interrupted")
        try:
            report = self.run_refresh()
            outcome = RefreshOutcome(run, datetime.now(UTC), report=report)
        except Exception as exc:
            outcome = RefreshOutcome(run, datetime.now(UTC), error=str(exc)[:500] or type(exc).__name__)
            log.error("refresh requested by %s user %s failed: %s", run.platform, run.user_id, outcome.error,
                      exc_info=not isinstance(exc, RefreshError))  # an expected failure is one line
            raise
        finally:
            try:
                self._record_refresh(outcome)
            finally:
                with self._refresh_lock:
                    self._refresh_running, self._refresh_last = None, outcome
        return report

    def _record_refresh(self, outcome: RefreshOutcome) -> None:
        status = "done" if outcome.report else "failed"
        detail = str(outcome.report.counts()) if outcome.report else outcome.error or ""
        self.conversations.audit(outcome.run.platform, outcome.run.user_id, "refresh", status, detail)
        self.metrics.refreshes.labels(status).inc()

    def close(self) -> None:
        self.answer_pool.shutdown(wait=False, cancel_futures=True)
        self._refresh_pool.shutdown(wait=True, cancel_futures=True)
