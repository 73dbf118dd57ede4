"""The in-process transformers generator: prompt lookup decoding changes the speed, never the text."""

from __future__ import annotations

from rag.generator import TransformersGenerator

QUOTE = [
    {"role": "system", "content": "Responde copiando la frase del texto."},
    {"role": "user", "content": "Texto: La tasa efectiva anual del Crédito Hogar es 26,27322% y el seguro cuesta "
                                "$3.143 por millón. ¿Cuál es la tasa efectiva anual del Crédito Hogar?"},
]


def test_prompt_lookup_streams_the_same_answer_as_plain_greedy_decoding(smollm: TransformersGenerator) -> None:
    assert smollm.prompt_lookup_tokens > 0  # the default drafts from the prompt
    drafted = list(smollm.stream(QUOTE, 48))
    plain = TransformersGenerator(smollm.model_ref, device="cpu", prompt_lookup_tokens=0)
    plain._loaded = smollm._loaded  # same weights: only the decoding differs
    undrafted = list(plain.stream(QUOTE, 48))
    assert "".join(drafted) == "".join(undrafted)
    assert "26,27322" in "".join(drafted)
    assert len(drafted) < len(undrafted)  # copied spans arrive several tokens at a time
