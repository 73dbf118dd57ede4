"""The chat platforms the service can run, by name. Adding a platform is adding its package under ``bot/``
and one line here; the command line needs no edit.

Each platform module exposes ``build(core, settings)`` (checks the platform's settings and wires its
handlers, raising ``PlatformSetupError`` with what to set) and ``async serve(app, settings)`` (runs until
cancelled, then stops cleanly). Modules load only when their platform is used.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PLATFORMS: dict[str, str] = {
    "telegram": "bot.telegram.app",
    "slack": "bot.slack.app",
}


class PlatformSetupError(RuntimeError):
    """A platform's settings cannot start it (missing token or secret); the message says what to set."""


def platform_module(name: str) -> ModuleType:
    """The module of a platform by name (``KeyError`` for an unknown one)."""
    return importlib.import_module(PLATFORMS[name])
