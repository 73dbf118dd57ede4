"""Telegram HTML rendering and splitting, property-based: any text renders to valid, fitting parts."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.split import normalise, split_text
from bot.telegram.render import LIMIT, answer_parts, preview, text_parts, utf16_len
from tests.telegram_emulator import visible_text

SOURCES = [("https://www.ejemplo.com.co/tarjeta?a=1&b=2", "Tarjeta <Oro> & \"más\""),
           ("https://www.ejemplo.com.co/credito", "Crédito")]
texty = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12000)
words = st.lists(st.sampled_from(["Tarjeta", "<b>", "&amp;", "tasa", "28,1%.", "\n", "\n\n", " ", "😀", "ñandú",
                                  "<a href='x'>", "&", ">", "Sí.", "¿Qué?"]), max_size=3000).map("".join)


@settings(max_examples=150, deadline=None)
@given(st.one_of(texty, words))
@example("x" * 10000)
@example("😀" * 3000)
@example(("<&>" * 700 + "\n\n") * 4)
def test_any_text_renders_to_valid_parts_within_the_limit_that_rebuild_the_text(text: str) -> None:
    parts = text_parts(text)
    for part in parts:
        assert 0 < utf16_len(part) <= LIMIT
        assert visible_text(part).strip(), "a part would be an empty message"
    assert "".join(visible_text(p) for p in parts) == normalise(text)


@settings(max_examples=60, deadline=None)
@given(st.one_of(texty, words), st.integers(min_value=100, max_value=LIMIT))
def test_answers_with_sources_fit_any_limit_and_keep_every_link(text: str, limit: int) -> None:
    parts = answer_parts(text, SOURCES, "Fuentes:", limit)
    for part in parts:
        assert utf16_len(part) <= limit
        visible_text(part)
    joined = "".join(parts)
    if limit >= 200:
        assert '<a href="https://www.ejemplo.com.co/tarjeta?a=1&amp;b=2">Tarjeta &lt;Oro&gt; &amp; "más"</a>' in joined
    assert "Tarjeta &lt;Oro&gt; &amp;" in joined and "Crédito" in joined
    assert joined.startswith(text_parts(text, limit)[0] if normalise(text) else "<b>")


def test_cuts_fall_on_paragraphs_then_sentences() -> None:
    paragraph = "Primera frase de la tarjeta. " * 60
    pieces = split_text(f"{paragraph.strip()}\n\n{paragraph.strip()}", 2000)
    assert pieces[0].endswith("\n\n") and len(pieces) == 2
    sentences = split_text(paragraph.strip(), 500)
    assert all(p.endswith(". ") for p in sentences[:-1])


def test_the_preview_is_one_escaped_part() -> None:
    assert preview("a < b") == "a &lt; b …"
    assert utf16_len(preview("palabra " * 2000)) <= LIMIT
