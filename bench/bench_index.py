"""Knowledge-base benchmark: index time of the shared site v1, no-change refresh, query latency,
and query latency of local-mode Qdrant at 10k and 100k synthetic chunks.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_index [--synthetic 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import percentiles, shared_site
from rag.chat import history_query
from rag.evaluation import load_questions
from rag.sparse import encode_query
from storage.records import Chunk, SparseVector, chunk_id
from storage.vector_store import VectorStore
from tuyabot.components import Components
from tuyabot.settings import get_settings


def site_figures(data_dir: Path) -> None:
    settings = get_settings(tuyabot_data_dir=data_dir, crawl_delay_seconds=0.0)
    kb = Components(settings, progress=False)
    print(f"embedder: {settings.embedding_model} ({kb.embedder.name}, device {kb.embedder.device})")
    with shared_site(settings, "v1") as base:
        started = time.perf_counter()
        report = kb.indexer.index(base)
        total = time.perf_counter() - started
        print(f"index v1 (cold: model load + crawl + embed {report.chunks_embedded} chunks + store): {total:.1f} s "
              f"[{len(report.added)} pages, {report.chunks_total} chunks]")
        started = time.perf_counter()
        again = kb.indexer.refresh(base)
        print(f"refresh v1 with no change: {time.perf_counter() - started:.2f} s "
              f"(embedded {again.chunks_embedded})")
    questions = load_questions(settings.shared_dir / "eval" / "dev.jsonl")
    kb.retriever.search("calentamiento", 5)
    latencies = []
    for _ in range(3):
        for q in questions:
            started = time.perf_counter()
            kb.retriever.search(history_query(q["turns"]), settings.retrieval_top_k)
            latencies.append((time.perf_counter() - started) * 1000)
    print(f"query latency (embed query + hybrid search, {report.chunks_total} chunks): {percentiles(latencies)}")
    kb.close()


def synthetic_figures(data_dir: Path, sizes: list[int], dim: int) -> None:
    rng = np.random.default_rng(7)
    for size in sizes:
        store = VectorStore("synthetic", path=data_dir / f"synthetic-{size}")
        collection = store.new_version(dim)
        started = time.perf_counter()
        batch = 2000
        for start in range(0, size, batch):
            n = min(batch, size - start)
            dense = rng.standard_normal((n, dim)).astype(np.float32)
            dense /= np.linalg.norm(dense, axis=1, keepdims=True)
            chunks = [Chunk(chunk_id("https://synthetic/", start + i), f"https://synthetic/{(start + i) // 10}",
                            "Página", "", f"texto {start + i}", start + i) for i in range(n)]
            sparse = [SparseVector(sorted({int(x) for x in rng.integers(0, 50_000, 40)}), [1.0] * 40)
                      for _ in range(n)]
            sparse = [SparseVector(s.indices, [1.0] * len(s.indices)) for s in sparse]
            store.upsert(collection, chunks, dense, sparse)
        store.publish(collection)
        load_s = time.perf_counter() - started
        latencies = []
        for i in range(30):
            q = rng.standard_normal(dim).astype(np.float32)
            q /= np.linalg.norm(q)
            started = time.perf_counter()
            store.search(q, encode_query(f"tarjeta credito tasa {i}"), 30)
            latencies.append((time.perf_counter() - started) * 1000)
        print(f"local-mode Qdrant, {size} chunks (dim {dim}): load {load_s:.0f} s; "
              f"hybrid search (2 queries) {percentiles(latencies)}")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--skip-site", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuyabot-bench-") as tmp:
        dim = 768
        if not args.skip_site:
            site_figures(Path(tmp) / "site")
        synthetic_figures(Path(tmp), args.synthetic, dim)
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
