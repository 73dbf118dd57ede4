"""Faults cost one reply, never the process, and lose no data: a model that breaks mid-answer, a database
that cannot be written (a real SQLite file locked by another writer)."""

from __future__ import annotations

import sqlite3

import pytest

from bot.core import ConversationKey
from tests.doubles import ScriptedChatModel

KEY = ConversationKey("telegram", "700", "700")
QUESTION = "¿La Tarjeta Oro sirve fuera de Colombia?"
REPLY = "Sí, la Tarjeta Oro es internacional y funciona en comercios de todo el mundo."


def test_a_model_that_breaks_mid_answer_costs_that_answer_only(bot_components) -> None:
    model = ScriptedChatModel(pieces=["Sí, la Tarjeta Oro ", "es internacional ", "y funciona."], fail_after=2)
    core = bot_components(model).core
    with pytest.raises(RuntimeError, match="broke mid-answer"):
        core.answer(KEY, QUESTION)  # the adapters turn this into their apology (tests in test_telegram/slack)
    assert core.conversations.history(KEY) == []  # the partial answer is not stored
    model.fail_after = None
    answer = core.answer(KEY, QUESTION)
    assert answer.status == "answered" and answer.message_id is not None
    assert [t.role for t in core.conversations.history(KEY)] == ["user", "assistant"]


def test_an_answer_is_still_given_when_the_history_cannot_be_written(bot_components, caplog) -> None:
    components = bot_components(ScriptedChatModel(reply=REPLY))
    core = components.core
    core.answer(KEY, "¿Qué es la Tarjeta Oro?")
    before = core.conversations.history(KEY)
    database = components.settings.resolved_database_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (readers still read: WAL)
    try:
        answer = core.answer(KEY, QUESTION)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert answer.status == "answered" and answer.text == REPLY  # the user still gets the answer...
    assert answer.message_id is None  # ...without feedback buttons: it is not stored
    assert core.conversations.history(KEY) == before  # nothing half-written (no question without its answer)
    assert "tuyabot_history_write_failures_total 1.0" in core.metrics.exposition().decode()
    assert any("could not store" in r.getMessage() and not r.exc_info for r in caplog.records)
    assert core.answer(KEY, QUESTION).message_id is not None  # the database is back: stored again
