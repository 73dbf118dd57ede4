"""Test doubles that are real LangChain chat models (our own), for tests whose subject is not the model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """Answers every prompt with ``reply`` (streamed in ``pieces`` when given) and records the prompts
    it was given (the last message's text) and the bound ``max_tokens``."""

    reply: str = ""
    pieces: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)
    max_tokens_seen: list[int | None] = Field(default_factory=list)
    fail_with: Any = None

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        if self.fail_with is not None:
            raise self.fail_with
        self.prompts.append(str(messages[-1].content))
        self.max_tokens_seen.append(kwargs.get("max_tokens"))
        for piece in self.pieces or [self.reply]:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))


def no_model() -> ScriptedChatModel:
    """A model that fails the test if the pipeline calls it."""
    return ScriptedChatModel(fail_with=AssertionError("the model must not be called"))
