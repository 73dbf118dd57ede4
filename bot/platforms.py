"""The chat platforms the service can run, by name. Adding a platform is adding its package under ``bot/``
and one entry here; the command line needs no edit.

Each platform module exposes ``build(core, settings)`` (checks the platform's settings and wires its
handlers, raising ``PlatformSetupError`` with what to set) and ``async serve(app, settings, in_flight)``
(runs until cancelled, then stops taking messages, drains ``in_flight`` and closes). Modules load only
when their platform is used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Platform:
    module: str  # where build() and serve() live
    required: str  # the setting whose presence means "configured" (a token)
    hint: str  # what an operator sets to configure it


PLATFORMS: dict[str, Platform] = {
    "telegram": Platform("bot.telegram.app", "telegram_bot_token", "TELEGRAM_BOT_TOKEN"),
    "slack": Platform("bot.slack.app", "slack_bot_token",
                      "SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)"),
    "web": Platform("bot.web.app", "web_port", "WEB_PORT (the web chat's port)"),
}


class PlatformSetupError(RuntimeError):
    """A platform's settings cannot start it (missing token or secret); the message says what to set."""


def platform_module(name: str) -> ModuleType:
    """The module of a platform by name (``KeyError`` for an unknown one)."""
    return importlib.import_module(PLATFORMS[name].module)


def configured_platforms(settings: Any) -> list[str]:
    """The platforms whose token is set, in registry order."""
    def is_set(value: Any) -> bool:
        secret = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        return bool(secret)

    return [name for name, p in PLATFORMS.items() if is_set(getattr(settings, p.required, None))]


def not_configured_message() -> str:
    return "no chat platform is configured: set " + "; or ".join(
        f"{p.hint} ({name})" for name, p in PLATFORMS.items())
