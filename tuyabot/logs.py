"""Logging for every command: text or JSON lines (LOG_FORMAT), the request id on each line, secrets redacted."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from bot import request_context
from tuyabot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
QUIET = ("httpx", "httpcore", "sentence_transformers", "transformers", "alembic")


class RequestId(logging.Filter):
    """Adds ``request_id`` (and, for text lines, `` [id]``) from the event being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_context.current.get()
        record.request_tag = f" [{record.request_id}]" if record.request_id else ""
        return True


class RedactSecrets(logging.Filter):
    """Replaces every configured secret (tokens, API keys) in log lines and tracebacks with ***."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg, record.args = self.redact(record.getMessage()), ()
            if record.exc_info or record.exc_text:
                record.exc_text = self.redact(record.exc_text or logging.Formatter().formatException(record.exc_info))
                record.exc_info = None  # formatters then print the redacted text, not the traceback again
        return True


def configure_logging(settings: Settings) -> None:
    """A handler on stderr in the configured format (unless the process already has one, e.g. under pytest),
    with request ids and secrets redacted on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_formatter(settings.log_format))
        root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.captureWarnings(True)  # library warnings as log lines too (one format on stderr)
    for handler in root.handlers:
        handler.addFilter(RequestId())
        handler.addFilter(RedactSecrets(settings.secrets()))
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                             rename_fields={"levelname": "level", "name": "logger"})
    return logging.Formatter(TEXT_FORMAT)
