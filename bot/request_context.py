"""The request id of the platform event being handled ("platform:chat:event"), for the logs.

Adapters set it when an update or event arrives; it follows the handling into worker threads (asyncio
copies the context), so every log line about one message carries the same id, and never its text.
"""

from __future__ import annotations

from contextvars import ContextVar

current: ContextVar[str] = ContextVar("tuyabot_request_id", default="")


def set_request(platform: str, chat: object, event_id: object) -> None:
    current.set(f"{platform}:{chat if chat is not None else '-'}:{event_id if event_id is not None else '-'}")
