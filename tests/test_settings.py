"""Every setting is documented in .env.example with its real default, and read from the environment."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import TypeAdapter

from tuyabot.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def documented() -> dict[str, str]:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.M))


def test_env_example_lists_every_setting_with_its_default() -> None:
    env = documented()
    for name, field in Settings.model_fields.items():
        assert name.upper() in env, f"{name.upper()} missing from .env.example"
        default = field.default
        shown = env[name.upper()]
        if default is None:
            assert shown == "", name
        else:
            parsed = TypeAdapter(field.annotation).validate_python(shown)
            assert parsed == default, f"{name.upper()}: .env.example says {shown!r}, code says {default!r}"


def test_settings_come_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:6333")
    monkeypatch.setenv("QDRANT_API_KEY", "s3cret")
    monkeypatch.setenv("TUYABOT_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None)
    assert settings.qdrant_url == "http://127.0.0.1:6333"
    assert "s3cret" not in repr(settings)  # secrets never print
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'tuyabot.db'}"
