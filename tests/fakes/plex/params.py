"""Reading Plex request parameters the way Plex does, and small shared helpers.

Plex takes every `X-Plex-*` value from a header, a query parameter or (on plex.tv) a
form field; Plex's own auth guide sends `X-Plex-Client-Identifier` as a form field.
"""

from __future__ import annotations

import secrets
import string
import time
from urllib.parse import parse_qs

from aiohttp import web

_FORM = "application/x-www-form-urlencoded"
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"


async def form_fields(request: web.Request) -> dict[str, str]:
    """Form fields of any method: curl's `-X GET -d ...` sends a body on GET too."""
    if _FORM not in request.headers.get("Content-Type", ""):
        return {}
    raw = (await request.read()).decode("utf-8", "replace")
    return {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}


async def plex_value(request: web.Request, name: str) -> str | None:
    """Header, then query, then form; empty strings count as missing."""
    for source in (request.headers, request.query, await form_fields(request)):
        value = source.get(name)
        if value:
            return value
    return None


def token_of(request: web.Request) -> str | None:
    """PMS accepts the token as `X-Plex-Token` header or query parameter."""
    return request.headers.get("X-Plex-Token") or request.query.get("X-Plex-Token") or None


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def new_token(length: int = 20) -> str:
    """Plex tokens are 20 URL-safe characters."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


def iso_z(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def now_epoch() -> int:
    return int(time.time())
