"""The service's admin endpoints on ADMIN_HTTP_HOST:ADMIN_HTTP_PORT (loopback by default).

``/healthz`` (the process is up), ``/readyz`` (model loaded, index and database reachable), ``/metrics``
(Prometheus text), and ``/refresh`` for the command line while the service holds the index: ``POST`` asks
the one refresh coordinator for a refresh, ``GET`` says what runs and how the last one ended. ``/refresh``
needs ``Authorization: Bearer $ADMIN_TOKEN``, checked before anything of the request is read.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.core import RefreshOutcome, RefreshRun, RefreshStart
from tuyabot.components import Components

log = logging.getLogger(__name__)

REQUESTER_HEADER = "X-Tuyabot-Requester"


class AdminEndpoints:
    def __init__(self, components: Components, is_loaded: Callable[[], bool]) -> None:
        self.components = components
        self.settings = components.settings
        self.is_loaded = is_loaded
        token = self.settings.admin_token
        self._expected = f"Bearer {token.get_secret_value()}".encode() if token and token.get_secret_value() else None

    async def start(self) -> web.AppRunner | None:
        """Listen (None when ADMIN_HTTP_PORT is 0)."""
        if not self.settings.admin_http_port:
            return None
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_post("/refresh", self.start_refresh)
        app.router.add_get("/refresh", self.refresh_state)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.admin_http_host, self.settings.admin_http_port).start()
        log.info("admin endpoints on http://%s:%s (/healthz /readyz /metrics /refresh)",
                 self.settings.admin_http_host, self.settings.admin_http_port)
        return runner

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    async def readyz(self, request: web.Request) -> web.Response:
        checks = {"model": "loaded" if self.is_loaded() else "loading"}
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

    async def metrics(self, request: web.Request) -> web.Response:
        body = self.components.core.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    # -- refresh for the command line --------------------------------------------------------------
    def _refused(self, request: web.Request) -> web.Response | None:
        """401/403 unless the request carries the admin token (compared in constant time)."""
        if self._expected is None:
            return web.json_response({"error": "the refresh endpoint is off: ADMIN_TOKEN is not set"}, status=403)
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, self._expected):
            log.warning("admin refresh request refused: bad or missing token")
            return web.json_response({"error": "unauthorized"}, status=401)
        return None

    async def start_refresh(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        requester = "".join(ch for ch in request.headers.get(REQUESTER_HEADER, "") if ch.isprintable())[:64] or "cli"
        ticket = await asyncio.to_thread(self.components.core.request_refresh, "cli", requester, admin=True)
        if ticket.start is RefreshStart.STARTED:
            return web.json_response({"status": "started", "run": run_json(ticket.running)}, status=202)
        return web.json_response({"status": "busy", "running": run_json(ticket.running)}, status=409)

    async def refresh_state(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        running, last = self.components.core.refresh_state()
        return web.json_response({"running": run_json(running), "last": outcome_json(last)})


def run_json(run: RefreshRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"platform": run.platform, "user": run.user_id, "started_at": run.started_at.isoformat()}


def outcome_json(outcome: RefreshOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {"run": run_json(outcome.run), "finished_at": outcome.finished_at.isoformat(),
            "report": outcome.report.to_dict() if outcome.report else None, "error": outcome.error}
