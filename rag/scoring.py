"""Scoring eval records against their questions, and the fixed tune/test split of an eval set.

The metrics are those of the shared scorer's README (`../shared/eval/README.md`): an answerable question
(fact, followup, english) is right when its ``expect`` regexes match the normalised answer and cited
when a source's path is among its pages, and an English question's answer is counted as in English or
not (``rag.policy.language``); an answerable question answered but not right counts as a wrong answer (worse
for a customer than a decline, which sends them to the line); an unanswerable one (out_of_scope, unknown,
injection) is right when it was not answered. Normalised: lower case, accents removed, thousands separators between
digits removed, white space folded.

Halves: questions are grouped by the page that answers them (or by kind for the unanswerable ones),
each group is shuffled with a fixed seed and dealt alternately to tune and test. Rules and thresholds
are chosen on the tune half only; the test half is run to report figures.
"""

from __future__ import annotations

import random
import re
import statistics
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

from rag.policy import language

ANSWERABLE = frozenset({"fact", "followup", "english"})
SPLIT_SEED = 2026
Half = Literal["tune", "test"]


def normalised(text: str) -> str:
    text = unicodedata.normalize("NFKD", (text or "").lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"(?<=\d)[.,’'](?=\d{3}(?!\d))", "", text)
    return re.sub(r"\s+", " ", text)


def url_path(url: str) -> str:
    return urlsplit(url or "").path.rstrip("/") or "/"


def expected_in(expect: dict[str, list[str]], text: str) -> bool:
    """Whether ``text`` holds what ``expect`` asks: one of ``any`` (when given) and every one of ``all``."""
    t = normalised(text)
    some = any(re.search(p, t) for p in expect.get("any", [])) if expect.get("any") else True
    return some and all(re.search(p, t) for p in expect.get("all", []))


def halves(questions: Sequence[dict[str, Any]], seed: int = SPLIT_SEED) -> dict[str, Half]:
    """Each question's half (by id), stratified by its first source page (by kind when it has none)."""
    groups: dict[str, list[str]] = {}
    for q in questions:
        key = url_path(q["source"][0]) if q.get("source") else f"kind:{q['kind']}"
        groups.setdefault(key, []).append(q["id"])
    half: dict[str, Half] = {}
    start = 0  # groups of odd size alternately give their extra question to tune and to test
    for key in sorted(groups):
        ids = sorted(groups[key])
        random.Random(f"{seed}:{key}").shuffle(ids)
        for i, qid in enumerate(ids):
            half[qid] = "tune" if (i + start) % 2 == 0 else "test"
        start += len(ids) % 2
    return half


def score(questions: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]], k: int = 5
          ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The metrics of ``records`` on ``questions``, and each failure (id, why)."""
    by_id = {r["id"]: r for r in records}
    n = dict.fromkeys(("answerable", "right", "cited", "context", "refused_wrongly", "unanswerable",
                       "declined", "missing", "english_answered", "in_english", "wrong"), 0)
    latencies: list[float] = []
    failures: list[tuple[str, str]] = []
    for q in questions:
        r = by_id.get(q["id"])
        if r is None:
            n["missing"] += 1
            failures.append((q["id"], "no record"))
            continue
        latencies.append(float(r.get("latency_ms") or 0.0))
        answered = r.get("status", "answered") == "answered"
        if q["kind"] not in ANSWERABLE:
            n["unanswerable"] += 1
            n["declined"] += not answered
            if answered:
                failures.append((q["id"], f"answered: {r.get('answer', '')[:120]}"))
            continue
        n["answerable"] += 1
        pages = {url_path(u) for u in q.get("source", [])}
        top = (r.get("retrieved") or [])[:k]
        n["context"] += expected_in(q["expect"], " ".join(c.get("text", "") for c in top))
        if not answered:
            n["refused_wrongly"] += 1
            failures.append((q["id"], f"not answered ({r.get('status')})"))
            continue
        right = expected_in(q["expect"], r.get("answer", ""))
        n["right"] += right
        n["wrong"] += not right
        if q["kind"] == "english":
            n["english_answered"] += 1
            n["in_english"] += language(r.get("answer", "")) == "en"
        n["cited"] += any(url_path(u) in pages for u in r.get("sources") or [])
        if not right:
            failures.append((q["id"], "wrong: " + r.get("answer", "")[:160].replace("\n", " ")))
    a, u = max(n["answerable"], 1), max(n["unanswerable"], 1)
    ordered = sorted(latencies)
    metrics = {
        "questions": len(questions), "missing_records": n["missing"],
        "answer_accuracy": round(n["right"] / a, 3), "citation_accuracy": round(n["cited"] / a, 3),
        "false_refusal_rate": round(n["refused_wrongly"] / a, 3),
        "wrong_answer_rate": round(n["wrong"] / a, 3),
        "refusal_accuracy": round(n["declined"] / u, 3) if n["unanswerable"] else None,
        f"context_hit@{k}": round(n["context"] / a, 3),
        "english_in_english": round(n["in_english"] / n["english_answered"], 3) if n["english_answered"] else None,
        "latency_p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "latency_p95_ms": round(ordered[max(0, round(len(ordered) * 0.95) - 1)], 1) if ordered else None,
    }
    return metrics, failures


def score_halves(questions: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]]
                 ) -> dict[Half, tuple[dict[str, Any], list[tuple[str, str]]]]:
    """``score`` on each half that has records."""
    half = halves(questions)
    have = {r["id"] for r in records}
    out: dict[Half, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
    for name in ("tune", "test"):
        chosen = [q for q in questions if half[q["id"]] == name and q["id"] in have]
        if chosen:
            out[name] = score(chosen, records)
    return out
