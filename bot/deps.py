"""Everything with a connection, built once, handed out explicitly, closed in reverse.

Cogs, services and workers receive what they need from this container; nothing
opens a connection at import time.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis

from bot import db
from bot.config import Settings
from bot.logs import register_secret
from bot.metrics import Metrics

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


@dataclass
class Dependencies:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    metrics: Metrics
    _stack: AsyncExitStack = field(repr=False)

    @classmethod
    async def open(cls, settings: Settings, *, metrics: Metrics | None = None) -> Dependencies:
        stack = AsyncExitStack()
        try:
            pool = await db.create_pool(
                settings.database.url.get_secret_value(),
                min_size=settings.database.pool_min_size,
                max_size=settings.database.pool_max_size,
            )
            stack.push_async_callback(pool.close)
            redis = aioredis.from_url(
                settings.redis.url.get_secret_value(), decode_responses=True, health_check_interval=30
            )
            stack.push_async_callback(redis.aclose)
            await redis.ping()
        except BaseException:
            await stack.aclose()
            raise
        return cls(settings=settings, pool=pool, redis=redis, metrics=metrics or Metrics(), _stack=stack)

    def on_close(self, callback: object) -> None:
        """Register an async close callback (an HTTP client, say) to run at shutdown."""
        self._stack.push_async_callback(callback)  # type: ignore[arg-type]

    async def close(self) -> None:
        await self._stack.aclose()
