"""Conversation memory on a real SQLite file, through the Alembic-migrated schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from storage.conversations import ConversationKey, ConversationStore, Turn
from storage.db import Database
from storage.models import Message

ANA = ConversationKey("telegram", "chat-1", "ana")
LUIS = ConversationKey("telegram", "chat-1", "luis")


def store(tmp_path) -> ConversationStore:
    return ConversationStore(Database(f"sqlite:///{tmp_path / 'bot.db'}"), retention_days=30)


def test_history_is_bounded_ordered_and_per_user(tmp_path) -> None:
    s = store(tmp_path)
    for i in range(5):
        s.add_message(ANA, "user", f"pregunta {i}")
        s.add_message(ANA, "assistant", f"respuesta {i}")
    s.add_message(LUIS, "user", "hola")
    assert s.history(ANA, 4) == [Turn("user", "pregunta 3"), Turn("assistant", "respuesta 3"),
                                 Turn("user", "pregunta 4"), Turn("assistant", "respuesta 4")]
    assert s.history(LUIS) == [Turn("user", "hola")]


def test_history_survives_a_restart(tmp_path) -> None:
    s = store(tmp_path)
    s.add_message(ANA, "user", "¿Qué es CrediCompras?")
    s.db.close()
    again = store(tmp_path)  # a new process: new engine, migrations re-checked
    assert again.history(ANA) == [Turn("user", "¿Qué es CrediCompras?")]
    with again.db.engine.connect() as c:
        assert c.execute(text("select version_num from alembic_version")).scalar() == "0001"


def test_card_numbers_are_masked_in_what_is_stored(tmp_path) -> None:
    s = store(tmp_path)
    s.add_message(ANA, "user", "bloqueen mi tarjeta 4111 1111 1111 1111, cédula 1020304050")
    with s.db.session() as session:
        stored = session.scalars(select(Message.content)).one()
    assert "4111" not in stored.replace("****1111", "") and "1020304050" not in stored
    assert "[TARJETA ****1111]" in stored and "[DOCUMENTO]" in stored


def test_reset_forget_and_retention(tmp_path) -> None:
    s = store(tmp_path)
    s.add_message(ANA, "user", "uno")
    answer = s.add_message(ANA, "assistant", "dos")
    assert s.record_feedback(answer, "telegram", "chat-1", "ana", 1)
    s.add_message(ConversationKey("telegram", "chat-2", "ana"), "user", "otro chat")
    s.add_message(LUIS, "user", "de Luis")
    s.audit("telegram", "ana", "refresh", "refused")

    assert s.reset(ANA) == 2 and s.history(ANA) == []
    assert s.history(ConversationKey("telegram", "chat-2", "ana")) != []

    assert s.forget_user("telegram", "ana") > 0
    assert s.history(ConversationKey("telegram", "chat-2", "ana")) == []
    assert s.audit_events() == []
    assert s.history(LUIS) == [Turn("user", "de Luis")]

    assert s.purge_expired(datetime.now(UTC) + timedelta(days=31)) == 1
    assert s.history(LUIS) == []


def test_feedback_and_event_deduplication(tmp_path) -> None:
    s = store(tmp_path)
    answer = s.add_message(ANA, "assistant", "respuesta")
    assert s.record_feedback(answer, "telegram", "chat-1", "ana", 1)
    assert s.record_feedback(answer, "telegram", "chat-1", "ana", -1)
    assert s.record_feedback(answer, "telegram", "chat-1", "luis", 1)
    assert sorted(s.feedback_for(answer)) == [-1, 1]
    assert not s.record_feedback(answer, "telegram", "another-chat", "luis", 1)  # not an answer given there
    s.reset(ANA)
    assert not s.record_feedback(answer, "telegram", "chat-1", "ana", 1)  # that answer is gone
    assert s.first_delivery("slack", "Ev123") is True
    assert s.first_delivery("slack", "Ev123") is False
    assert store(tmp_path).first_delivery("slack", "Ev123") is False
