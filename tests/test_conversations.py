"""Conversation memory, feedback, audit and event de-duplication through the Alembic-migrated schema, each test on
a real SQLite file and on a real PostgreSQL database (a throwaway cluster on loopback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from storage.conversations import ConversationKey, ConversationStore, Turn
from storage.db import Database
from storage.models import Message

ANA = ConversationKey("telegram", "chat-1", "ana")
LUIS = ConversationKey("telegram", "chat-1", "luis")


def store(url: str) -> ConversationStore:
    return ConversationStore(Database(url), retention_days=30)


def test_history_is_bounded_ordered_and_per_user(database_url: str) -> None:
    s = store(database_url)
    for i in range(5):
        s.add_message(ANA, "user", f"pregunta {i}")
        s.add_message(ANA, "assistant", f"respuesta {i}")
    s.add_message(LUIS, "user", "hola")
    assert s.history(ANA, 4) == [Turn("user", "pregunta 3"), Turn("assistant", "respuesta 3"),
                                 Turn("user", "pregunta 4"), Turn("assistant", "respuesta 4")]
    assert s.history(LUIS) == [Turn("user", "hola")]


def test_history_survives_a_restart(database_url: str) -> None:
    s = store(database_url)
    s.add_message(ANA, "user", "¿Qué es CrediCompras?")
    s.db.close()
    again = store(database_url)  # a new process: new engine, migrations re-checked
    assert again.history(ANA) == [Turn("user", "¿Qué es CrediCompras?")]
    with again.db.engine.connect() as c:
        assert c.execute(text("select version_num from alembic_version")).scalar() == "0003"


def test_card_numbers_are_masked_in_what_is_stored(database_url: str) -> None:
    s = store(database_url)
    s.add_message(ANA, "user", "bloqueen mi tarjeta 4111 1111 1111 1111, cédula 1020304050")
    with s.db.session() as session:
        stored = session.scalars(select(Message.content)).one()
    assert "4111" not in stored.replace("****1111", "") and "1020304050" not in stored
    assert "[TARJETA ****1111]" in stored and "[DOCUMENTO]" in stored


def test_reset_forget_and_retention(database_url: str) -> None:
    s = store(database_url)
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


def test_feedback_and_event_deduplication(database_url: str) -> None:
    s = store(database_url)
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
    assert store(database_url).first_delivery("slack", "Ev123") is False


def test_the_sweep_forgets_event_ids_past_their_retention_only(database_url: str) -> None:
    s = store(database_url)  # processed event ids are kept 7 days by default
    assert s.first_delivery("slack", "Ev-old")
    assert s.purge_processed_events(datetime.now(UTC) + timedelta(days=6)) == 0
    assert s.first_delivery("slack", "Ev-old") is False  # a redelivery within the week is still caught
    assert s.purge_processed_events(datetime.now(UTC) + timedelta(days=8)) == 1
    assert s.first_delivery("slack", "Ev-old") is True  # forgotten: the table does not grow forever


def test_migrations_build_the_schema_the_models_describe_and_undo_it(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from storage.db import alembic_config
    from storage.models import Base

    db = Database(database_url)  # a fresh database: migrated to head on open
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    command.downgrade(alembic_config(database_url), "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(alembic_config(database_url), "head")
    assert {"conversations", "messages", "feedback", "processed_events"} <= set(inspect(db.engine).get_table_names())


def test_replicas_racing_on_one_event_answer_it_once_and_share_conversations(database_url: str) -> None:
    """Two service processes on one database (two engines here): each redelivered event is claimed by exactly
    one, and messages of one user arriving at both at once land in one conversation."""
    from concurrent.futures import ThreadPoolExecutor

    replicas = [store(database_url), store(database_url)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(lambda i: replicas[i % 2].first_delivery("slack", "Ev42"), range(8)))
        list(pool.map(lambda i: replicas[i % 2].add_message(ANA, "user", f"m{i}"), range(8)))
    assert claims.count(True) == 1
    assert sorted(t.content for t in replicas[0].history(ANA, 20)) == [f"m{i}" for i in range(8)]
