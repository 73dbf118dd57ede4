"""Answers being worked on, so that a shutdown can let them finish and tell the rest to ask again.

On SIGTERM each platform stops taking messages, then waits here: answers that end within the grace
period are delivered; the others are cancelled, and their users get a reply saying to ask again
(``texts.SHUTTING_DOWN``) instead of silence. Cancelling stops the model at its next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self.stopping = False

    @contextlib.asynccontextmanager
    async def track(self, tell_user: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
        """Count the block as an answer in progress; if a shutdown cancels it, ``tell_user`` is awaited first."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            yield
        except asyncio.CancelledError:
            if self.stopping:
                with contextlib.suppress(Exception):
                    await tell_user()
            raise
        finally:
            self._tasks.discard(task)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace_seconds: float) -> int:
        """Stop new answers, wait up to ``grace_seconds`` for those in progress, cancel the rest; returns how many
        were cancelled. Safe to call from every platform at once."""
        self.stopping = True
        tasks = set(self._tasks)
        if not tasks:
            return 0
        log.info("shutting down: waiting up to %.0f s for %d answers in progress", grace_seconds, len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds) if grace_seconds else (set(), tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            log.warning("shutting down: %d answers cancelled (their users were told to ask again)", len(pending))
        return len(pending)
