"""What each rule buys: the tune half answered with every rule on, then with each rule switched off in turn.

One process, one index, one model: every variant is a ``ChatPolicy`` (or retriever) change over the same
components, without the answer cache (a variant must never be served another's answer). Decoding is greedy,
so switching off a rule that did not fire on a question leaves its answer as it was: each answer's timings
say which rules changed its course (``fired_*``, ``units_read``, ``second_pass_ms``, ``completed_chars``),
and a variant asks again only the questions where its rule fired with all rules on (every follow-up, whose
earlier turns are not recorded; for a retriever rule, every question whose hits it changes). The others keep
the all-rules record. Prints one row per variant (rag.scoring's metrics, questions asked again, the change in
accuracy against all rules on) and writes each variant's records. A rule whose row shows no loss when it is
off does not earn its place.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_rules --data-dir DIR [--half tune] [--only NAME]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import REPO
from rag.chat import ChatPolicy, ChatService
from rag.evaluation import answer_records, load_questions
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model
from rag.policy import DEFAULT_RULES
from rag.scoring import halves, score
from tuyabot.components import Components, chat_policy
from tuyabot.settings import get_settings

QUESTIONS = REPO / "bench" / "eval" / "questions.jsonl"
Change = Callable[[ChatPolicy], ChatPolicy]
Question = dict[str, Any]


def _policy(**changes: object) -> Change:
    return lambda p: dataclasses.replace(p, **changes)


Fired = Callable[[Question, dict[str, Any], Components], bool]  # (question, its all-rules record, components)


def _follow_up(q: Question) -> bool:
    return len(q["turns"]) > 1


def _timing(name: str, above: float = 0.0) -> Fired:
    return lambda q, r, c: _follow_up(q) or r.get("timings", {}).get(name, 0.0) > above


def _hits_change(**retriever: object) -> Fired:
    """Where the retriever with these fields changed ranks other chunks first (every follow-up too)."""
    def fired(q: Question, r: dict[str, Any], c: Components) -> bool:
        other = c.retriever.model_copy(update=retriever)
        question, k = q["turns"][-1], c.settings.retrieval_top_k
        return _follow_up(q) or [h.chunk.id for h in c.retriever.search(question, k)] != \
            [h.chunk.id for h in other.search(question, k)]
    return fired


RetrieverFields = dict[str, object]  # a variant that changes the retriever's fields, not the policy
DENSE_BEST_OFF: RetrieverFields = {"keep_dense_best": False}
# rule switched off -> (how, where it fired with all rules on)
VARIANTS: dict[str, tuple[Change | RetrieverFields, Fired]] = {
    "all rules on": (_policy(), lambda q, r, c: True),
    "next unit when the first holds no answer (CONTEXT_UNIT_TRIES=1)": (_policy(unit_tries=1),
                                                                        _timing("units_read", 1.0)),
    "previous question in a follow-up's search": (_policy(search_with_previous_question=False),
                                                  lambda q, r, c: _follow_up(q)),
    "out of scope on weak retrieval (GROUNDING_MIN_SCORE)": (_policy(min_dense_score=-1.0),
                                                        _timing("fired_min_dense_score")),
    "answer terms in the pages (GROUNDING_MIN_ANSWER_SHARE)": (_policy(min_answer_context_share=0.0),
                                                               _timing("fired_answer_share")),
    "a yes or no, or a restated question, is the pages' words alone (Rules.echo_min_context_share)": (
        _policy(rules=dataclasses.replace(DEFAULT_RULES, echo_min_context_share=0.0)), _timing("fired_echo")),
    "second pass (GROUNDING_SECOND_PASS_MIN_SCORE)": (_policy(second_pass_min_score=2.0), _timing("second_pass_ms")),
    "passage completion (ANSWER_COMPLETE_PASSAGE)": (_policy(complete_passage=False), _timing("completed_chars")),
    "nearest sentence after a not found (GROUNDING_NEAREST_MIN_SIMILARITY)": (
        _policy(nearest_min_similarity=2.0), _timing("fired_nearest_sentence")),
    "dense side's best among the first two hits": (DENSE_BEST_OFF, _hits_change(**DENSE_BEST_OFF)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an index of the shared site v1")
    parser.add_argument("--half", choices=["tune", "test"], default="tune")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of the half (a smoke run)")
    parser.add_argument("--only", action="append", default=[], help="run only variants whose name holds this")
    parser.add_argument("--out", type=Path, default=Path("bench-rules"), help="folder for the records")
    parser.add_argument("--all-on", type=Path, help="the all-rules records (with timings) of an eval run of this "
                        "code and index (`tuyabot eval`), instead of asking the half again")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; flags: {' '.join(f for f in SHOWN_FLAGS if f in cpu_flags())}", flush=True)
    questions = load_questions(QUESTIONS)
    chosen = [q for q in questions if halves(questions)[q["id"]] == args.half][:args.limit or None]
    components = Components(get_settings(tuyabot_data_dir=args.data_dir, answer_cache=False), progress=False)
    components.warm_up()
    base = chat_policy(components.settings)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"| rule switched off ({args.half} half, {len(chosen)} questions) | asked again | accuracy | citation "
          "| refusal | false refusal | wrong answers | context_hit@5 | English in English | Δ accuracy |\n"
          "|---|---|---|---|---|---|---|---|---|---|", flush=True)
    reference: dict[str, dict[str, Any]] = {}
    all_on: dict[str, Any] = {}
    if args.all_on:
        kept = {r["id"]: r for r in map(json.loads, args.all_on.read_text(encoding="utf-8").splitlines())}
        reference = {q["id"]: kept[q["id"]] for q in chosen}
        all_on = score(chosen, list(reference.values()))[0]
    try:
        for name, (change, can_fire) in VARIANTS.items():
            if name == "all rules on" and reference:  # given by --all-on
                _row(f"{name} (--all-on records)", 0, all_on, all_on)
                continue
            if args.only and name != "all rules on" and not any(o.lower() in name.lower() for o in args.only):
                continue
            fields, policy = (change, base) if isinstance(change, dict) else ({}, change(base))
            chat = ChatService(components.retriever.model_copy(update=fields), components.generator,
                               components.conversations, policy)
            asked = [q for q in chosen if not reference or can_fire(q, reference[q["id"]], components)]
            fresh = {r["id"]: r for r in answer_records(chat, asked, run_id=f"rules-{time.time():.0f}")}
            records = [fresh.get(q["id"]) or reference[q["id"]] for q in chosen]
            metrics = score(chosen, records)[0]
            if not reference:  # this run is the all-rules one
                reference, all_on = {r["id"]: r for r in records}, metrics
            slug = "".join(c if c.isalnum() else "-" for c in name.lower())[:40].strip("-")
            (args.out / f"{slug}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                            for r in records), encoding="utf-8")
            _row(name, len(asked), metrics, all_on)
    finally:
        components.close()


def _row(name: str, asked: int, metrics: dict[str, Any], all_on: dict[str, Any]) -> None:
    delta = metrics["answer_accuracy"] - all_on["answer_accuracy"]
    print(f"| {name} | {asked} | {metrics['answer_accuracy']} | {metrics['citation_accuracy']} | "
          f"{metrics['refusal_accuracy']} | {metrics['false_refusal_rate']} | {metrics['wrong_answer_rate']} | "
          f"{metrics['context_hit@5']} | {metrics['english_in_english']} | "
          f"{delta:+.3f} |", flush=True)


if __name__ == "__main__":
    main()
