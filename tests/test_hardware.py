"""LLM_BACKEND=auto chooses by what the CPU has, and says why."""

from __future__ import annotations

import pytest

from rag import hardware


@pytest.fixture
def cpu(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def set_cpu(flags: str, *, cuda: bool = False, llamacpp: str = "") -> None:
        monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags.split()))
        monkeypatch.setattr(hardware, "cuda_available", lambda: cuda)
        monkeypatch.setattr(hardware, "llamacpp_unavailable_reason", lambda: llamacpp)
    return set_cpu


def test_auto_picks_llamacpp_on_every_cpu_class_and_transformers_on_cuda(cpu) -> None:
    cpu("fpu sse avx avx2 fma f16c")
    choice = hardware.choose_backend("auto", has_gguf=True, device=None)
    assert choice.backend == "llamacpp" and "state" in choice.reason
    assert "avx2 fma" in choice.describe()
    for flags in ("avx2 fma avx512f avx512_bf16", "avx2 fma avx512f avx512_bf16 amx_tile amx_bf16"):
        cpu(flags)
        assert hardware.choose_backend("auto", has_gguf=True, device=None).backend == "llamacpp"
    cpu("avx2 fma avx512f avx512_bf16 amx_tile amx_bf16")
    bf16 = hardware.choose_backend("auto", has_gguf=False, device=None)
    assert bf16.backend == "transformers" and "native bf16" in bf16.reason and "not a GGUF" in bf16.reason
    cpu("avx2 fma", cuda=True)
    assert "CUDA" in hardware.choose_backend("auto", has_gguf=True, device=None).reason


def test_auto_falls_back_to_transformers_with_the_reason(cpu) -> None:
    cpu("sse sse2 avx", llamacpp="the CPU lacks AVX2/FMA, which the prebuilt llama.cpp runtime needs")
    choice = hardware.choose_backend("auto", has_gguf=True, device=None)
    assert choice.backend == "transformers" and "lacks AVX2" in choice.reason and "float32" in choice.reason
    cpu("avx2 fma")
    no_gguf = hardware.choose_backend("auto", has_gguf=False, device=None)
    assert no_gguf.backend == "transformers" and "not a GGUF" in no_gguf.reason


def test_a_configured_backend_is_kept(cpu) -> None:
    cpu("avx2 fma")
    assert hardware.choose_backend("transformers", has_gguf=True, device=None).backend == "transformers"
    assert hardware.choose_backend("openai", has_gguf=False, device=None).reason == "LLM_BACKEND=openai"


def test_this_machine_is_described() -> None:
    assert hardware.physical_cores() >= 1
    assert hardware.cpu_model()
