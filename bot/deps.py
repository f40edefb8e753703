"""Everything with a connection, built once, handed out explicitly, closed in reverse.

Cogs, services and workers receive what they need from this container; nothing
opens a connection at import time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis
from arq import create_pool as create_arq_pool
from arq.connections import ArqRedis
from arq.connections import RedisSettings as ArqRedisSettings

from bot import db
from bot.config import Settings
from bot.crypto import TokenCipher
from bot.integrations.breaker import BreakerState, CircuitBreaker
from bot.integrations.kuma import HttpProbe, KumaClient
from bot.integrations.overseerr import OverseerrClient
from bot.integrations.plex import PlexServerClient, PlexTvClient
from bot.logs import register_secret
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.repositories import app_settings
from bot.services.runtime import RuntimeSettings

log = logging.getLogger(__name__)


def register_settings_secrets(settings: Settings) -> None:
    """Teach the log redactor every secret value in the settings."""
    for secret in (
        settings.discord.token,
        settings.database.url,
        settings.redis.url,
        settings.security.encryption_key,
        settings.plex.server_token,
        settings.overseerr.api_key,
        settings.overseerr.webhook_secret,
        settings.kuma.api_key,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())


def _status_clients(
    settings: Settings, breaker: Callable[..., CircuitBreaker]
) -> tuple[KumaClient | None, HttpProbe | None]:
    """Uptime Kuma and the Overseerr liveness probe, when configured.

    Kuma's breaker half-opens after one poll interval (at most 30 s), so a Kuma
    that comes back shows on the board at the next tick, while /status never
    waits on a Kuma that is known to be down.
    """
    kuma = None
    if settings.kuma.url is not None and settings.kuma.status_slug is not None:
        kuma = KumaClient(
            base_url=str(settings.kuma.url),
            slug=settings.kuma.status_slug,
            api_key=settings.kuma.api_key.get_secret_value() if settings.kuma.api_key else None,
            timeout=settings.kuma.timeout_seconds,
            breaker=breaker("uptime-kuma", reset_after=min(30.0, float(settings.channels.status_poll_seconds))),
        )
    probe = None
    if settings.overseerr.url is not None:
        probe = HttpProbe(
            "Overseerr",
            base_url=str(settings.overseerr.url),
            path="/api/v1/status",
            timeout=settings.overseerr.timeout_seconds,
            breaker=breaker("overseerr-status", reset_after=min(30.0, float(settings.channels.status_poll_seconds))),
        )
    return kuma, probe


@dataclass
class Dependencies:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    arq: ArqRedis
    metrics: Metrics
    cipher: TokenCipher
    limiter: RateLimiter
    runtime: RuntimeSettings
    plex_tv: PlexTvClient
    plex_server: PlexServerClient | None
    overseerr: OverseerrClient | None = None
    kuma: KumaClient | None = None
    overseerr_probe: HttpProbe | None = None
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack, repr=False)

    @classmethod
    async def open(cls, settings: Settings, *, metrics: Metrics | None = None) -> Dependencies:
        metrics = metrics or Metrics()
        stack = AsyncExitStack()
        try:
            pool = await db.create_pool(
                settings.database.url.get_secret_value(),
                min_size=settings.database.pool_min_size,
                max_size=settings.database.pool_max_size,
            )
            stack.push_async_callback(pool.close)
            # the typed classmethod behind the untyped module-level aioredis.from_url
            redis: aioredis.Redis = aioredis.Redis.from_url(
                settings.redis.url.get_secret_value(), decode_responses=True, health_check_interval=30
            )
            stack.push_async_callback(redis.aclose)
            await redis.ping()
            arq = await create_arq_pool(ArqRedisSettings.from_dsn(settings.redis.url.get_secret_value()))
            stack.push_async_callback(arq.aclose)

            breakers: dict[str, CircuitBreaker] = {}

            def breaker(name: str, reset_after: float = 30.0) -> CircuitBreaker:
                def on_change(integration: str, state: BreakerState) -> None:
                    metrics.breaker_open.labels(integration).set(1 if state is BreakerState.OPEN else 0)
                    log.warning("circuit for %s is now %s", integration, state.value)

                breakers[name] = CircuitBreaker(name, on_change=on_change, reset_after=reset_after)
                metrics.breaker_open.labels(name).set(0)
                return breakers[name]

            client_id = settings.plex.client_id or await app_settings.get_or_create(
                pool, "plex_client_id", f"medianest-{uuid.uuid4()}"
            )
            plex_tv = PlexTvClient(
                base_url=str(settings.plex.tv_url),
                client_id=client_id,
                timeout=settings.plex.timeout_seconds,
                breaker=breaker("plex.tv"),
            )
            stack.push_async_callback(plex_tv.aclose)
            plex_server = None
            if settings.plex.server_url is not None and settings.plex.server_token is not None:
                plex_server = PlexServerClient(
                    base_url=str(settings.plex.server_url),
                    token=settings.plex.server_token.get_secret_value(),
                    timeout=settings.plex.timeout_seconds,
                    breaker=breaker("plex"),
                )
                stack.push_async_callback(plex_server.aclose)
            overseerr = None
            if settings.overseerr.url is not None and settings.overseerr.api_key is not None:
                overseerr = OverseerrClient(
                    base_url=str(settings.overseerr.url),
                    api_key=settings.overseerr.api_key.get_secret_value(),
                    timeout=settings.overseerr.timeout_seconds,
                    breaker=breaker("overseerr"),
                )
                stack.push_async_callback(overseerr.aclose)
            kuma, overseerr_probe = _status_clients(settings, breaker)
            for client in (kuma, overseerr_probe):
                if client is not None:
                    stack.push_async_callback(client.aclose)
        except BaseException:
            await stack.aclose()
            raise
        return cls(
            settings=settings,
            pool=pool,
            redis=redis,
            arq=arq,
            metrics=metrics,
            cipher=TokenCipher(settings.security.encryption_key.get_secret_value()),
            limiter=RateLimiter(redis),
            runtime=RuntimeSettings(pool, settings),
            plex_tv=plex_tv,
            plex_server=plex_server,
            overseerr=overseerr,
            kuma=kuma,
            overseerr_probe=overseerr_probe,
            breakers=breakers,
            _stack=stack,
        )

    def on_close(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Register an async close callback (an HTTP client, say) to run at shutdown."""
        self._stack.push_async_callback(callback)

    async def close(self) -> None:
        await self._stack.aclose()
