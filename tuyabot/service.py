"""The one service: every configured platform, the admin endpoints and the scheduled jobs on one event loop,
sharing one core (one model, one vector store, one database, one refresh coordinator).

Start-up order: the admin endpoints first (``/healthz`` answers at once, ``/readyz`` says 503 until the
model is loaded), then the models load in a worker thread, then the platforms start taking updates and
the scheduled jobs (refresh, retention sweep) begin. Cancelling ``run`` (SIGINT/SIGTERM) stops the
platforms cleanly and closes the admin endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy import text

from tuyabot.components import Components
from tuyabot.settings import interval_seconds

log = logging.getLogger(__name__)


class Service:
    def __init__(self, components: Components, platforms: list[tuple[Any, Any]]) -> None:
        """``platforms``: (module, built app) pairs, each module with ``async serve(app, settings)``."""
        self.components = components
        self.settings = components.settings
        self.platforms = platforms
        self.loaded = False

    async def run(self) -> None:
        admin = await self._start_admin()
        try:
            await asyncio.to_thread(self.components.warm_up)
            self.loaded = True
            log.info("models loaded: ready")
            await asyncio.gather(*(module.serve(app, self.settings) for module, app in self.platforms),
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

    # -- admin endpoints ---------------------------------------------------------------------------
    async def _start_admin(self) -> web.AppRunner | None:
        if not self.settings.admin_http_port:
            return None
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.admin_http_host, self.settings.admin_http_port).start()
        log.info("admin endpoints on http://%s:%s (/healthz /readyz /metrics)", self.settings.admin_http_host,
                 self.settings.admin_http_port)
        return runner

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    async def _readyz(self, request: web.Request) -> web.Response:
        checks = {"model": "loaded" if self.loaded else "loading"}
        checks.update(await asyncio.to_thread(self._store_checks))
        ready = all(value in ("loaded", "ok") for value in checks.values())
        return web.json_response({"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503)

    def _store_checks(self) -> dict[str, str]:
        checks = {}
        try:
            checks["index"] = "ok" if self.components.store.live_collection() else "empty"
        except Exception as exc:
            checks["index"] = f"unreachable: {type(exc).__name__}"
        try:
            with self.components.db.session() as session:
                session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        return checks

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.components.core.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def every(seconds: float, name: str, job: Callable[[], Any]) -> None:
    """Run a blocking ``job`` in a worker thread every ``seconds`` (first after one interval), until cancelled;
    a failing run is logged and the schedule goes on."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("%s failed", name)
