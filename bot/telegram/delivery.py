"""Bot API calls that survive Telegram's passing faults, delivered at most once.

PTB's ``AIORateLimiter`` keeps every call within Telegram's flood limits and waits out a 429's "retry after".
On top of it, a call that met a passing fault (a 5xx, a refused or dropped connection, a timeout) is tried
again with backoff, through the limiter again, but only where trying again cannot show the user a message
twice: a call that changes nothing when repeated (an edit, a callback answer, "typing…") is retried after any
such fault; a call that posts something new (``send*``) only when Telegram surely did not act on it (it
answered with an error status, or the connection was never made).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, stop_after_attempt, wait_exponential_jitter

log = logging.getLogger(__name__)

ATTEMPTS = 4
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # the request never reached Telegram
REPEATABLE_SENDS = {"sendChatAction"}


def posts_something_new(endpoint: str) -> bool:
    """Whether repeating this call could show the user something twice."""
    return endpoint.startswith(("send", "forward", "copy")) and endpoint not in REPEATABLE_SENDS


def worth_retrying(exc: BaseException, endpoint: str) -> bool:
    """A passing fault, and one after which this call can be tried again without doubling anything."""
    if not isinstance(exc, NetworkError) or isinstance(exc, BadRequest):
        return False  # refusals (400, 403, 401/404, 409) say the same thing every time
    if not posts_something_new(endpoint):
        return True
    cause = exc.__cause__
    if cause is None:  # Telegram answered with an error status (5xx): it did not post the message
        return not isinstance(exc, TimedOut)
    return isinstance(cause, NOT_SENT)


class RetryingRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` that also retries passing faults, with exponential backoff (see the module docstring)."""

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        retrying = AsyncRetrying(retry=retry_if_exception(lambda exc: worth_retrying(exc, endpoint)),
                                 stop=stop_after_attempt(ATTEMPTS), wait=wait_exponential_jitter(multiplier=0.5, max=8),
                                 before_sleep=before_sleep_log(log, logging.WARNING), reraise=True)
        async for attempt in retrying:
            with attempt:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        raise AssertionError("unreachable: tenacity re-raises the last error")
