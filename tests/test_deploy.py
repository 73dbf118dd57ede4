"""The deployment files agree with the code: every variable docker-compose sets is a setting; the image
installs what the compose file needs."""

from __future__ import annotations

from pathlib import Path

import yaml

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


def test_the_image_installs_the_postgres_driver_and_the_ci_workflow_runs_ci() -> None:
    assert 'pip install ".[postgres]"' in (REPO / "Dockerfile").read_text(encoding="utf-8")
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["ci"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)
