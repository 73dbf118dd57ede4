"""Which failed Bot API calls are tried again: passing faults, and only where a repeat posts nothing twice."""

from __future__ import annotations

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.telegram.delivery import worth_retrying


def _caused(exc: Exception, cause: Exception) -> Exception:
    exc.__cause__ = cause
    return exc


GATEWAY = NetworkError("Bad Gateway")  # Telegram answered 502: it did nothing
REFUSED = _caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused"))
DROPPED = _caused(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("disconnected"))
READ_TIMEOUT = _caused(TimedOut(), httpx.ReadTimeout("read"))
POOL_TIMEOUT = _caused(TimedOut("Pool timeout"), httpx.PoolTimeout("pool"))


@pytest.mark.parametrize(("exc", "endpoint", "retried"), [
    (GATEWAY, "sendMessage", True),
    (REFUSED, "sendMessage", True),
    (POOL_TIMEOUT, "sendMessage", True),
    (READ_TIMEOUT, "sendMessage", False),  # it may have been posted: a repeat could show it twice
    (DROPPED, "sendMessage", False),
    (READ_TIMEOUT, "editMessageText", True),  # an edit repeated changes nothing
    (DROPPED, "answerCallbackQuery", True),
    (READ_TIMEOUT, "sendChatAction", True),
    (BadRequest("message is too long"), "editMessageText", False),  # refusals say the same every time
    (Forbidden("bot was blocked by the user"), "sendMessage", False),
    (ValueError("a bug"), "sendMessage", False),
])
def test_only_passing_faults_are_retried_and_never_where_a_message_could_be_posted_twice(
        exc: Exception, endpoint: str, retried: bool) -> None:
    assert worth_retrying(exc, endpoint) is retried
