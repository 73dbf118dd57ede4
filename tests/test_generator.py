"""The in-process transformers chat model: prompt lookup decoding changes the speed, never the text; it is a
LangChain chat model (chains, bound token limits, callbacks) behind a bounded queue."""

from __future__ import annotations

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from rag.generator import GeneratorBusy, TransformersChatModel

pytestmark = pytest.mark.llm

QUOTE = [
    ("system", "Responde copiando la frase del texto."),
    ("human", "Texto: La tasa efectiva anual del Crédito Hogar es 26,27322% y el seguro cuesta "
              "$3.143 por millón. ¿Cuál es la tasa efectiva anual del Crédito Hogar?"),
]


def test_prompt_lookup_streams_the_same_answer_as_plain_greedy_decoding(smollm: TransformersChatModel) -> None:
    assert smollm.prompt_lookup_tokens > 0  # the default drafts from the prompt
    drafted = [c.content for c in smollm.bind(max_tokens=48).stream(QUOTE)]
    plain = smollm.model_copy(update={"prompt_lookup_tokens": 0})  # same loaded weights: only decoding differs
    undrafted = [c.content for c in plain.bind(max_tokens=48).stream(QUOTE)]
    assert "".join(drafted) == "".join(undrafted)
    assert "26,27322" in "".join(drafted)
    assert len(drafted) < len(undrafted)  # copied spans arrive several tokens at a time


class Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: object) -> None:
        self.tokens.append(token)


def test_it_runs_in_a_chain_with_callbacks_and_a_bound_token_limit(smollm: TransformersChatModel) -> None:
    chain = ChatPromptTemplate.from_messages([("human", "Repite: {text}")]) | smollm.bind(max_tokens=5) \
        | StrOutputParser()
    seen = Tokens()
    text = chain.invoke({"text": "uno dos tres cuatro cinco seis siete ocho nueve diez"}, {"callbacks": [seen]})
    assert text and "".join(seen.tokens) == text
    tokenizer, _ = smollm.weights
    assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= 5


def test_a_full_queue_is_refused_at_once(smollm: TransformersChatModel) -> None:
    narrow = smollm.model_copy()
    narrow.model_post_init(None)  # its own queue
    narrow._queue._slots.acquire()  # the queue's slots are all taken
    for _ in range(smollm.queue_size - 1):
        narrow._queue._slots.acquire()
    with pytest.raises(GeneratorBusy):
        narrow.invoke(QUOTE)
