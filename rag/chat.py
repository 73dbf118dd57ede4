"""The answering core every chat adapter calls: message -> history -> rewrite -> retrieve -> generate.

``ChatService.answer`` returns an ``Answer``; ``ChatService.stream`` yields text deltas and ends with
the ``Answer``. The user's text is masked (card and ID numbers) before it is stored, logged or sent
to a model. An answer is ``answered`` only when retrieval found relevant text and the model answered
from it; otherwise the user gets a polite ``no_answer`` / ``out_of_scope`` / ``refused`` reply.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from rag import policy
from rag.focus import focus
from rag.generator import Generator
from rag.policy import Status
from rag.prompts import (
    ANSWER_PROMPT,
    EXTRACT_PROMPT,
    NOT_FOUND,
    REWRITE_PROMPT,
    format_context,
    history_messages,
    to_chat_messages,
)
from rag.retriever import Retrieved, Retriever
from rag.sparse import tokens
from rag.support import evidence, supported, unsupported_reason
from storage.conversations import ConversationKey, ConversationStore
from storage.masking import mask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    url: str
    title: str


@dataclass
class Answer:
    text: str
    status: Status
    sources: list[Source] = field(default_factory=list)
    retrieved: list[Retrieved] = field(default_factory=list)
    standalone_question: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    message_id: int | None = None


@dataclass(frozen=True)
class ChatPolicy:
    top_k: int = 5
    follow_chunks: int = 2
    history_messages: int = 6
    min_dense_score: float = 0.30
    max_new_tokens: int = 200
    rewrite_max_new_tokens: int = 60
    max_question_chars: int = 1000
    contact: str = "01 8000 978 888"
    context_sentences: int = 0  # > 0: only this many sentences closest to the question (rag.focus)
    second_pass_min_score: float = 0.5  # best dense similarity above which a "not found" gets a second pass
    min_answer_context_share: float = 0.75  # a Spanish answer with fewer of its terms in the pages is a guess


class ChatService:
    def __init__(self, retriever: Retriever, generator: Generator, conversations: ConversationStore,
                 chat_policy: ChatPolicy | None = None) -> None:
        self.retriever = retriever
        self.generator = generator
        self.conversations = conversations
        self.policy = chat_policy or ChatPolicy()

    def answer(self, key: ConversationKey, user_text: str) -> Answer:
        result: Answer | None = None
        for item in self.stream(key, user_text):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def stream(self, key: ConversationKey, user_text: str) -> Iterator[str | Answer]:
        """Yield text deltas as they are generated, then the final ``Answer`` (stored in the history).

        The deltas are a draft for showing progress; the ``Answer``'s text is what was decided (a draft
        with a figure found in no retrieved page is replaced), so renderers finish with it."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question = mask(user_text.strip())[: self.policy.max_question_chars]
        lang = policy.language(question)
        history = self.conversations.history(key, self.policy.history_messages)

        if not question or policy.is_injection(question):
            answer = self._decline("refused" if question else "out_of_scope", lang, [], question)
            yield answer.text
            yield self._finish(key, question, answer, started, timings)
            return

        standalone = self._rewrite(question, history, timings) if history else question
        t = time.perf_counter()
        hits = self.retriever.search(standalone, self.policy.top_k)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        on_topic = policy.mentions_tuya_topic(standalone)
        best_dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        if not hits or best_dense < self.policy.min_dense_score:
            answer = self._decline("no_answer" if on_topic else "out_of_scope", lang, hits, standalone)
            yield answer.text
            yield self._finish(key, question, answer, started, timings)
            return

        extra = self.retriever.following(hits, self.policy.follow_chunks)
        context = _interleave(hits, extra)
        hits = hits + extra
        t = time.perf_counter()
        if self.policy.context_sentences > 0:
            context_text = focus(standalone, context, self.retriever.embedder, self.policy.context_sentences)
        else:
            context_text = format_context(context)
        timings["context_ms"] = (time.perf_counter() - t) * 1000
        prompt = ANSWER_PROMPT.invoke({"context": context_text, "question": standalone})
        messages = to_chat_messages(prompt.to_messages())
        text = ""
        maybe_marker = True  # hold the text back while it could still be the NOT_FOUND marker
        t = time.perf_counter()
        for piece in self.generator.stream(messages, self.policy.max_new_tokens):
            timings.setdefault("first_token_ms", (time.perf_counter() - started) * 1000)
            text += piece
            if maybe_marker:
                head = text.lstrip()
                if NOT_FOUND.startswith(marker_form(head)) or marker_form(head).startswith(NOT_FOUND):
                    continue
                maybe_marker = False
                yield head
                continue
            yield piece
        timings["generate_ms"] = (time.perf_counter() - t) * 1000
        text = text.strip()
        if text and not says_not_found(text):
            text = self._grounded(text, context_text, standalone, lang)
        if (not text or says_not_found(text)) and on_topic and best_dense >= self.policy.second_pass_min_score:
            text = self._extract(standalone, context, context_text, timings)
            if text:
                yield text
        if not text or says_not_found(text):
            answer = self._decline("no_answer" if on_topic else "out_of_scope", lang, hits, standalone)
            yield answer.text
        else:
            answer = Answer(text, "answered", cite(text, hits), hits, standalone)
        yield self._finish(key, question, answer, started, timings)

    def reset(self, key: ConversationKey) -> int:
        return self.conversations.reset(key)

    def forget(self, platform: str, user_id: str) -> int:
        return self.conversations.forget_user(platform, user_id)

    def _decline(self, status: Status, lang: policy.Language, hits: list[Retrieved], standalone: str) -> Answer:
        """The polite reply for an answer that is not given (no sources)."""
        return Answer(policy.reply(status, lang, self.policy.contact), status, [], hits, standalone)

    def _grounded(self, text: str, context_text: str, question: str, lang: policy.Language) -> str:
        """The answer if it is made of the retrieved pages, else "" (never given as it is): a figure found in
        no page, or a Spanish answer with too many terms that neither the pages nor the question hold (an
        invented list of products, say), is a guess."""
        min_share = self.policy.min_answer_context_share if lang == "es" else 0.0
        reason = unsupported_reason(text, context_text, question, min_context_share=min_share)
        if reason:
            log.warning("answer dropped: %s: %r", reason, text[:200])
            return ""
        return text

    def _extract(self, question: str, hits: list[Retrieved], context_text: str, timings: dict[str, float]) -> str:
        """Second pass when the first found nothing (or invented a figure) on a clearly on-topic question:
        copy the answering sentence from the context; kept only if the support checks pass."""
        t = time.perf_counter()
        prompt = EXTRACT_PROMPT.invoke({"context": context_text, "question": question})
        try:
            text = self.generator.generate(to_chat_messages(prompt.to_messages()), self.policy.max_new_tokens).strip()
        finally:
            timings["second_pass_ms"] = (time.perf_counter() - t) * 1000
        source = evidence(text, hits)
        if says_not_found(text) or not supported(text, question, context_text, grounding=source):
            log.info("second pass not supported by the context: %r", text[:200])
            return ""
        return text

    def _rewrite(self, question: str, history: list, timings: dict[str, float]) -> str:  # type: ignore[type-arg]
        """The follow-up as a standalone question, in its own language (only called with history)."""
        t = time.perf_counter()
        prompt = REWRITE_PROMPT.invoke({
            "history": history_messages([(turn.role, turn.content) for turn in history]),
            "question": question,
        })
        try:
            rewritten = self.generator.generate(to_chat_messages(prompt.to_messages()),
                                                self.policy.rewrite_max_new_tokens)
        finally:
            timings["rewrite_ms"] = (time.perf_counter() - t) * 1000
        rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten.strip() else ""
        if not rewritten or len(rewritten) > 3 * len(question) + 200:
            return history_query([turn.content for turn in history if turn.role == "user"] + [question])
        return rewritten

    def _finish(self, key: ConversationKey, question: str, answer: Answer, started: float,
                timings: dict[str, float]) -> Answer:
        self.conversations.add_message(key, "user", question)
        answer.message_id = self.conversations.add_message(
            key, "assistant", answer.text, status=answer.status, standalone_question=answer.standalone_question,
            sources=[s.url for s in answer.sources])
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer.timings = timings
        log.info("answer status=%s total_ms=%.0f", answer.status, timings["total_ms"])
        return answer


def marker_form(text: str) -> str:
    """Text as the NOT_FOUND marker is compared: upper case, spaces and underscores as one underscore."""
    return re.sub(r"[\s_]+", "_", text.strip().upper())


def says_not_found(text: str) -> bool:
    """Whether the model used the "not in the context" marker, however it spelt its case or spacing."""
    return NOT_FOUND in marker_form(text)


def history_query(turns: list[str]) -> str:
    """A search query without a model: the user's turns joined, the last one at the end."""
    return " ".join(t.strip() for t in turns)


def _interleave(hits: list[Retrieved], extra: list[Retrieved]) -> list[Retrieved]:
    """Context order: each following chunk right after the chunk it continues, and the best hit last.

    A small model leans on what it read last: with the best chunk next to the question it picks the
    sentence that answers (the cities, the benefits list) instead of the first plausible one."""
    after = {(e.chunk.url, e.chunk.position - 1): e for e in extra}
    groups: list[list[Retrieved]] = []
    for h in hits:
        groups.append([h])
        if (h.chunk.url, h.chunk.position) in after:
            groups[-1].append(after.pop((h.chunk.url, h.chunk.position)))
    groups.extend([e] for e in after.values())
    return [r for group in reversed(groups) for r in group]


def cite(answer_text: str, hits: list[Retrieved], max_sources: int = 3) -> list[Source]:
    """The pages the answer came from: chunks sharing most of the answer's terms (best first)."""
    answer_terms = set(tokens(answer_text))
    scored = []
    for rank, h in enumerate(hits):
        overlap = len(answer_terms & set(tokens(h.chunk.search_text))) / max(len(answer_terms), 1)
        scored.append((overlap, -rank, h))
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    best = scored[0][0] if scored else 0.0
    sources: list[Source] = []
    for overlap, _, h in scored:
        if overlap < 0.6 * best or len(sources) >= max_sources:
            break
        if all(s.url != h.chunk.url for s in sources):
            sources.append(Source(h.chunk.url, h.chunk.title))
    return sources or ([Source(hits[0].chunk.url, hits[0].chunk.title)] if hits else [])
