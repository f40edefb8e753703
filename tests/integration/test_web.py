"""/healthz, /readyz and /metrics against real PostgreSQL and Redis, and with the database cut."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
import pytest

from bot.config import Settings
from bot.deps import Dependencies
from bot.health import database_check, redis_check
from bot.web import WebServer
from tests.fakes.base import wait_for
from tests.fakes.tcp_proxy import TcpProxy


@pytest.fixture
async def db_proxy(database: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    parts = urlsplit(database)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    yield proxy, parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    await proxy.stop()


@pytest.fixture
async def web(db_proxy: tuple[TcpProxy, str], make_settings: Callable[..., Settings]) -> AsyncIterator[str]:
    settings = make_settings(database_url=db_proxy[1])
    deps = await Dependencies.open(settings)
    server = WebServer("127.0.0.1", 0, deps.metrics, max_body_bytes=1024 * 1024)
    server.add_check("database", database_check(deps.pool))
    server.add_check("redis", redis_check(deps.redis))
    await server.start()
    yield f"http://127.0.0.1:{server.port}"
    await server.close()
    await deps.close()


async def test_healthz_and_readyz_with_database_up_then_cut_then_back(web: str, db_proxy: tuple[TcpProxy, str]) -> None:
    proxy, _ = db_proxy
    async with httpx.AsyncClient(base_url=web, timeout=10) as client:
        assert (await client.get("/healthz")).json() == {"status": "alive"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}

        await proxy.cut()
        down = await client.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] != "ok"
        assert body["checks"]["redis"] == "ok"
        assert (await client.get("/healthz")).status_code == 200  # alive even when not ready

        await proxy.restore()

        async def ready_again() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await wait_for(ready_again, timeout=10, what="readiness after the database came back")


async def test_metrics_are_prometheus_text(web: str) -> None:
    async with httpx.AsyncClient(base_url=web) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE medianest_commands_total counter" in response.text
