"""Slack HTTP mode's gate: only requests signed with SLACK_SIGNING_SECRET, and well formed, reach bolt.

The signature is checked on the raw body before anything parses it: an anonymous or forged request gets
401 unread; a signed one whose body is not what Slack sends (JSON object, or a form whose ``payload`` is a
JSON object) gets 400. Nothing of either reaches a listener or the log as a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signed_requests_only(signing_secret: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware for the events endpoint."""
    verifier = SignatureVerifier(signing_secret)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST":
            return await handler(request)
        raw = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = None
        if body is None or not verifier.is_valid_request(body, headers):
            log.warning("slack request refused: missing or invalid signature")
            return web.json_response({"error": "invalid signature"}, status=401)
        if not well_formed(body, request.content_type):
            log.info("slack request refused: signed, but not a body Slack sends")
            return web.json_response({"error": "malformed body"}, status=400)
        return await handler(request)

    return guard


def well_formed(body: str, content_type: str) -> bool:
    """A JSON object (events), or a form (slash commands) whose ``payload``, if any, is a JSON object
    (interactivity)."""
    try:
        if content_type == "application/json":
            return isinstance(json.loads(body), dict)
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs(body, keep_blank_values=True)
            if "payload" in form:
                return isinstance(json.loads(form["payload"][0]), dict)
            return bool(form)
    except ValueError:
        return False
    return False
