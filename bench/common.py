"""Helpers shared by the benchmarks: the shared TUYA site on loopback, percentiles, settings."""

from __future__ import annotations

import importlib.util
import statistics
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tuyabot.settings import Settings  # noqa: E402


def load_module(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@contextmanager
def shared_site(settings: Settings, version: str) -> Iterator[str]:
    serve = load_module("tuya_site_serve", settings.shared_dir / "site" / "serve.py")
    server = serve.make_server(version)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def percentiles(values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    p95 = ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms (n={len(ordered)})"
