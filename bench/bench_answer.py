"""Answering benchmark on CPU: time to first token, full answer time, tokens/s, peak RSS, retrieval share.

Indexes the shared site v1 into a temporary folder, then asks the dev set's answerable questions
(the first turn of each) through ChatService.stream with the configured LLM (offline profile: Qwen2.5
1.5B, in-process transformers; LLM_BACKEND=openai + LLM_BASE_URL to measure a served model).

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_answer [--questions 8]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import percentiles, shared_site
from rag.chat import Answer
from rag.evaluation import load_questions
from storage.conversations import ConversationKey
from tuyabot.components import Components
from tuyabot.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuyabot-bench-") as tmp:
        settings = get_settings(tuyabot_data_dir=Path(tmp), crawl_delay_seconds=0.0)
        components = Components(settings, progress=False)
        with shared_site(settings, "v1") as base:
            components.indexer.index(base)
        started = time.perf_counter()
        load = getattr(components.generator, "load", None)
        if load:
            load()
        print(f"LLM {components.generator.name}: loaded in {time.perf_counter() - started:.1f} s")
        tokenizer = components.generator.weights[0] if hasattr(components.generator, "_pieces") else None
        questions = [q for q in load_questions(settings.shared_dir / "eval" / "dev.jsonl")
                     if q.get("kind") in ("fact", "english")][: args.questions]
        first, total, rates, shares = [], [], [], []
        for i, q in enumerate(questions):
            key = ConversationKey("bench", "bench", f"q{i}")
            text, answer = "", None
            for item in components.chat.stream(key, q["turns"][0]):
                if isinstance(item, Answer):
                    answer = item
                else:
                    text += item
            assert answer is not None
            t = answer.timings
            total.append(t["total_ms"])
            shares.append(t.get("retrieve_ms", 0.0) / t["total_ms"])
            if "first_token_ms" in t:
                first.append(t["first_token_ms"])
            if tokenizer is not None and "first_token_ms" in t and answer.status == "answered":
                n = len(tokenizer(answer.text, add_special_tokens=False)["input_ids"])
                decode_s = (t["total_ms"] - t["first_token_ms"]) / 1000  # after the first token
                if n > 1:
                    rates.append((n - 1) / max(decode_s, 1e-6))
            print(f"  {q['id']}: {answer.status}, first token {t.get('first_token_ms', 0):.0f} ms, "
                  f"total {t['total_ms']:.0f} ms")
        print(f"time to first token: {percentiles(first)}")
        print(f"full answer: {percentiles(total)}")
        if rates:
            print(f"decode speed: median {statistics.median(rates):.1f} tokens/s")
        print(f"retrieval share of the latency: median {100 * statistics.median(shares):.1f} %")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        components.close()


if __name__ == "__main__":
    main()
