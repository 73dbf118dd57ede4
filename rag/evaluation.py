"""Evaluation runs: one record per question, in the format `../shared/eval/score.py` reads."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.chat import Answer, ChatService
from rag.generator import GenerationError
from rag.retriever import HybridRetriever, Retrieved
from rag.rewrite import history_query
from storage.conversations import ConversationKey


class BadQuestionsFile(ValueError):
    """The questions file is not JSON lines with an id and a non-empty list of turns."""


def load_questions(path: Path) -> list[dict[str, Any]]:
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadQuestionsFile(f"{path}:{n}: not JSON ({exc.msg})") from exc
        turns = q.get("turns") if isinstance(q, dict) else None
        if not isinstance(q, dict) or "id" not in q or not isinstance(turns, list) or not turns \
                or not all(isinstance(t, str) and t.strip() for t in turns):
            raise BadQuestionsFile(f"{path}:{n}: each line needs an \"id\" and a non-empty list of \"turns\"")
        questions.append(q)
    if not questions:
        raise BadQuestionsFile(f"{path}: no questions")
    return questions


def retrieval_records(retriever: HybridRetriever, questions: list[dict[str, Any]], k: int) -> Iterator[dict[str, Any]]:
    """Retrieval-only records: what would be handed to the generator for each question's last turn."""
    for q in questions:
        started = time.perf_counter()
        hits = retriever.search(history_query(q["turns"]), k)
        latency_ms = (time.perf_counter() - started) * 1000
        yield {
            "id": q["id"], "status": "no_answer", "answer": "", "sources": [], "mode": "retrieval-only",
            "retrieved": retrieved_records(hits),
            "latency_ms": round(latency_ms, 1),
        }


def retrieved_records(hits: list[Retrieved]) -> list[dict[str, Any]]:
    return [{"url": h.chunk.url, "text": h.chunk.search_text, "score": round(h.score, 6)} for h in hits]


def _last_answer(chat: ChatService, key: ConversationKey, turns: list[str]) -> Answer:
    """Every turn asked in order; the answer to the last one."""
    return [chat.answer(key, turn) for turn in turns][-1]


def answer_records(chat: ChatService, questions: list[dict[str, Any]], run_id: str) -> Iterator[dict[str, Any]]:
    """Full records: every turn of each conversation is asked in order; the last one is recorded."""
    for q in questions:
        key = ConversationKey("eval", f"{run_id}:{q['id']}", "eval")
        chat.reset(key)
        try:
            answer = _last_answer(chat, key, q["turns"])
        except GenerationError as exc:  # one question's failure is recorded, the run goes on
            yield {"id": q["id"], "status": "no_answer", "answer": "", "sources": [], "retrieved": [],
                   "error": str(exc), "latency_ms": 0.0}
            continue
        finally:
            chat.reset(key)
        yield {
            "id": q["id"], "status": answer.status, "answer": answer.text,
            "sources": [s.url for s in answer.sources], "retrieved": retrieved_records(answer.retrieved),
            "standalone_question": answer.standalone_question,
            "latency_ms": round(answer.timings.get("total_ms", 0.0), 1),
            "first_token_ms": round(answer.timings["first_token_ms"], 1) if "first_token_ms" in answer.timings
            else None,
            "first_shown_ms": round(answer.timings["first_shown_ms"], 1) if "first_shown_ms" in answer.timings
            else None,
            "timings": {name: round(value, 1) for name, value in answer.timings.items()},
        }
