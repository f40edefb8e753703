"""The REST plumbing shared by all routes: body parsing, auth, rate limits, errors, contract.

Every request under /api/v10 passes one middleware that, in order:
1. parses the body (JSON, or multipart with `payload_json` + `files[n]`);
2. applies rate limits (forced 429s, the per-route bucket, the global cap);
3. checks `Authorization: Bot <token>` on bot routes (webhook-token routes need none);
4. runs the handler and turns a DiscordError into Discord's JSON error body, and an
   unknown route into `{"message": "404: Not Found", "code": 0}` (also recorded in
   `unimplemented`, because a bot calling a route the fake lacks is a fake gap the
   test must not silently pass over);
5. queues request and response for the OpenAPI contract check.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..base import json_response
from . import errors
from .commands import CommandStore
from .contract import ContractChecker
from .errors import DiscordError
from .gateway import Gateway
from .interactions import InteractionManager
from .ratelimit import RateLimiter
from .state import DiscordState, Upload

API_PREFIX = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Typed storage keys (aiohttp warns on string keys, and the suite turns warnings into errors).
BODY_KEY = web.RequestKey("discord_body", object)
UPLOADS_KEY = web.RequestKey("discord_uploads", list)
JSON_KEY = web.ResponseKey("discord_json", object)


@dataclass(frozen=True)
class UnimplementedCall:
    method: str
    path: str


def reply(data: Any, status: int = 200) -> web.Response:
    """A JSON answer; the decoded data rides along for the contract check."""
    resp = json_response(data, status)
    resp[JSON_KEY] = data
    return resp


def no_content() -> web.Response:
    return web.Response(status=204)


def body_of(request: web.Request) -> dict[str, Any]:
    data = request.get(BODY_KEY)
    return data if isinstance(data, dict) else {}


def uploads_of(request: web.Request) -> list[Upload]:
    return list(request.get(UPLOADS_KEY) or [])


def snowflake(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise errors.invalid_form_body(
            {name: {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{raw}" is not snowflake.'}]}}
        )
    return int(raw)


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, Any] | None, list[Upload]]:
    """Split a multipart body into its `payload_json` and its `files[n]` parts."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    payload: dict[str, Any] | None = None
    uploads: list[Upload] = []
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        raw_data = part.get_payload(decode=True)
        data = raw_data if isinstance(raw_data, bytes) else b""
        if name == "payload_json":
            payload = json.loads(data)
        elif isinstance(name, str) and name.startswith("files["):
            index = int(name[6:-1])
            filename = part.get_filename() or f"file{index}"
            uploads.append(Upload(index, filename, part.get_content_type(), data))
    return payload, uploads


def _requires_bot_auth(template: str | None) -> bool:
    if template is None:
        return True
    return not (
        template.startswith("/interactions/")
        or template.startswith("/webhooks/{webhook_id}/{webhook_token}")
        or template == "/gateway"
    )


class RestApi:
    """Dependencies shared by the route modules, and the middleware itself."""

    def __init__(
        self,
        *,
        state: DiscordState,
        commands: CommandStore,
        interactions: InteractionManager,
        gateway: Gateway,
        limiter: RateLimiter,
        contract: ContractChecker,
        token: str,
    ) -> None:
        self.state = state
        self.commands = commands
        self.interactions = interactions
        self.gateway = gateway
        self.limiter = limiter
        self.contract = contract
        self.token = token
        self.unimplemented: list[UnimplementedCall] = []
        self.crashes: list[str] = []  # tracebacks of bugs in the fake itself

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Wraps `_handle` so a bug in the fake is a recorded failure, not a silent 500.

        discord.py retries 5xx answers quietly, so without this a crash in a route
        would only show up as a slow test.
        """
        try:
            return await self._handle(request, handler)
        except Exception:
            self.crashes.append(f"{request.method} {request.path}\n{traceback.format_exc()}")
            return reply({"message": "500: Internal Server Error (fake crashed)", "code": 0}, 500)

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX + "/"):
            return await handler(request)
        rel = path[len(API_PREFIX) :]
        resource = request.match_info.route.resource
        known = request.match_info.http_exception is None and resource is not None
        template = resource.canonical[len(API_PREFIX) :] if known and resource is not None else None
        raw = await request.read()
        try:
            request[BODY_KEY], request[UPLOADS_KEY] = self._parse_body(request, raw)
        except ValueError:
            err = DiscordError(400, 50109, "The request body contains invalid JSON.")
            return reply(err.body(), err.status)
        info = request.match_info
        major = "+".join(
            info.get(k, "")
            for k in ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id", "interaction_token")
            if k in info
        )
        # Interaction callbacks and webhook-token routes do not count against the global limit.
        exempt = rel.startswith("/interactions/") or (template or "").startswith(
            "/webhooks/{webhook_id}/{webhook_token}"
        )
        decision = self.limiter.check(request.method, template or rel, rel, major, exempt)
        if decision.limited:
            resp: web.StreamResponse = reply(decision.body, 429)
        else:
            resp = await self._run(request, handler, template, rel)
        for key, value in decision.headers.items():
            resp.headers[key] = value
        self.contract.submit(
            method=request.method,
            path=rel,
            query=dict(request.query),
            headers=dict(request.headers),
            body=request.get(BODY_KEY),
            status=resp.status,
            response_body=resp.get(JSON_KEY),
            response_headers={k: v for k, v in resp.headers.items() if k.lower().startswith("x-ratelimit")},
        )
        return resp

    async def _run(self, request: web.Request, handler: Handler, template: str | None, rel: str) -> web.StreamResponse:
        try:
            if _requires_bot_auth(template) and request.headers.get("Authorization") != f"Bot {self.token}":
                raise errors.unauthorized()
            return await handler(request)
        except DiscordError as exc:
            return reply(exc.body(), exc.status)
        except web.HTTPMethodNotAllowed:
            self.unimplemented.append(UnimplementedCall(request.method, rel))
            err = errors.method_not_allowed()
            return reply(err.body(), err.status)
        except web.HTTPNotFound:
            self.unimplemented.append(UnimplementedCall(request.method, rel))
            err = errors.route_not_found()
            return reply(err.body(), err.status)

    @staticmethod
    def _parse_body(request: web.Request, raw: bytes) -> tuple[Any, list[Upload]]:
        if not raw:
            return None, []
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            return parse_multipart(ctype, raw)
        if ctype.startswith("application/json"):
            return json.loads(raw), []
        return None, []
