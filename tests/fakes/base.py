"""Shared plumbing for the local fake servers.

Every fake is an aiohttp application bound to 127.0.0.1 on a free port, started
and stopped inside the test's event loop. Each keeps a log of the requests it saw
so a test can count calls ("nothing was sent on a quiet tick") and a `down` switch
that makes it refuse connections, as a stopped service would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON reply whose Content-Type is exactly `application/json`.

    aiohttp's `json_response` appends `; charset=utf-8`, which discord.py does not
    accept as JSON, so every fake answers through this helper instead.
    """
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class RecordedRequest:
    """One request a fake received, kept for assertions."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class FakeServer:
    """Base class: subclasses add routes in `setup_routes`."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._record_middleware], client_max_size=64 * 1024 * 1024)
        self.requests: list[RecordedRequest] = []
        self._overrides: list[tuple[str, str, Callable[[], web.StreamResponse], list[int | None]]] = []
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.setup_routes(self.app.router)

    def setup_routes(self, router: web.UrlDispatcher) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, port or self.port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def go_down(self) -> None:
        """Stop listening, keeping the port so `come_up` restores the same URL."""
        await self.stop()

    async def come_up(self) -> None:
        await self.start(self.port)

    def override(
        self, method: str, path: str, respond: Callable[[], web.StreamResponse], *, times: int | None = None
    ) -> None:
        """Answer `method path` with `respond()` instead of the real handler (`times` calls, or always).

        For answers a real service might give that the fake would not on its own:
        a malformed body, an unexpected status.
        """
        self._overrides.append((method.upper(), path, respond, [times]))

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[RecordedRequest]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    @web.middleware
    async def _record_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.read() if request.can_read_body else b""
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=body,
            )
        )
        for method, path, respond, left in self._overrides:
            if request.method == method and request.path == path and left[0] != 0:
                if left[0] is not None:
                    left[0] -= 1
                return respond()
        return await handler(request)


async def wait_for(
    predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll `predicate` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
