"""Reading the core's blocking answer stream from an event loop without blocking it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Executor

from bot.core import Answer


async def in_thread(items: Iterator[str | Answer], pool: Executor) -> AsyncIterator[str | Answer]:
    """Consume a blocking iterator in a thread of ``pool``, yielding its items on the event loop. When the reader
    stops early (cancelled, or an error), the iterator is closed in its thread, which stops the model."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
    stop = threading.Event()

    def put(kind: str, value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody is reading any more
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def pump() -> None:
        try:
            for item in items:
                if stop.is_set():
                    break
                put("item", item)
            else:
                put("end", None)
        except BaseException as exc:  # handed to the event loop, raised there
            put("error", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = loop.run_in_executor(pool, contextvars.copy_context().run, pump)  # the request id goes along
    try:
        while True:
            kind, value = await queue.get()
            if kind != "item":
                break
            yield value  # type: ignore[misc]
    finally:
        stop.set()  # read no further (on an early stop the worker ends at its next item, unwaited)
    await worker
    if kind == "error":
        raise value  # type: ignore[misc]


async def final_in_thread(items: Iterator[str | Answer], pool: Executor) -> Answer:
    """The ``Answer`` that ends the stream, read in a thread of ``pool`` (cancellable, as ``in_thread``)."""
    answer: Answer | None = None
    async for item in in_thread(items, pool):
        if isinstance(item, Answer):
            answer = item
    if answer is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return answer
