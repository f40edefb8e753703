"""Webhook receivers on the bot's web endpoint (Overseerr's notification agent).

Authenticated by the shared secret Overseerr sends as the Authorization header,
compared in constant time; bodies are capped by the web server (413); anything
that is not a JSON object is answered 400 and changes nothing. The payload is
only a hint: the request's facts are read back from Overseerr.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from aiohttp import web

from bot.errors import AppError
from bot.services.requests import RequestService

log = logging.getLogger(__name__)

LAST_WEBHOOK_KEY = "overseerr:webhook:last"


def overseerr_webhook(
    service: RequestService, secret: str | None, redis: aioredis.Redis
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if not secret:
            return web.json_response({"error": "the Overseerr webhook is not configured"}, status=404)
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Overseerr webhook with a wrong Authorization header from %s", request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        await redis.set(LAST_WEBHOOK_KEY, str(int(time.time())))
        try:
            outcome = await service.handle_webhook(payload)
        except AppError as exc:
            # Overseerr is unreachable right now; the poll will pick this up
            log.warning("webhook for %s not processed now: %s", payload.get("notification_type"), exc.message)
            return web.json_response({"status": "deferred"}, status=202)
        return web.json_response({"status": outcome})

    return handle
