"""The answer cache: a question that means the same gets the kept answer at once, and nothing else does."""

from __future__ import annotations

import numpy as np

from rag.chat import ChatService
from storage.conversations import ConversationKey
from tests import fixture_site
from tests.doubles import GROUNDED_PIECES, ScriptedChatModel, grounded_model
from tuyabot.components import Components, chat_policy

ORO = "¿La Tarjeta Oro sirve fuera de Colombia?"


def cached_chat(kb: Components, model) -> ChatService:  # type: ignore[no-untyped-def]
    return ChatService(kb.retriever, model, kb.conversations, chat_policy(kb.settings), kb.answer_cache)


def cosine(kb: Components, a: str, b: str) -> float:
    return float(np.dot(kb.embedder.embed_query(a), kb.embedder.embed_query(b)))


def test_a_question_meaning_the_same_gets_the_kept_answer_without_the_model(site, kb: Components) -> None:
    kb.indexer.index(site[1])
    model = grounded_model()
    chat = cached_chat(kb, model)
    first = chat.answer(ConversationKey("test", "c1", "ana"), ORO)
    assert first.status == "answered" and first.text == "".join(GROUNDED_PIECES)
    assert "cache_hit" not in first.timings
    asked = len(model.prompts)
    same = "¿la tarjeta oro sirve fuera de colombia?"
    assert cosine(kb, ORO, same) >= kb.settings.answer_cache_min_similarity
    key = ConversationKey("test", "c2", "luis")
    again = chat.answer(key, same)
    assert again.timings.get("cache_hit") == 1.0 and len(model.prompts) == asked  # the model was not asked
    assert (again.status, again.text, again.sources) == ("answered", first.text, first.sources)
    assert [t.content for t in kb.conversations.history(key)] == [same, first.text]


def test_look_alike_questions_another_language_and_personal_data_are_never_served(site, kb: Components) -> None:
    kb.indexer.index(site[1])
    model = grounded_model()
    chat = cached_chat(kb, model)
    chat.answer(ConversationKey("test", "c1", "ana"), ORO)
    kept = kb.answer_cache.store.count()
    assert kept == 1
    other = "¿La Tarjeta Clásica tiene cuota de manejo?"
    assert cosine(kb, ORO, other) < kb.settings.answer_cache_min_similarity
    for n, question in enumerate([other, "Does the Tarjeta Oro work outside Colombia?"]):
        asked = len(model.prompts)
        answer = chat.answer(ConversationKey("test", f"x{n}", "luis"), question)
        assert "cache_hit" not in answer.timings and len(model.prompts) > asked, question
    personal = "Mi cédula es 1020304050, ¿la Tarjeta Oro sirve fuera de Colombia?"
    for n in range(2):  # neither kept nor served, however close it is to a kept question
        asked = len(model.prompts)
        answer = chat.answer(ConversationKey("test", f"p{n}", "eva"), personal)
        assert "cache_hit" not in answer.timings and len(model.prompts) > asked
    assert "1020304050" not in " ".join(r.question for r in [kb.answer_cache.store.nearest(
        kb.embedder.embed_query(ORO), "es")] if r)


def test_a_refresh_that_changes_the_page_drops_the_answers_drawn_from_it(site, kb: Components) -> None:
    s, base = site
    kb.indexer.index(base)
    model = grounded_model()
    chat = cached_chat(kb, model)
    chat.answer(ConversationKey("test", "c1", "ana"), ORO)
    hours = ScriptedChatModel(reply="Lunes a viernes de 7:00 am a 7:00 pm – Bloqueos de tarjeta las 24 horas.")
    assert cached_chat(kb, hours).answer(ConversationKey("test", "c2", "ana"), "¿Cuál es el horario de atención?"
                                         ).status == "answered"
    assert kb.answer_cache.store.count() == 2
    kb.refresh_index(base)  # nothing changed: both kept
    assert kb.answer_cache.store.count() == 2
    fixture_site.build_v2(s)  # the Tarjeta page's rates change
    kb.refresh_index(base)
    assert kb.answer_cache.store.count() == 1  # the Tarjeta Oro answer is gone, the other one stays
    asked = len(model.prompts)
    again = chat.answer(ConversationKey("test", "c3", "luis"), ORO)
    assert "cache_hit" not in again.timings and len(model.prompts) > asked
