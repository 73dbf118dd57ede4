"""The eval set's fixed halves and the scorer that reads both."""

from __future__ import annotations

import json
from collections import Counter

from rag.scoring import halves, score, score_halves
from tests.conftest import REPO

QUESTIONS = [json.loads(line) for line in (REPO / "bench" / "eval" / "questions.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]


def test_the_eval_set_covers_every_kind_and_the_halves_are_fixed_and_stratified_by_page() -> None:
    assert len(QUESTIONS) >= 100 and len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    kinds = Counter(q["kind"] for q in QUESTIONS)
    assert set(kinds) == {"fact", "followup", "english", "out_of_scope", "unknown", "injection"}
    split = halves(QUESTIONS)
    assert split == halves(list(reversed(QUESTIONS)))  # the file's order does not matter, the seed does
    assert abs(Counter(split.values())["tune"] - Counter(split.values())["test"]) <= 1
    by_page: dict[str, Counter[str]] = {}
    for q in QUESTIONS:
        page = q["source"][0] if q.get("source") else q["kind"]
        by_page.setdefault(page, Counter())[split[q["id"]]] += 1
    for page, count in by_page.items():
        assert abs(count["tune"] - count["test"]) <= 1, page  # every page on both sides
    assert halves(QUESTIONS, seed=7) != split


def test_the_scorer_reads_answers_citations_refusals_and_latency() -> None:
    cdt, cc = "https://www.tuya.com.co/cdt", "https://www.tuya.com.co/credicompras"
    questions = [
        {"id": "a", "kind": "fact", "source": [cdt], "expect": {"any": ["valores bancolombia"]}},
        {"id": "b", "kind": "english", "source": [cdt], "expect": {"all": ["10 dias", "habiles"]}},
        {"id": "c", "kind": "fact", "source": [cc], "expect": {"any": ["15000000"]}},
        {"id": "d", "kind": "unknown", "source": [], "expect": {}},
    ]
    records = [
        {"id": "a", "status": "answered", "answer": "En las oficinas de Valores Bancolombia.",
         "sources": ["https://www.tuya.com.co/cdt#x"], "latency_ms": 1000},
        {"id": "b", "status": "answered", "answer": "In 10 días (business days).", "sources": [], "latency_ms": 3000},
        {"id": "c", "status": "no_answer", "answer": "No encontré", "sources": [], "latency_ms": 2000},
        {"id": "d", "status": "answered", "answer": "Son 300.", "sources": [], "latency_ms": 4000},
    ]
    metrics, failures = score(questions, records)
    assert metrics["answer_accuracy"] == round(1 / 3, 3)  # b lacks "habiles", c was not answered
    assert metrics["citation_accuracy"] == round(1 / 3, 3) and metrics["false_refusal_rate"] == round(1 / 3, 3)
    assert metrics["wrong_answer_rate"] == round(1 / 3, 3)  # b: answered, not right; c's decline is not wrong
    assert metrics["refusal_accuracy"] == 0.0 and metrics["latency_p50_ms"] == 2500.0
    assert metrics["english_in_english"] == 1.0  # b's answer is English, though not right
    in_spanish = {**records[1], "answer": "En 10 días hábiles, con el documento de identidad."}
    assert score(questions[1:2], [in_spanish])[0]["english_in_english"] == 0.0
    assert [qid for qid, _ in failures] == ["b", "c", "d"]
    written_with_separators = {**records[2], "status": "answered", "answer": "Hasta $15’000.000"}
    assert score(questions[2:3], [written_with_separators])[0]["answer_accuracy"] == 1.0


def test_both_halves_are_scored_from_one_run() -> None:
    records = [{"id": q["id"], "status": "no_answer", "answer": "", "sources": [], "latency_ms": 1.0}
               for q in QUESTIONS]
    scored = score_halves(QUESTIONS, records)
    assert set(scored) == {"tune", "test"}
    assert all(m["refusal_accuracy"] == 1.0 and m["answer_accuracy"] == 0.0 for m, _ in scored.values())
    only_tune = [r for r in records if halves(QUESTIONS)[r["id"]] == "tune"]
    assert set(score_halves(QUESTIONS, only_tune)) == {"tune"}
