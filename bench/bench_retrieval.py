"""Retrieval quality per embedder and retrieval mode on the shared dev set (scored by its score.py).

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_retrieval [--models embeddinggemma-300m all-minilm-l6-v2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import load_module, shared_site
from rag import model_fetch
from rag.evaluation import load_questions, retrieval_records
from tuyabot.components import Components
from tuyabot.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["embeddinggemma-300m", "all-minilm-l6-v2"])
    parser.add_argument("--modes", nargs="*", default=["hybrid", "dense", "sparse"])
    args = parser.parse_args()
    print(f"{'embedder':22} {'mode':7} {'context_hit@5':>13} {'source_hit@5':>12} {'mrr@5':>6} {'index s':>8}")
    for model in args.models:
        with tempfile.TemporaryDirectory(prefix="tuyabot-bench-") as tmp:
            settings = get_settings(tuyabot_data_dir=Path(tmp), embedding_model=model, crawl_delay_seconds=0.0)
            model_fetch.fetch(model, settings.models_dir)
            scorer = load_module("tuya_eval_score", settings.shared_dir / "eval" / "score.py")
            questions = load_questions(settings.shared_dir / "eval" / "dev.jsonl")
            kb = Components(settings, progress=False)
            with shared_site(settings, "v1") as base:
                started = time.perf_counter()
                kb.indexer.index(base)
                index_s = time.perf_counter() - started
            for mode in args.modes:
                kb.retriever.mode = mode
                metrics, _ = scorer.score(questions, list(retrieval_records(kb.retriever, questions, 5)), k=5)
                print(f"{model:22} {mode:7} {metrics['context_hit@5']:13.3f} {metrics['source_hit@5']:12.3f} "
                      f"{metrics['mrr@5']:6.3f} {index_s:8.1f}")
            kb.close()


if __name__ == "__main__":
    main()
