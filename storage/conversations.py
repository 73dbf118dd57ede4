"""Conversation memory in SQL: per platform, chat and user; masked; bounded; forgettable.

Also the small records the chat adapters need around conversations: feedback on answers, audit
events of privileged actions, and processed platform events (de-duplication).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import Database
from storage.masking import mask
from storage.models import AuditEvent, Conversation, Feedback, Message, ProcessedEvent


@dataclass(frozen=True)
class ConversationKey:
    platform: str
    chat_id: str
    user_id: str


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


class HistoryUnavailable(RuntimeError):
    """The database cannot read or write the history now (locked, disk full, unreachable); says why."""


class ConversationStore:
    def __init__(self, db: Database, retention_days: int = 90, processed_event_days: int = 7) -> None:
        self.db = db
        self.retention_days = retention_days
        self.processed_event_days = processed_event_days

    def history(self, key: ConversationKey, max_messages: int = 6) -> list[Turn]:
        """The last ``max_messages`` messages, oldest first (``HistoryUnavailable`` when the database cannot
        be read)."""
        try:
            return self._history(key, max_messages)
        except OperationalError as exc:
            raise HistoryUnavailable(f"{type(exc.orig or exc).__name__}: {exc.orig or exc}") from exc

    def _history(self, key: ConversationKey, max_messages: int) -> list[Turn]:
        with self.db.session() as s:
            conv = self._find(s, key)
            if conv is None:
                return []
            rows = s.scalars(
                select(Message).where(Message.conversation_id == conv.id).order_by(Message.id.desc())
                .limit(max_messages)
            ).all()
            return [Turn(m.role, m.content) for m in reversed(rows)]

    def add_message(self, key: ConversationKey, role: str, content: str, *, status: str | None = None,
                    standalone_question: str | None = None, sources: list[str] | None = None) -> int:
        """Append a message (masked) and return its id."""
        return self._add(key, [Message(role=role, content=mask(content), status=status,
                                       standalone_question=mask(standalone_question) if standalone_question else None,
                                       sources_json=json.dumps(sources or []))])[-1]

    def add_exchange(self, key: ConversationKey, question: str, answer: str, *, status: str,
                     standalone_question: str | None, sources: list[str]) -> int:
        """Store a question and its answer in one transaction (both or neither); returns the answer's id.
        Raises ``HistoryUnavailable`` when the database cannot take them (locked, disk full, unreachable)."""
        messages = [Message(role="user", content=mask(question), sources_json="[]"),
                    Message(role="assistant", content=mask(answer), status=status, sources_json=json.dumps(sources),
                            standalone_question=mask(standalone_question) if standalone_question else None)]
        try:
            return self._add(key, messages)[-1]
        except OperationalError as exc:
            raise HistoryUnavailable(f"{type(exc.orig or exc).__name__}: {exc.orig or exc}") from exc

    def _add(self, key: ConversationKey, messages: list[Message]) -> list[int]:
        """Two processes may create the same user's conversation at once (replicas on one database): the loser's
        insert fails on the unique key, and its second attempt finds the winner's conversation."""
        try:
            return self._add_once(key, messages)
        except IntegrityError:
            for message in messages:
                message.id, message.conversation_id = None, None  # type: ignore[assignment]
            return self._add_once(key, messages)

    def _add_once(self, key: ConversationKey, messages: list[Message]) -> list[int]:
        now = datetime.now(UTC)
        with self.db.session() as s:
            conv = self._find(s, key)
            if conv is None:
                conv = Conversation(platform=key.platform, chat_id=key.chat_id, user_id=key.user_id,
                                    created_at=now, updated_at=now)
                s.add(conv)
                s.flush()
            conv.updated_at = now
            for message in messages:
                message.conversation_id, message.created_at = conv.id, now
                s.add(message)
            s.flush()
            return [message.id for message in messages]

    def has_chat(self, platform: str, chat_id: str) -> bool:
        """Whether any conversation exists in this chat (any user)."""
        with self.db.session() as s:
            found = s.scalars(select(Conversation.id).where(Conversation.platform == platform,
                                                            Conversation.chat_id == chat_id).limit(1)).first()
            return found is not None

    def reset(self, key: ConversationKey) -> int:
        """Clear one conversation; returns how many messages were deleted."""
        with self.db.session() as s:
            conv = self._find(s, key)
            if conv is None:
                return 0
            n = len(conv.messages)
            s.delete(conv)
            return n

    def forget_user(self, platform: str, user_id: str) -> int:
        """Delete everything stored about a user on a platform; returns how many rows went."""
        with self.db.session() as s:
            convs = s.scalars(select(Conversation).where(Conversation.platform == platform,
                                                         Conversation.user_id == user_id)).all()
            n = sum(len(c.messages) + 1 for c in convs)
            for c in convs:
                s.delete(c)
            n += s.execute(delete(Feedback).where(Feedback.user_id == f"{platform}:{user_id}")).rowcount or 0
            n += s.execute(delete(AuditEvent).where(AuditEvent.platform == platform,
                                                    AuditEvent.user_id == user_id)).rowcount or 0
            return n

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete conversations idle for longer than the retention period; returns how many."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        with self.db.session() as s:
            old = s.scalars(select(Conversation).where(Conversation.updated_at < cutoff)).all()
            for c in old:
                s.delete(c)
            return len(old)

    def purge_processed_events(self, now: datetime | None = None) -> int:
        """Forget platform event ids recorded more than ``processed_event_days`` ago (a platform redelivers an
        event within minutes, never days later); returns how many."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.processed_event_days)
        with self.db.session() as s:
            return s.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < cutoff)).rowcount or 0

    def record_feedback(self, message_id: int, platform: str, chat_id: str, user_id: str, value: int) -> bool:
        """Store a 👍 (+1) or 👎 (-1) on an answer given in that chat; a second press by the same user replaces
        the first. False when that answer is no longer stored there (reset, forgotten or expired)."""
        if value not in (1, -1):
            raise ValueError("feedback is +1 or -1")
        voter = f"{platform}:{user_id}"
        with self.db.session() as s:
            answer = s.scalars(select(Message.id).join(Conversation).where(
                Message.id == message_id, Message.role == "assistant", Conversation.platform == platform,
                Conversation.chat_id == chat_id)).first()
            if answer is None:
                return False
            existing = s.scalars(select(Feedback).where(Feedback.message_id == message_id,
                                                        Feedback.user_id == voter)).first()
            if existing:
                existing.value = value
            else:
                s.add(Feedback(message_id=message_id, user_id=voter, value=value))
            return True

    def feedback_for(self, message_id: int) -> list[int]:
        with self.db.session() as s:
            return list(s.scalars(select(Feedback.value).where(Feedback.message_id == message_id)))

    def audit(self, platform: str, user_id: str, action: str, outcome: str, detail: str = "") -> None:
        with self.db.session() as s:
            s.add(AuditEvent(platform=platform, user_id=user_id, action=action, outcome=outcome,
                             detail=mask(detail)))

    def audit_events(self, action: str | None = None) -> list[AuditEvent]:
        with self.db.session() as s:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if action:
                query = query.where(AuditEvent.action == action)
            return list(s.scalars(query))

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """Record an event id; True the first time it is seen, False for any redelivery."""
        try:
            with self.db.session() as s:
                s.add(ProcessedEvent(platform=platform, event_id=event_id))
            return True
        except IntegrityError:
            return False

    @staticmethod
    def _find(session, key: ConversationKey) -> Conversation | None:  # type: ignore[no-untyped-def]
        return session.scalars(select(Conversation).where(
            Conversation.platform == key.platform, Conversation.chat_id == key.chat_id,
            Conversation.user_id == key.user_id)).first()
