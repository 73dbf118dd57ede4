"""What this machine can compute with: CUDA, native bf16 on the CPU (AMX / AVX512-BF16), AVX2, physical cores;
and from that, which LLM backend answers fastest here.

The choice is made from what the CPU has, never from what a developer's machine had: llama.cpp (a GGUF as
it is, int8/int4 kernels) on CPUs without native bf16, where transformers would run the model in float32;
transformers in bf16 on CUDA (the production path) and on CPUs with AMX, where it measured faster.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BF16_FLAGS = ("amx_bf16", "amx_tile", "avx512_bf16")
SHOWN_FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_tile", "amx_bf16")


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def native_bf16() -> bool:
    """Whether the CPU computes bf16 natively (AMX or AVX512-BF16)."""
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def physical_cores() -> int:
    """Cores this process may use, counting each physical core once (llama.cpp's best thread count)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or available
    except ImportError:
        physical = available
    return max(1, min(available, physical))


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def llamacpp_unavailable_reason() -> str:
    """Why the llama.cpp runtime cannot run here ("" when it can)."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "the llama.cpp runtime (xllamacpp) is not installed"
    flags = cpu_flags()
    if flags and not {"avx2", "fma"} <= flags:
        return "the CPU lacks AVX2/FMA, which the prebuilt llama.cpp runtime needs"
    return ""


@dataclass(frozen=True)
class BackendChoice:
    backend: str  # "transformers" | "llamacpp" | "openai"
    reason: str

    def describe(self) -> str:
        shown = " ".join(f for f in SHOWN_FLAGS if f in cpu_flags()) or "none of note"
        return f"LLM backend {self.backend}: {self.reason} (CPU {cpu_model()}; flags: {shown})"


def choose_backend(configured: str, *, has_gguf: bool, device: str | None) -> BackendChoice:
    """The backend for LLM_BACKEND (``auto``: CUDA -> transformers bf16; any CPU where llama.cpp runs and the
    model is a GGUF -> llama.cpp, which reads each knowledge unit once and keeps its state, so an answer
    processes only the question: measured faster than transformers even with AMX (README "Measured");
    otherwise transformers, in bf16 where the CPU has it natively, else float32)."""
    if configured != "auto":
        return BackendChoice(configured, f"LLM_BACKEND={configured}")
    if (device or "").startswith("cuda") or (device is None and cuda_available()):
        return BackendChoice("transformers", "CUDA is available (bf16 on the GPU)")
    unavailable = llamacpp_unavailable_reason() or ("" if has_gguf else "the model is not a GGUF file")
    if not unavailable:
        return BackendChoice("llamacpp", "a CPU and a GGUF: llama.cpp keeps each unit's state, so an answer "
                             "reads only the question")
    if native_bf16():
        return BackendChoice("transformers", f"llama.cpp cannot run ({unavailable}); the CPU has native bf16")
    return BackendChoice("transformers", f"no native bf16 on this CPU, and llama.cpp cannot run: {unavailable}; "
                         "transformers runs in float32 (slow)")
