"""The command line's side of the admin endpoints: is a service running here, and refresh through it.

While `tuyabot serve` runs it holds the index (local Qdrant allows one process per path), so `tuyabot
refresh` asks the service's one refresh coordinator instead of opening the index itself.
"""

from __future__ import annotations

import getpass
import time
from datetime import datetime
from typing import Any

import httpx

from tuyabot.admin_http import REQUESTER_HEADER
from tuyabot.settings import Settings


class ServiceRefreshError(Exception):
    """The running service could not refresh for us (no token, refused, busy, failed, gone); says why."""


def running_service(settings: Settings) -> str | None:
    """The admin base URL of a TuyaBot service running with these settings, or None."""
    if not settings.admin_http_port:
        return None
    host = settings.admin_http_host if settings.admin_http_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    base = f"http://{host}:{settings.admin_http_port}"
    try:
        reply = httpx.get(f"{base}/healthz", timeout=2)
        return base if reply.status_code == 200 and reply.json().get("status") == "up" else None
    except (httpx.HTTPError, ValueError):
        return None


def refresh_through_service(settings: Settings, base: str, poll_seconds: float = 1.0) -> dict[str, Any]:
    """Start a refresh in the running service, wait for it to end, and return its report (as a dict)."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not token:
        raise ServiceRefreshError(f"a TuyaBot service is running ({base}) and holds the index: set ADMIN_TOKEN "
                                  "(the service's) to refresh through it, or stop the service")
    headers = {"Authorization": f"Bearer {token}", REQUESTER_HEADER: getpass.getuser()}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        try:
            started = _start(client)
            while True:
                time.sleep(poll_seconds)
                last = _checked(client.get("/refresh"))["last"]
                if last and last["run"]["started_at"] == started:
                    break
        except httpx.HTTPError as exc:
            raise ServiceRefreshError(f"lost the service at {base}: {exc}") from exc
    if last["error"]:
        raise ServiceRefreshError(f"the refresh failed and the previous index is still in use: {last['error']}")
    return last["report"]


def _start(client: httpx.Client) -> str:
    reply = client.post("/refresh")
    if reply.status_code == 409:
        running = reply.json()["running"]
        at = datetime.fromisoformat(running["started_at"])
        raise ServiceRefreshError(f"a refresh is already running, started by {running['user']} "
                                  f"({running['platform']}) at {at:%H:%M} UTC; try again when it ends")
    return _checked(reply)["run"]["started_at"]


def _checked(reply: httpx.Response) -> dict[str, Any]:
    if reply.status_code in (401, 403):
        raise ServiceRefreshError(f"the service refused the refresh: {reply.json().get('error', reply.status_code)}")
    if reply.status_code >= 400:
        raise ServiceRefreshError(f"the service answered HTTP {reply.status_code}")
    return reply.json()
