"""Readiness checks for the parts every process depends on.

Each returns None when healthy or raises/returns a short reason; the web server
runs them with a timeout.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from bot.web import Check


def database_check(pool: asyncpg.Pool) -> Check:
    async def check() -> str | None:
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
        return None

    return check


def redis_check(redis: aioredis.Redis) -> Check:
    async def check() -> str | None:
        await redis.ping()
        return None

    return check
