"""The llama.cpp backend with the real GGUF (Qwen2.5-Coder 1.5B from its PyPI parts) over the fixture site,
whatever backend ``auto`` picks on this CPU: a grounded answer with its source, an unknown question
declined, streaming equal to the final text, and a full queue refused at once with the polite reply."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.core import GeneratorBusy
from rag.chat import Answer
from rag.hardware import llamacpp_unavailable_reason
from rag.llamacpp import LlamaCppChatModel
from rag.units import unit_texts
from storage.conversations import ConversationKey
from tests import fixture_site
from tests.conftest import local_model
from tuyabot.components import Components

pytestmark = [pytest.mark.llm,
              pytest.mark.skipif(bool(llamacpp_unavailable_reason()), reason=llamacpp_unavailable_reason())]
C = fixture_site.CANONICAL
LLM = "qwen2.5-coder-1.5b-instruct-q4km"
ANA = ConversationKey("test", "chat", "ana")


@pytest.fixture(scope="module")
def llamacpp_model(models_dir: Path) -> LlamaCppChatModel:
    """The GGUF on llama.cpp, loaded once for the module, with a queue of one answer."""
    model = local_model(models_dir, LLM, llm_backend="llamacpp", llm_queue_size=1)
    assert isinstance(model, LlamaCppChatModel)
    yield model
    model.close()


@pytest.fixture
def bot(bot_components, llamacpp_model: LlamaCppChatModel) -> Components:  # type: ignore[no-untyped-def]
    return bot_components(llamacpp_model, llm_model=LLM, llm_backend="llamacpp", llm_queue_size=1,
                          llm_max_new_tokens=200)


def test_a_grounded_answer_with_its_source_and_the_stream_is_the_answer(bot: Components) -> None:
    assert isinstance(bot.generator, LlamaCppChatModel)
    items = list(bot.chat.stream(ANA, "¿Cuál es la tasa efectiva anual de la Tarjeta Bajo Monto?"))
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.status == "answered", answer.text
    assert "45,33333" in answer.text
    assert f"{C}/tarjeta" in [s.url for s in answer.sources]
    assert "".join(i for i in items[:-1] if isinstance(i, str)).strip() == answer.text


def test_an_unknown_question_is_declined_with_tuyas_line(bot: Components) -> None:
    unknown = bot.chat.answer(ANA, "¿Ejemplo ofrece seguros para mascotas?")
    assert unknown.status in ("no_answer", "out_of_scope"), unknown.text
    assert unknown.sources == [] and "TUYA" in unknown.text


def test_a_full_queue_is_refused_at_once_with_the_polite_reply(bot: Components) -> None:
    model = bot.generator
    started, release = threading.Event(), threading.Event()

    def long_answer() -> None:
        for _ in model.bind(max_tokens=64).stream([("human", "Cuenta del 1 al 50 separando con comas.")]):
            started.set()
            release.wait(timeout=60)

    worker = threading.Thread(target=long_answer)
    worker.start()
    try:
        assert started.wait(timeout=120)
        with pytest.raises(GeneratorBusy):  # queue of 1, taken: refused without waiting
            bot.core.answer(ANA, "¿Cuál es la tasa efectiva anual de la Tarjeta Bajo Monto?")
    finally:
        release.set()
        worker.join(timeout=120)
    assert bot.core.answer(ANA, "¿La Tarjeta Oro sirve fuera de Colombia?").status == "answered"


def model_keeping_states(base: LlamaCppChatModel, state_dir: Path) -> LlamaCppChatModel:
    """Another instance of the module's GGUF (as after a restart) keeping unit states in ``state_dir``."""
    return LlamaCppChatModel(model_path=base.model_path, threads=base.threads, context_tokens=base.context_tokens,
                             lookup_tokens=base.lookup_tokens, time_limit_seconds=base.time_limit_seconds,
                             queue_size=1, max_tokens=200, name=base.name, state_dir=str(state_dir))


def test_each_unit_is_read_once_and_a_restart_reads_none_again(bot_components, llamacpp_model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    states = tmp_path / "unit-state"
    first = model_keeping_states(llamacpp_model, states)
    kb = bot_components(first, llm_model=LLM, llm_backend="llamacpp", llm_max_new_tokens=200)
    units = len(unit_texts(kb.store.all_chunks()))
    report = kb.keep_unit_states()
    assert report is not None and (report.computed, report.kept, report.removed) == (units, 0, 0)
    assert len(list(states.glob("*.state"))) == units
    answer = kb.chat.answer(ConversationKey("test", "c1", "ana"),
                            "¿Cuál es la tasa efectiva anual de la Tarjeta Bajo Monto?")
    assert answer.status == "answered" and "45,33333" in answer.text, answer.text
    assert 0 < first.last_stats.prompt_tokens < 60  # the question's tokens only, not the rules and the unit
    first.close()

    restarted = model_keeping_states(llamacpp_model, states)
    kb.__dict__["generator"] = restarted
    kb.__dict__.pop("chat", None)
    again = kb.keep_unit_states()
    assert again is not None and (again.computed, again.kept, again.removed) == (0, units, 0)
    answer = kb.chat.answer(ConversationKey("test", "c2", "luis"),
                            "¿Cuánto cuesta la cuota de manejo de la Tarjeta Oro?")
    assert answer.status == "answered" and "15.900" in answer.text, answer.text
    assert 0 < restarted.last_stats.prompt_tokens < 60  # the first question after the restart
    (states / "stale.state").write_bytes(b"from a unit the index no longer holds")
    assert restarted.keep_states([]).removed == units + 1 and not list(states.glob("*.state"))
    lazy = kb.keep_unit_states(compute=False)  # as at a service's start on an index built without states
    assert lazy is not None and (lazy.computed, lazy.kept) == (0, 0)
    answer = kb.chat.answer(ConversationKey("test", "c3", "eva"), "¿Cuál es la tasa efectiva anual de la Tarjeta Oro?")
    assert answer.status == "answered" and "28,11111" in answer.text, answer.text
    assert len(list(states.glob("*.state"))) == 1  # computed at its first question, kept for the next
    restarted.close()
