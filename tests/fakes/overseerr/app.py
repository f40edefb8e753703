"""The middleware stack, in the order Overseerr's Express app applies it.

Outermost first: contract recording (the fake's own addition: it sees every
request and every response), then csurf when CSRF protection is on, then the
OpenAPI request validator's verdict, then `checkUser` (API key and
`X-API-User`) and the error handler that turns thrown errors into Overseerr's
JSON bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..base import json_response
from . import csrf
from .contract import Problem, enforcement
from .errors import OverseerrError
from .models import User

if TYPE_CHECKING:
    from .fake import FakeOverseerr

#: The spec problems of the current request, for the validator middleware.
PROBLEMS_KEY = web.RequestKey("contract_problems", list)
#: The user `checkUser` resolved, or None for an anonymous request.
USER_KEY: web.RequestKey[User | None] = web.RequestKey("user")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _parse_int(text: str) -> int | None:
    """JavaScript `parseInt`: leading digits, else NaN (None)."""
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else None


def contract_middleware(fake: FakeOverseerr) -> Middleware:
    """Validate the request and the JSON response against the spec, recording mismatches."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()  # cached by aiohttp: the request log read it already
        args = (
            request.method,
            request.path,
            list(request.query.items()),
            dict(request.headers),
            dict(request.cookies),
            body,
            request.content_type,
        )
        request[PROBLEMS_KEY] = fake.contract.check_request(*args)
        response = await handler(request)
        if isinstance(response, web.Response):
            data = response.body if isinstance(response.body, bytes) else None
            fake.contract.check_response(
                *args,
                status=response.status,
                response_body=data or None,
                response_content_type=response.content_type if data else "",
            )
        return response

    return middleware


def csrf_middleware(fake: FakeOverseerr) -> Middleware:
    """csurf with cookie secrets; refuses unsafe methods without a valid token."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        settings = fake.settings
        if not settings.csrf_protection:
            return await handler(request)
        secret = request.cookies.get(csrf.SECRET_COOKIE)
        fresh = None
        if not secret:
            secret = fresh = csrf.new_secret()
        secure = settings.csrf_secure_cookies
        if request.method not in csrf.IGNORED_METHODS:
            parsed: Any = None
            if request.content_type == "application/json":
                try:
                    parsed = json.loads(await request.read() or b"null")
                except ValueError:
                    parsed = None
            token = csrf.submitted_token(request.headers, request.query, parsed)
            if not csrf.verify(secret, token):
                refused = json_response({"message": "invalid csrf token"}, status=403)
                if fresh:
                    refused.headers.add(
                        "Set-Cookie", csrf.cookie_header(csrf.SECRET_COOKIE, fresh, http_only=True, secure=secure)
                    )
                return refused
        response = await handler(request)
        if fresh:
            response.headers.add(
                "Set-Cookie", csrf.cookie_header(csrf.SECRET_COOKIE, fresh, http_only=True, secure=secure)
            )
        response.headers.add(
            "Set-Cookie",
            csrf.cookie_header(csrf.TOKEN_COOKIE, csrf.new_token(secret), http_only=False, secure=secure),
        )
        return response

    return middleware


def validator_middleware(fake: FakeOverseerr) -> Middleware:
    """express-openapi-validator's answer to a request that breaks the spec."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        problems: list[Problem] = request.get(PROBLEMS_KEY) or []
        verdict = enforcement(request.path, problems, request.method)
        if verdict is not None:
            status, body = verdict
            return json_response(body, status=status)
        return await handler(request)

    return middleware


def auth_and_errors_middleware(fake: FakeOverseerr) -> Middleware:
    """`checkUser` plus the Express error handler.

    The configured key in `X-Api-Key` acts as the user whose id is in
    `X-API-User` (parsed with `parseInt`), or as user 1 without that header. A
    wrong key, or an id that matches no user, leaves the request anonymous.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = None
        if request.headers.get("X-Api-Key") == fake.settings.api_key:
            user_id: int | None = 1
            header = request.headers.get("X-Api-User")
            if header:
                user_id = _parse_int(header)
            user = fake.store.users.get(user_id) if user_id is not None else None
        request[USER_KEY] = user
        try:
            return await handler(request)
        except OverseerrError as exc:
            return json_response(exc.body(), status=exc.status)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            text = f"FakeOverseerr does not implement {request.method} {request.path}"
            return json_response({"message": text}, status=501)

    return middleware


def install(fake: FakeOverseerr, app: web.Application) -> None:
    """Append the stack after the base class's request log."""
    app.middlewares.extend(
        [
            contract_middleware(fake),
            csrf_middleware(fake),
            validator_middleware(fake),
            auth_and_errors_middleware(fake),
        ]
    )
