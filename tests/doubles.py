"""Test doubles that are real LangChain chat models (our own), for tests whose subject is not the model."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from rag.draft import looping
from rag.prompts import NOT_FOUND, REWRITE_SYSTEM


class ScriptedChatModel(BaseChatModel):
    """Answers every prompt with ``reply`` (streamed in ``pieces`` when given), and a follow-up's rewrite prompt
    with ``rewrite`` when given; records the prompts it was given (every message's text) and the bound
    ``max_tokens``. With ``hold_after`` set, an answer stops after that many pieces until ``release()``
    (``holding`` is set meanwhile: the test knows the model is generating, whatever the CPU)."""

    reply: str = ""
    pieces: list[str] = Field(default_factory=list)
    rewrite: str = ""
    prompts: list[str] = Field(default_factory=list)
    rewrite_prompts: list[str] = Field(default_factory=list)
    max_tokens_seen: list[int | None] = Field(default_factory=list)
    fail_with: Any = None
    fail_after: int | None = None  # a model that breaks mid-answer: raises after this many pieces
    hold_after: int | None = None
    only_from_context: bool = False  # answer NOT_FOUND when the reply is not in the prompt's context
    holding: threading.Event = Field(default_factory=threading.Event)
    released: threading.Event = Field(default_factory=threading.Event)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def release(self) -> None:
        self.released.set()

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        if self.fail_with is not None:
            raise self.fail_with
        if self.rewrite and messages[0].content == REWRITE_SYSTEM:
            self.rewrite_prompts.append("\n".join(str(m.content) for m in messages[1:]))
            yield ChatGenerationChunk(message=AIMessageChunk(content=self.rewrite))
            return
        self.prompts.append("\n\n".join(str(m.content) for m in messages))  # the context, then the question
        self.max_tokens_seen.append(kwargs.get("max_tokens"))
        if self.only_from_context and self.reply not in str(messages[0].content):
            yield ChatGenerationChunk(message=AIMessageChunk(content=NOT_FOUND))
            return
        for n, piece in enumerate(self.pieces or [self.reply]):
            if self.fail_after is not None and n >= self.fail_after:
                raise RuntimeError("the model broke mid-answer")
            if n == self.hold_after:
                self.holding.set()
                if not self.released.wait(120):
                    raise RuntimeError("the test never released the held answer")
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))


def no_model() -> ScriptedChatModel:
    """A model that fails the test if the pipeline calls it."""
    return ScriptedChatModel(fail_with=AssertionError("the model must not be called"))


VOCABULARY = ("la", "tarjeta", "oro", "tiene", "puntos", "compra", "cada", "beneficio", "avance", "efectivo", "correo",
              "aplicación", "cliente", "pago", "cuota", "manejo", "tasa", "anual", "comercio", "mundo", "viaje",
              "seguro", "plazo", "saldo", "extracto", "oficina", "línea", "atención", "horario", "canal", "débito",
              "banco", "aliado", "descuento", "regalo", "evento", "familia", "hogar", "crédito", "monto")


def unrepeated_text(paragraphs: int, sentences: int, markup: Sequence[str], *, piece_chars: int,
                    numbered: bool = False, vocabulary: Sequence[str] = VOCABULARY) -> str:
    """A long answer that never looks like a loop to the pipeline when streamed in pieces of ``piece_chars``
    (the first seed whose text passes the loop check at every piece): sentences of random words, each carrying
    one of ``markup`` in turn (each "{w}" in it becomes a random word), paragraphs numbered "1. ", "2. "... when
    asked. No figure of two or more digits (the pages hold none of them)."""
    for seed in range(100):
        text = _random_text(random.Random(seed), vocabulary, paragraphs, sentences, markup, numbered)
        if not any(looping(text[:end]) for end in range(piece_chars, len(text) + piece_chars, piece_chars)):
            return text
    raise AssertionError("no seed gives a text the loop check lets through")


def _random_text(rng: random.Random, vocabulary: Sequence[str], paragraphs: int, sentences: int,
                 markup: Sequence[str], numbered: bool) -> str:
    out = []
    for p in range(paragraphs):
        said = []
        for s in range(sentences):
            tag = re.sub(r"\{w\}", lambda _: rng.choice(vocabulary), markup[(p * sentences + s) % len(markup)])
            words = [rng.choice(vocabulary) for _ in range(9)]
            said.append(f"{' '.join(words[:4])} {tag} {' '.join(words[4:])}.".capitalize())
        out.append((f"{p + 1}. " if numbered else "") + " ".join(said))
    return "\n\n".join(out)


GROUNDED_PIECES = ["Sí, la Tarjeta Oro ", "es internacional y funciona ", "en comercios de ", "todo el mundo."]
FOLLOW_UP_REWRITE = "¿En qué ciudades puedo solicitar el Crédito Hogar?"


def grounded_model(**fields: Any) -> ScriptedChatModel:
    """A model streaming, in pieces, the fixture pages' own answer to "¿La Tarjeta Oro sirve fuera de Colombia?"
    (an answer that passes the grounding checks, whatever the CPU), and rewriting any follow-up as
    ``FOLLOW_UP_REWRITE``: the plumbing tests' model."""
    return ScriptedChatModel(pieces=list(GROUNDED_PIECES), rewrite=FOLLOW_UP_REWRITE, **fields)


def held_model(pieces: Sequence[str] = tuple(GROUNDED_PIECES)) -> ScriptedChatModel:
    """A model that streams its first piece, then waits until the test releases it (or 120 s pass)."""
    return ScriptedChatModel(pieces=list(pieces), hold_after=1)
