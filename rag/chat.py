"""The answering pipeline, as named stages:

    mask -> history -> rewrite -> answer cache -> retrieve -> context (the best hit's unit) -> generate
         -> check grounding -> second pass -> complete the passage -> cite -> (keep in the answer cache) -> store

``ChatService.answer`` returns an ``Answer``; ``ChatService.stream`` yields text deltas and ends with
the ``Answer``. The user's text is masked (card and ID numbers) before it is stored, logged or sent to
a model. An answer is ``answered`` only when retrieval found relevant text and the model answered from
it; otherwise the user gets a polite ``no_answer`` / ``out_of_scope`` / ``refused`` reply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from langchain_core.language_models import BaseChatModel

from rag import policy
from rag.answer_cache import AnswerCache
from rag.cite import Source, cite
from rag.completion import rest_of_passage
from rag.context import format_context, order_context
from rag.draft import Draft, Drafter, says_not_found
from rag.focus import focus
from rag.policy import Language, Status
from rag.prompts import asked
from rag.retriever import HybridRetriever, Retrieved
from rag.reveal import CheckedReveal
from rag.rewrite import Rewriter, search_query
from rag.second_pass import SecondPass
from rag.support import unsupported_reason
from rag.text import printable
from rag.units import unit_text
from storage.conversations import ConversationKey, ConversationStore, HistoryUnavailable
from storage.conversations import Turn as HistoryTurn
from storage.masking import mask

log = logging.getLogger(__name__)


@dataclass
class Answer:
    text: str
    status: Status
    sources: list[Source] = field(default_factory=list)
    retrieved: list[Retrieved] = field(default_factory=list)
    standalone_question: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    message_id: int | None = None


def final_answer(items: Iterable[str | Answer]) -> Answer:
    """The ``Answer`` that ends a stream of text deltas (the deltas are consumed)."""
    answer: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
    if answer is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return answer


@dataclass(frozen=True)
class ChatPolicy:
    """How the pipeline answers (built from settings: every default lives there)."""

    top_k: int
    follow_chunks: int
    history_messages: int
    min_dense_score: float  # below it no page is near the question: declined as out of scope, no model call
    max_new_tokens: int
    rewrite_max_new_tokens: int
    max_question_chars: int
    contact: str
    context_sentences: int  # > 0: only this many sentences closest to the question (rag.focus)
    second_pass_min_score: float  # best dense similarity above which a "not found" gets a second pass
    second_pass_min_similarity: float  # an English question's second-pass sentence must be this close to it
    nearest_min_similarity: float  # a "not found" gets the nearest sentence of the units read when this close
    min_answer_context_share: float  # a Spanish answer with fewer of its terms in the pages is a guess
    complete_passage: bool  # a Spanish answer gets the rest of the passage it quotes (rag.completion)
    read_units: bool = True  # the context is the best hit's knowledge unit (its state reused), not the top hits
    unit_tries: int = 2  # units read in turn (best hits first) until one holds the answer
    search_with_previous_question: bool = True  # a follow-up's search also holds the previous question's words
    rules: policy.Rules = policy.DEFAULT_RULES  # the inner thresholds (rag.policy.Rules)


@dataclass
class Turn:
    """One question on its way through the stages."""

    question: str
    lang: Language
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)

    def since_start_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def _fired(turn: Turn, rule: str) -> None:
    """Mark that a rule changed this answer's course (the rules benchmark re-asks only where one fired)."""
    turn.timings[f"fired_{rule}"] = 1.0


class ChatService:
    def __init__(self, retriever: HybridRetriever, model: BaseChatModel, conversations: ConversationStore,
                 chat_policy: ChatPolicy, answer_cache: AnswerCache | None = None) -> None:
        self.retriever = retriever
        self.answer_cache = answer_cache
        self.conversations = conversations
        self.policy = chat_policy
        self.rewriter = Rewriter(model, chat_policy.rewrite_max_new_tokens)
        self.drafter = Drafter(model, chat_policy.max_new_tokens)
        self.second_pass = SecondPass(model, chat_policy.max_new_tokens, retriever.embedder,
                                      chat_policy.second_pass_min_similarity, chat_policy.rules,
                                      chat_policy.nearest_min_similarity)

    def answer(self, key: ConversationKey, user_text: str) -> Answer:
        return final_answer(self.stream(key, user_text))

    def stream(self, key: ConversationKey, user_text: str) -> Iterator[str | Answer]:
        """Yield text deltas as they are generated, then the final ``Answer`` (stored in the history).

        The deltas are a draft for showing progress; the ``Answer``'s text is what was decided (a draft
        with a figure found in no retrieved page is replaced), so renderers finish with it."""
        question = mask(printable(user_text).strip())[: self.policy.max_question_chars]  # mask
        turn = Turn(question, policy.language(question))
        for item in self._stages(key, turn):
            if isinstance(item, str) and item.strip():
                turn.timings.setdefault("first_shown_ms", turn.since_start_ms())  # what the user sees first
            yield item

    def _stages(self, key: ConversationKey, turn: Turn) -> Iterator[str | Answer]:
        question = turn.question
        history = self._history(key)  # history
        if not question or policy.is_injection(question):
            answer = self._decline(turn, "refused" if question else "out_of_scope", [], question)
        else:
            standalone = self._timed(turn, "rewrite_ms", self.rewriter.rewrite, question, history)  # rewrite
            vector = self._timed(turn, "embed_ms", self.retriever.embedder.embed_query, standalone)
            answer = self._cached(turn, standalone, vector)  # answer cache
            if answer is None:
                query = search_query(standalone, history) if self.policy.search_with_previous_question \
                    else standalone
                hits = self._timed(turn, "retrieve_ms", self.retriever.search, query, self.policy.top_k,
                                   vector if query == standalone else None)
                answer = yield from self._answer_from(turn, standalone, hits)
                self._keep(turn, answer, vector)
            elif answer.text:
                yield answer.text
        if answer.status != "answered" or not answer.text:
            yield answer.text
        yield self._store(key, turn, answer)  # store

    def _answer_from(self, turn: Turn, standalone: str, hits: list[Retrieved]):  # type: ignore[no-untyped-def]
        """From the retrieved hits to the answer: context, first pass (on the next unit while the one read does
        not hold the answer), checks, second pass, citations. Yields the visible draft; returns the ``Answer``."""
        best_dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        if not hits or best_dense < self.policy.min_dense_score:  # no page is near: not about TUYA's products
            if hits:  # with no hit at all the answer is declined whatever the threshold
                _fired(turn, "min_dense_score")
            return self._decline(turn, "out_of_scope", hits, standalone)
        contexts = self._timed(turn, "context_ms", self._contexts, standalone, hits)
        text, (context, context_text) = "", contexts[0]
        for candidate in contexts:
            turn.timings["units_read"] = turn.timings.get("units_read", 0.0) + 1
            text = yield from self._first_pass(turn, standalone, candidate[1])
            if text:
                context, context_text = candidate
                break
        if not text and best_dense >= self.policy.second_pass_min_score:  # second pass
            text = self._timed(turn, "second_pass_ms", self.second_pass.extract, standalone, context, context_text)
            if not text:  # the model copied nothing: the sentence of the units read nearest to the question
                read = [hit for unit_hits, _ in contexts for hit in unit_hits]
                text = self._timed(turn, "nearest_ms", self.second_pass.nearest, standalone, read)
                if text:
                    _fired(turn, "nearest_sentence")
                    context = read
            if text:
                text = policy.quoted(text, turn.lang)
                yield text
        if not text:
            return self._decline(turn, "no_answer", context, standalone)
        if rest := self._rest_of_passage(turn, text, context):  # complete the passage
            turn.timings["completed_chars"] = float(len(rest))
            text = f"{text} {rest}"
            yield f" {rest}"
        return Answer(text, "answered", cite(text, context), context, standalone)  # cite

    def _contexts(self, standalone: str, hits: list[Retrieved]) -> list[tuple[list[Retrieved], str]]:
        """What the model reads, in the order it is tried: the units of the best hits (one per unit, at most
        ``unit_tries``), or the top hits with the chunks after them as one context."""
        if not self.policy.read_units:
            following = self.retriever.following(hits, self.policy.follow_chunks)
            context = order_context(hits, following)
            return [(hits + following, self._context_text(standalone, context))]
        contexts: list[tuple[list[Retrieved], str]] = []
        seen: set[tuple[str, int]] = set()
        for hit in hits:
            if hit.chunk.unit in seen:
                continue
            seen.add(hit.chunk.unit)
            chunks = self.retriever.unit(hit)
            contexts.append((chunks, unit_text([h.chunk for h in chunks])))
            if len(contexts) == self.policy.unit_tries:
                break
        return contexts

    def _first_pass(self, turn: Turn, standalone: str, context_text: str):  # type: ignore[no-untyped-def]
        """Generate on one context: yields the checked sentences as they come; returns the grounded text ("" for
        "not found" or an answer the checks refused with nothing shown)."""
        draft = Draft()
        bar = self._bar(turn.lang, standalone)
        reveal = CheckedReveal(context_text, standalone, **bar)
        generating = time.perf_counter()
        question = asked(standalone, turn.lang, policy.yes_no(standalone, turn.lang))
        for piece in self.drafter.stream(context_text, question, draft):  # generate
            turn.timings.setdefault("first_token_ms", turn.since_start_ms())
            if shown := reveal.add(piece):  # only sentences the checks below have passed
                yield shown
        turn.timings["generate_ms"] = turn.timings.get("generate_ms", 0.0) + (time.perf_counter() - generating) * 1000
        for check in reveal.fired:
            _fired(turn, check)
        # check grounding; a draft stopped in a loop ("de seguro de seguro, de seguro de seguro,") is no answer
        text = "" if draft.looped else self._grounded(turn, draft.text.strip(), context_text, standalone, bar)
        if not text and reveal.shown.strip():  # a later sentence failed: the answer is the part that passed
            log.info("answer cut to its checked sentences (%d of %d characters)", len(reveal.shown.strip()),
                     len(draft.text.strip()))
            text = reveal.shown.strip()
        if text.startswith(reveal.shown) and len(text) > len(reveal.shown):
            yield text[len(reveal.shown):]  # the rest, now checked
        return text

    def _cached(self, turn: Turn, standalone: str, vector: np.ndarray) -> Answer | None:
        """The kept answer of a question that means the same, if any."""
        if self.answer_cache is None:
            return None
        hit = self._timed(turn, "cache_ms", self.answer_cache.find, standalone, vector, turn.lang)
        if hit is None:
            return None
        turn.timings["cache_hit"] = 1.0
        return Answer(hit.answer, "answered", [Source(url, title) for title, url in hit.sources], [], standalone)

    def _keep(self, turn: Turn, answer: Answer, vector: np.ndarray) -> None:
        """Keep an answered question's answer for the questions that will mean the same."""
        if self.answer_cache is not None and answer.status == "answered" and answer.text:
            self.answer_cache.keep(answer.standalone_question, vector, turn.lang, answer.text, answer.sources,
                                   answer.retrieved)

    def _context_text(self, question: str, context: list[Retrieved]) -> str:
        if self.policy.context_sentences > 0:
            return focus(question, context, self.retriever.embedder, self.policy.context_sentences)
        return format_context(context)

    def _rest_of_passage(self, turn: Turn, text: str, hits: list[Retrieved]) -> str:
        """What a Spanish answer leaves out of the passage it quotes (the pages are Spanish), when configured."""
        if not self.policy.complete_passage or turn.lang != "es":
            return ""
        return self._timed(turn, "complete_ms", rest_of_passage, text, hits, self.policy.rules)

    def _grounded(self, turn: Turn, text: str, context_text: str, question: str, bar: dict[str, float | bool]) -> str:
        """The answer if it is made of the retrieved pages, else "" (never given as it is): the marker, a
        figure found in no page, or a Spanish answer with too many terms that neither the pages nor the
        question hold (an invented list of products, say), by the ``bar`` the draft was shown by (``_bar``)."""
        if not text or says_not_found(text):
            return ""
        reason = unsupported_reason(text, context_text, question, **bar)
        if reason:
            _fired(turn, reason.check)
            log.warning("answer dropped: %s: %r", reason.why, text[:200])
            return ""
        return text

    def _bar(self, lang: Language, question: str) -> dict[str, float | bool]:
        """How much of a Spanish answer's terms the pages must hold (with the question's, and alone for an answer
        that only restates the question or answers a yes-or-no one); an English answer's figures and a bare yes or
        no alone are checked (the pages are Spanish)."""
        if lang != "es":
            return {"min_context_share": 0.0}
        return {"min_context_share": self.policy.min_answer_context_share,
                "echo_min_context_share": self.policy.rules.echo_min_context_share,
                "yes_or_no": policy.yes_no(question, lang)}

    def reset(self, key: ConversationKey) -> int:
        return self.conversations.reset(key)

    def forget(self, platform: str, user_id: str) -> int:
        return self.conversations.forget_user(platform, user_id)

    def _decline(self, turn: Turn, status: Status, hits: list[Retrieved], standalone: str) -> Answer:
        """The polite reply for an answer that is not given (no sources)."""
        return Answer(policy.reply(status, turn.lang, self.policy.contact), status, [], hits, standalone)

    @staticmethod
    def _timed(turn: Turn, name: str, stage, *args):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return stage(*args)
        finally:
            turn.timings[name] = (time.perf_counter() - started) * 1000

    def _history(self, key: ConversationKey) -> list[HistoryTurn]:
        try:
            return self.conversations.history(key, self.policy.history_messages)
        except HistoryUnavailable as exc:  # answered without the conversation rather than not at all
            log.error("could not read the history (answering without it): %s", exc)
            return []

    def _store(self, key: ConversationKey, turn: Turn, answer: Answer) -> Answer:
        try:
            answer.message_id = self.conversations.add_exchange(
                key, turn.question, answer.text, status=answer.status,
                standalone_question=answer.standalone_question, sources=[s.url for s in answer.sources])
        except HistoryUnavailable as exc:  # the answer is still given (without feedback buttons), nothing stored
            log.error("could not store the answer in the history (it is still given): %s", exc)
        turn.timings["total_ms"] = turn.since_start_ms()
        answer.timings = turn.timings
        log.info("answer status=%s total_ms=%.0f", answer.status, turn.timings["total_ms"])
        return answer
