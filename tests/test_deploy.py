"""The deployment files agree with the code: every variable docker-compose sets is a setting; the image
installs what the compose file needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

from tuyabot.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def test_every_variable_the_compose_file_sets_is_a_setting() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    assert set(compose["services"]) == {"bot", "qdrant", "postgres"}
    unknown = [name for name in bot["environment"] if name.lower() not in Settings.model_fields]
    assert unknown == []
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert bot["command"] == ["serve"] and "readyz" in " ".join(bot["healthcheck"]["test"])
    assert all("healthcheck" in service for service in compose["services"].values())
    assert set(compose["volumes"]) == {"tuyabot-data", "qdrant-data", "postgres-data"}


def test_the_image_installs_the_lock_ci_tests_and_the_ci_workflow_runs_ci() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install -r requirements.lock" in dockerfile and 'pip install --no-deps ".[postgres]"' in dockerfile
    assert "pip install --quiet -r requirements.lock" in (REPO / ".ci" / "install").read_text(encoding="utf-8")
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["ci"]["steps"]
    (ci,) = [step for step in steps if step.get("run") == "bash .ci/run"]
    assert ci["env"]["TUYABOT_SHARED_OPTIONAL"] == "1"  # GitHub has no shared site: every other test runs


def test_without_the_shared_site_every_other_test_is_collected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What .ci/run runs on a public CI (TUYABOT_SHARED_OPTIONAL=1 and no shared folder): -m "not acceptance"."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TUYABOT_SHARED_DIR": str(tmp_path / "nowhere")}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-m", "not acceptance"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    selected = int(re.search(r"(\d+)(?:/\d+)? tests? collected", done.stdout).group(1))
    assert selected > 250 and "error" not in done.stdout.strip().splitlines()[-1]  # the summary: no error


def test_the_lock_holds_every_pin_of_pyproject_at_its_version() -> None:
    """requirements.lock (made by .ci/lock) is what the image and CI install: it must not drift from the pins."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    lock = {}
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[_normal(name)] = version
    for pin in pins:
        requirement = Requirement(pin)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{pin}: pin an exact version"
        assert lock.get(_normal(requirement.name)) == specifier.version, f"{pin}: run .ci/lock"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _audit_verdict(tmp_path: Path, dependencies: list[dict[str, object]], **env: str) -> subprocess.CompletedProcess:
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}), encoding="utf-8")
    return subprocess.run([sys.executable, str(REPO / ".ci" / "audit_verdict.py"), str(report)], capture_output=True,
                          text=True, env={**os.environ, **env})


def test_the_audit_fails_on_a_vulnerability_with_a_fix_and_says_when_it_could_not_audit(tmp_path: Path) -> None:
    clean = {"name": "httpx", "version": "0.28.1", "vulns": []}
    unfixed = {"name": "torch", "version": "2.13.0", "vulns": [{"id": "PYSEC-1", "fix_versions": []}]}
    fixable = {"name": "aiohttp", "version": "3.14.5", "vulns": [{"id": "GHSA-x", "fix_versions": ["3.14.6"]}]}
    skipped = {"name": "tuyabot", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    assert _audit_verdict(tmp_path, [clean, unfixed, skipped]).returncode == 0
    failed = _audit_verdict(tmp_path, [clean, fixable])
    assert failed.returncode == 1 and "aiohttp 3.14.5: GHSA-x (fixed in 3.14.6)" in failed.stdout
    offline = _audit_verdict(tmp_path, [skipped])
    assert offline.returncode == 0 and "not reachable" in offline.stderr
    assert _audit_verdict(tmp_path, [skipped], TUYABOT_AUDIT="required").returncode == 1
