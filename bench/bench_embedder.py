"""Embedder benchmark: the configured embedder in float32 beside its CPU variants, in one run, on the same
passages of the shared corpus: seconds a passage and cosine to the float32 vectors (a variant is worth
taking only at cosine >= 0.99), with the CPU and its flags.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_embedder [--passages 16]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable

import numpy as np

from rag.embedder import Embedder
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model
from tuyabot.components import Components
from tuyabot.settings import get_settings

MIN_PASSAGE_CHARS = 700


def passages(count: int) -> list[str]:
    """Runs of the corpus pages' longer lines, each about a chunk long."""
    settings = get_settings()
    out: list[str] = []
    with open(settings.shared_dir / "corpus" / "tuya-pages.jsonl", encoding="utf-8") as pages:
        for page in map(json.loads, pages):
            run = ""
            for line in (line for line in page["text"].splitlines() if len(line) > 40):
                run += line + "\n"
                if len(run) > MIN_PASSAGE_CHARS:
                    out.append(run)
                    run = ""
    return out[:count]


def dynamic_int8(embedder: Embedder) -> None:
    """torch's dynamic int8 quantisation of the model's linear layers (weights int8, activations quantised on
    the fly): the cheap CPU variant that needs no export."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedder.__dict__["model"] = torch.ao.quantization.quantize_dynamic(embedder.model, {torch.nn.Linear},
                                                                            dtype=torch.qint8)


def timed(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    """The passages' vectors and the seconds a passage took (after one warm-up passage, not counted)."""
    embedder.embed_documents(texts[:1])
    started = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    return vectors, (time.perf_counter() - started) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=16)
    args = parser.parse_args()
    texts = passages(args.passages)
    print(f"CPU: {cpu_model()}; flags: {' '.join(f for f in SHOWN_FLAGS if f in cpu_flags()) or 'none of note'}")
    print(f"{len(texts)} passages, {sum(map(len, texts)) / len(texts):.0f} characters on average")
    variants: dict[str, Callable[[Embedder], None] | None] = {"float32": None, "dynamic int8": dynamic_int8}
    reference: np.ndarray | None = None
    for label, make in variants.items():
        embedder = Components(get_settings(embedding_dtype="float32"), progress=False).embedder
        if make is not None:
            make(embedder)
        vectors, seconds = timed(embedder, texts)
        reference = vectors if reference is None else reference
        cosine = (vectors * reference).sum(axis=1)
        print(f"{label:14} {seconds:.2f} s a passage; cosine to float32 min {cosine.min():.3f} "
              f"mean {cosine.mean():.3f}")


if __name__ == "__main__":
    main()
