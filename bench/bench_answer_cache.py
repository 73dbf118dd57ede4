"""Answer cache benchmark: the similarity threshold calibrated on paraphrase pairs, then hits timed.

`bench/eval/paraphrases.jsonl` holds pairs of questions that mean the same (``same``: the answer of one is
right for the other) and pairs that only look alike (another product, city or figure). Pairs are split
by their position into tune and test halves. The threshold is the lowest that serves no look-alike
pair of the tune half (plus ``--margin``); the test half reports what it serves wrongly and misses.

With ``--data-dir`` (an index of the shared site), every test pair is then asked through the real
pipeline: question a (answered and kept), then question b; it prints whether b was served a's answer,
and how long a hit takes (the cache is a fresh SQLite file, so nothing earlier is served).

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_answer_cache [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from bench.common import REPO, percentiles
from rag.hardware import cpu_model
from storage.conversations import ConversationKey
from tuyabot.components import Components
from tuyabot.settings import get_settings

PAIRS = REPO / "bench" / "eval" / "paraphrases.jsonl"


def similarities(components: Components, pairs: list[dict]) -> list[float]:  # type: ignore[type-arg]
    embed = components.embedder.embed_query
    return [float(np.dot(embed(p["a"]), embed(p["b"]))) for p in pairs]


def calibrate(pairs: list[dict], cosines: list[float], margin: float) -> float:  # type: ignore[type-arg]
    """The lowest threshold that serves no look-alike pair of the tune half, plus ``margin``."""
    lookalike = [c for p, c in zip(pairs, cosines, strict=True) if p["half"] == "tune" and not p["same"]]
    return round(max(lookalike) + margin, 3)


def report(pairs: list[dict], cosines: list[float], threshold: float, half: str) -> None:  # type: ignore[type-arg]
    chosen = [(p, c) for p, c in zip(pairs, cosines, strict=True) if p["half"] == half]
    served = [(p, c) for p, c in chosen if c >= threshold]
    wrong = [(p, c) for p, c in served if not p["same"]]
    missed = [(p, c) for p, c in chosen if p["same"] and c < threshold]
    same = sum(p["same"] for p, _ in chosen)
    precision = (len(served) - len(wrong)) / len(served) if served else 1.0
    recall = (same - len(missed)) / max(same, 1)
    print(f"{half}: {len(chosen)} pairs ({same} same); served {len(served)}, wrongly {len(wrong)} "
          f"(precision {precision:.2f}); missed {len(missed)} of {same} (recall {recall:.2f})")
    for p, c in wrong:
        print(f"  WRONG {p['id']} {c:.3f}: {p['a']} | {p['b']}")
    for p, c in missed:
        print(f"  missed {p['id']} {c:.3f}: {p['a']} | {p['b']}")


def timed_hits(data_dir: Path, threshold: float, pairs: list[dict]) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="tuyabot-cache-") as tmp:
        settings = get_settings(tuyabot_data_dir=data_dir, database_url=f"sqlite:///{tmp}/cache.db",
                                answer_cache_min_similarity=threshold)
        components = Components(settings, progress=False)
        components.warm_up()
        hits, misses_ms, wrong = [], [], 0
        for n, p in enumerate(p for p in pairs if p["half"] == "test"):
            first = components.chat.answer(ConversationKey("bench", "cache", f"a{n}"), p["a"])
            second = components.chat.answer(ConversationKey("bench", "cache", f"b{n}"), p["b"])
            hit = second.timings.get("cache_hit") == 1.0
            if hit:
                hits.append(second.timings["total_ms"])
                wrong += not p["same"]
            else:
                misses_ms.append(second.timings["total_ms"])
            print(f"  {p['id']} same={p['same']}: a {first.status} {first.timings['total_ms']:.0f} ms; "
                  f"b {'HIT' if hit else 'miss'} {second.timings['total_ms']:.0f} ms")
        components.close()
    print(f"hits: {len(hits)} ({wrong} served for a look-alike); hit time {percentiles(hits) if hits else '-'}; "
          f"full answers {percentiles(misses_ms) if misses_ms else '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an index of the shared site: also time hits through the "
                        "pipeline")
    parser.add_argument("--margin", type=float, default=0.01)
    args = parser.parse_args()
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for i, p in enumerate(pairs):
        p["half"] = "tune" if i % 2 == 0 else "test"
    print(f"CPU: {cpu_model()}")
    with tempfile.TemporaryDirectory(prefix="tuyabot-cache-") as tmp:
        models = get_settings().models_dir
        components = Components(get_settings(tuyabot_data_dir=Path(tmp), tuyabot_models_dir=models), progress=False)
        cosines = similarities(components, pairs)
        print(f"embedder: {components.embedder.name}")
        components.close()
    for same in (True, False):
        values = [c for p, c in zip(pairs, cosines, strict=True) if p["same"] == same]
        print(f"{'same meaning' if same else 'look-alike  '}: cosine min {min(values):.3f}, "
              f"median {float(np.median(values)):.3f}, max {max(values):.3f}")
    threshold = calibrate(pairs, cosines, args.margin)
    print(f"threshold (tune half, margin {args.margin}): {threshold}")
    for half in ("tune", "test"):
        report(pairs, cosines, threshold, half)
    if args.data_dir:
        timed_hits(args.data_dir, threshold, pairs)


if __name__ == "__main__":
    main()
