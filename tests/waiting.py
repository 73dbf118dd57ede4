"""Waiting for what another process does: the one place a test polls (where there is no event to await)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], timeout: float = 60, what: str = "the condition") -> T:
    """Call ``probe`` until it returns something true, and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not met in {timeout:.0f} s"
        time.sleep(0.02)  # another process changes what the probe reads: poll it, briefly
