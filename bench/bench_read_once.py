"""Read once beside today's path: the same questions, one after the other, in one run.

- ``today``: the path before knowledge units, as ``auto`` chose it on this CPU (transformers bf16 where bf16
  is native, else llama.cpp), reading the top hits and the chunks after them, ordered for each question.
- ``read-once``: llama.cpp reading the best hit's knowledge unit from its kept state (computed first if
  missing), the next unit when the first does not hold the answer.

Both without the answer cache (its own benchmark is bench/bench_answer_cache.py). For each question of
the chosen half, today's path answers, then read-once; prints both paths' scores (rag.scoring), full
answer and first-visible-text percentiles, and writes each path's records for ../shared/eval/score.py.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_read_once --data-dir DIR [--half test] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.common import REPO, percentiles
from rag.chat import ChatService
from rag.evaluation import answer_records, load_questions
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model, native_bf16
from rag.scoring import halves, score
from tuyabot.components import Components, chat_policy
from tuyabot.settings import get_settings

QUESTIONS = REPO / "bench" / "eval" / "questions.jsonl"


def paths(data_dir: Path) -> tuple[Components, dict[str, ChatService]]:
    """One index, embedder and history; two chat services over them."""
    new = Components(get_settings(tuyabot_data_dir=data_dir, llm_backend="llamacpp", answer_cache=False),
                     progress=False)
    new.warm_up()
    new.keep_unit_states(compute=True)
    old_backend = "transformers" if native_bf16() else "llamacpp"
    old = Components(get_settings(tuyabot_data_dir=data_dir, llm_backend=old_backend, context_mode="chunks",
                                  llm_keep_unit_state=False, answer_cache=False), progress=False)
    for shared in ("db", "store", "embedder"):
        old.__dict__[shared] = getattr(new, shared)
    old.generator.load()
    services = {f"today ({old_backend}, chunks)": ChatService(new.retriever, old.generator, new.conversations,
                                                              chat_policy(old.settings)),
                "read-once (llamacpp, units)": new.chat}
    return new, services


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an index of the shared site v1")
    parser.add_argument("--half", choices=["tune", "test"], default="test")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of the half")
    parser.add_argument("--out", type=Path, default=Path("bench-read-once"), help="folder for the records")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; flags: {' '.join(f for f in SHOWN_FLAGS if f in cpu_flags())}")
    questions = load_questions(QUESTIONS)
    chosen = [q for q in questions if halves(questions)[q["id"]] == args.half][: args.limit or None]
    components, services = paths(args.data_dir)
    records: dict[str, list[dict]] = {name: [] for name in services}  # type: ignore[type-arg]
    for q in chosen:
        for name, chat in services.items():
            record = next(answer_records(chat, [q], run_id=f"{name[:5]}{time.time():.0f}"))
            records[name].append(record)
            print(f"  {q['id']} {name}: {record['status']} {record['latency_ms']:.0f} ms", file=sys.stderr,
                  flush=True)
    components.close()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{args.half} half, {len(chosen)} questions")
    for name, recs in records.items():
        (args.out / f"{name.split()[0]}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
        metrics, failures = score(chosen, recs)
        shown = [r["first_shown_ms"] for r in recs if r.get("first_shown_ms") is not None]
        print(f"\n{name}")
        for key in ("answer_accuracy", "citation_accuracy", "false_refusal_rate", "refusal_accuracy"):
            print(f"  {key}: {metrics[key]}")
        print(f"  full answer: {percentiles([r['latency_ms'] for r in recs])}")
        print(f"  first visible text: {percentiles(shown) if shown else '-'}")
        for qid, why in failures:
            print(f"    x {qid}: {why}")


if __name__ == "__main__":
    main()
