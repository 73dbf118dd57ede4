"""The one service: every configured platform, the admin endpoints and the scheduled jobs on one event loop,
sharing one core (one model, one vector store, one database, one refresh coordinator).

Start-up order: the admin endpoints first (``/healthz`` answers at once, ``/readyz`` says 503 until the
model is loaded), then the models load in a worker thread, then the platforms start taking updates and
the scheduled jobs (refresh, retention sweep) begin. Cancelling ``run`` (SIGINT/SIGTERM) makes every
platform stop taking messages, lets answers in progress finish for SHUTDOWN_GRACE_SECONDS (the users of
those still running then are told to ask again), and closes the admin endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from tuyabot.admin_http import AdminEndpoints
from tuyabot.components import Components
from tuyabot.settings import interval_seconds

log = logging.getLogger(__name__)


class Service:
    def __init__(self, components: Components, platforms: list[tuple[Any, Any]]) -> None:
        """``platforms``: (module, built app) pairs, each module with ``async serve(app, settings, in_flight)``."""
        self.components = components
        self.settings = components.settings
        self.platforms = platforms
        self.loaded = False

    async def run(self) -> None:
        admin = await AdminEndpoints(self.components, lambda: self.loaded).start()
        try:
            await asyncio.to_thread(self.components.warm_up)
            self.loaded = True
            log.info("models loaded: ready")
            in_flight = self.components.core.in_flight
            await asyncio.gather(*(module.serve(app, self.settings, in_flight) for module, app in self.platforms),
                                 *self._scheduled_jobs())
        finally:
            if admin is not None:
                await admin.cleanup()

    # -- scheduled jobs ----------------------------------------------------------------------------
    def _scheduled_jobs(self) -> list[Any]:
        core, jobs = self.components.core, []
        refresh_every = interval_seconds(self.settings.refresh_interval)
        if refresh_every:
            jobs.append(every(refresh_every, "scheduled refresh", self._scheduled_refresh))
        sweep_every = interval_seconds(self.settings.retention_sweep_interval)
        if sweep_every:
            jobs.append(every(sweep_every, "retention sweep", core.purge_expired))
        return jobs

    def _scheduled_refresh(self) -> None:
        ticket = self.components.core.request_refresh("schedule", "schedule", admin=True)
        if ticket.report is None:
            log.info("scheduled refresh skipped: %s", ticket.start.value)
            return
        with contextlib.suppress(Exception):  # failures are logged, audited and counted by the core
            log.info("scheduled refresh: %s", ticket.report.result().counts())


async def every(seconds: float, name: str, job: Callable[[], Any]) -> None:
    """Run a blocking ``job`` in a worker thread every ``seconds`` (first after one interval), until cancelled;
    a failing run is logged and the schedule goes on."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("%s failed", name)
