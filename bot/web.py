"""The bot's small HTTP side: liveness, readiness, Prometheus metrics and webhooks.

Readiness is a set of named async checks; each returns None when healthy or a
short reason. Features add their own (a circuit breaker, say) with `add_check`,
and routes (a webhook receiver) with `app.router`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import web

from bot.metrics import Metrics

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT = 2.0


class WebServer:
    def __init__(self, host: str, port: int, metrics: Metrics, *, max_body_bytes: int) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.checks: dict[str, Check] = {}
        self.info: dict[str, Callable[[], dict[str, str]]] = {}
        self.app = web.Application(client_max_size=max_body_bytes)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/readyz", self._readyz)
        self.app.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None

    def add_check(self, name: str, check: Check) -> None:
        self.checks[name] = check

    def add_info(self, name: str, provider: Callable[[], dict[str, str]]) -> None:
        """Shown in /readyz without deciding it (an open circuit is degraded, not unready)."""
        self.info[name] = provider

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0 and site._server is not None:
            # loop.create_server made it, so it is an asyncio.Server; aiohttp types it as the abstract base
            server = cast(asyncio.Server, site._server)
            self.port = server.sockets[0].getsockname()[1]
        log.info("web endpoint listening on %s:%s", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readiness(self) -> dict[str, str]:
        """Run every check at once, each with a timeout; return the failures by name."""

        async def run(check: Check) -> str | None:
            try:
                return await asyncio.wait_for(check(), CHECK_TIMEOUT)
            except TimeoutError:
                return f"no answer within {CHECK_TIMEOUT:g}s"
            except Exception as exc:  # a failing check is a reason, not a crash
                return f"{type(exc).__name__}: {exc}"[:200]

        names = list(self.checks)
        results = await asyncio.gather(*(run(self.checks[n]) for n in names))
        return {name: reason for name, reason in zip(names, results, strict=True) if reason}

    async def _readyz(self, _: web.Request) -> web.Response:
        failures = await self.readiness()
        body: dict[str, object] = {
            "status": "unavailable" if failures else "ready",
            "checks": {name: failures.get(name, "ok") for name in self.checks},
        }
        body.update({name: provider() for name, provider in self.info.items()})
        return web.json_response(body, status=503 if failures else 200)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), content_type="text/plain", charset="utf-8")
