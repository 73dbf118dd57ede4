"""Answering benchmark: every available LLM backend side by side, in one run, on the same questions.

Indexes the shared site v1 once into a temporary folder, then, for each backend in its own process
(so that peak RSS is that backend's), asks the dev set's answerable questions (the first turn of each)
through the answering pipeline and prints, per backend: time to first token, full answer p50/p95,
prompt tokens/s, decode tokens/s, peak RSS, and the first answer after loading (as after a restart);
and the CPU and its flags.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_answer [--questions 8] [--backends llamacpp transformers]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import percentiles, shared_site
from rag.chat import Answer
from rag.evaluation import load_questions
from rag.generator import LocalChatModel
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model, llamacpp_unavailable_reason
from storage.conversations import ConversationKey
from tuyabot.components import Components
from tuyabot.settings import get_settings


def measure(backend: str, data_dir: Path, count: int) -> dict[str, object]:
    """Ask the questions through one backend; the figures as a dict."""
    settings = get_settings(tuyabot_data_dir=data_dir, llm_backend=backend)
    components = Components(settings, progress=False)
    started = time.perf_counter()
    components.warm_up()
    load_s = time.perf_counter() - started
    questions = [q for q in load_questions(settings.shared_dir / "eval" / "dev.jsonl")
                 if q.get("kind") in ("fact", "english")][:count]
    first, total, prompt_rates, decode_rates = [], [], [], []
    for i, q in enumerate(questions):
        key = ConversationKey("bench", f"{backend}-{time.time():.0f}", f"q{i}")  # no history from an earlier run
        answer = next(item for item in components.chat.stream(key, q["turns"][0]) if isinstance(item, Answer))
        t = answer.timings
        total.append(t["total_ms"])
        first.append(t.get("first_token_ms", t["total_ms"]))
        stats = components.generator.last_stats if isinstance(components.generator, LocalChatModel) else None
        if stats and stats.prompt_seconds > 0:
            prompt_rates.append(stats.prompt_tokens / stats.prompt_seconds)
        if stats and stats.decode_seconds > 0 and stats.new_tokens > 1:
            decode_rates.append(stats.new_tokens / stats.decode_seconds)
        print(f"  [{backend}] {q['id']}: {answer.status}, first token {first[-1]:.0f} ms, total {t['total_ms']:.0f} ms",
              file=sys.stderr, flush=True)
    components.close()
    return {"backend": backend, "model": components.generator.name, "load_s": round(load_s, 1),
            "first_answer_after_load_ms": round(total[0]) if total else None,
            "first_token": percentiles(first), "full_answer": percentiles(total),
            "prompt_tokens_per_s": round(statistics.median(prompt_rates), 1) if prompt_rates else None,
            "decode_tokens_per_s": round(statistics.median(decode_rates), 1) if decode_rates else None,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--backends", nargs="+", default=["llamacpp", "transformers"])
    parser.add_argument("--data-dir", type=Path, help="a data folder already holding the v1 index (else one is "
                        "built in a temporary folder)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one backend, in this process
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.data_dir, args.questions)))
        return
    print(f"CPU: {cpu_model()}; flags: {' '.join(f for f in SHOWN_FLAGS if f in cpu_flags()) or 'none of note'}")
    with tempfile.TemporaryDirectory(prefix="tuyabot-bench-") as tmp:
        if args.data_dir is None:
            settings = get_settings(tuyabot_data_dir=Path(tmp), crawl_delay_seconds=0.0)
            components = Components(settings, progress=False)
            with shared_site(settings, "v1") as base:
                components.indexer.index(base)
            components.close()
        data_dir = str(args.data_dir or tmp)
        for backend in args.backends:
            if backend == "llamacpp" and llamacpp_unavailable_reason():
                print(f"{backend}: skipped ({llamacpp_unavailable_reason()})")
                continue
            command = [sys.executable, "-m", "bench.bench_answer", "--child", backend, "--data-dir", data_dir,
                       "--questions", str(args.questions)]
            child = subprocess.run(command, capture_output=True, text=True)
            if child.returncode != 0:
                print(f"{backend}: failed: {child.stderr.strip()[-500:]}")
                continue
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            print("\n".join(f"{backend:12} {key}: {value}" for key, value in figures.items() if key != "backend"))


if __name__ == "__main__":
    main()
