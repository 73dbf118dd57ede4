"""What each rule buys: the tune half answered with every rule on, then with each rule switched off in turn.

One process, one index, one model: every variant is a ``ChatPolicy`` (or retriever) change over the same
components, without the answer cache (a variant must never be served another's answer). Prints one row per
variant (rag.scoring's metrics and the change in accuracy against all rules on) and writes each variant's
records. A rule whose row shows no loss when it is off does not earn its place.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_rules --data-dir DIR [--half tune] [--only NAME]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import REPO
from rag.chat import ChatPolicy, ChatService
from rag.evaluation import answer_records, load_questions
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model
from rag.scoring import halves, score
from tuyabot.components import Components, chat_policy
from tuyabot.settings import get_settings

QUESTIONS = REPO / "bench" / "eval" / "questions.jsonl"
Change = Callable[[ChatPolicy], ChatPolicy]


def _rules(**changes: object) -> Change:
    return lambda p: dataclasses.replace(p, rules=dataclasses.replace(p.rules, **changes))


def _policy(**changes: object) -> Change:
    return lambda p: dataclasses.replace(p, **changes)


# rule switched off -> how (None: the synonyms, a retriever setting)
VARIANTS: dict[str, Change | None] = {
    "all rules on": _policy(),
    "next unit when the first holds no answer (CONTEXT_UNIT_TRIES=1)": _policy(unit_tries=1),
    "previous question in a follow-up's search": _policy(search_with_previous_question=False),
    "decline on weak retrieval (GROUNDING_MIN_SCORE)": _policy(min_dense_score=-1.0),
    "answer terms in the pages (GROUNDING_MIN_ANSWER_SHARE)": _policy(min_answer_context_share=0.0),
    "figure given for its own subject (Rules.figure_subjects)": _rules(figure_subjects=False),
    "second pass (GROUNDING_SECOND_PASS_MIN_SCORE)": _policy(second_pass_min_score=2.0),
    "passage completion (ANSWER_COMPLETE_PASSAGE)": _policy(complete_passage=False),
    "topic gate (Rules.topic_gate)": _rules(topic_gate=False),
    "customer words -> page words (RETRIEVAL_SYNONYM_WEIGHT)": None,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an index of the shared site v1")
    parser.add_argument("--half", choices=["tune", "test"], default="tune")
    parser.add_argument("--only", action="append", default=[], help="run only variants whose name holds this")
    parser.add_argument("--out", type=Path, default=Path("bench-rules"), help="folder for the records")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; flags: {' '.join(f for f in SHOWN_FLAGS if f in cpu_flags())}", flush=True)
    questions = load_questions(QUESTIONS)
    chosen = [q for q in questions if halves(questions)[q["id"]] == args.half]
    components = Components(get_settings(tuyabot_data_dir=args.data_dir, answer_cache=False), progress=False)
    components.warm_up()
    base = chat_policy(components.settings)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"| rule switched off ({args.half} half, {len(chosen)} questions) | accuracy | citation | refusal "
          "| false refusal | Δ accuracy |\n|---|---|---|---|---|---|", flush=True)
    reference = None
    try:
        for name, change in VARIANTS.items():
            if args.only and name != "all rules on" and not any(o in name for o in args.only):
                continue
            retriever = components.retriever if change is not None else \
                components.retriever.model_copy(update={"synonym_weight": 0.0})
            chat = ChatService(retriever, components.generator, components.conversations,
                               (change or _policy())(base))
            records = list(answer_records(chat, chosen, run_id=f"rules-{time.time():.0f}"))
            slug = "".join(c if c.isalnum() else "-" for c in name.lower())[:40].strip("-")
            (args.out / f"{slug}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                            for r in records), encoding="utf-8")
            metrics, _ = score(chosen, records)
            reference = metrics["answer_accuracy"] if reference is None else reference
            delta = metrics["answer_accuracy"] - reference
            print(f"| {name} | {metrics['answer_accuracy']} | {metrics['citation_accuracy']} | "
                  f"{metrics['refusal_accuracy']} | {metrics['false_refusal_rate']} | {delta:+.3f} |", flush=True)
    finally:
        components.close()


if __name__ == "__main__":
    main()
