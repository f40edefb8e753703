"""The Lua limiter on real Redis: exact limits, shared across clients, retry time given."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from bot.errors import AppError, ErrorCode
from bot.ratelimit import RateLimiter
from tests.conftest import REDIS_URL


async def test_limit_is_exact_under_concurrency_across_two_clients(redis_client: aioredis.Redis) -> None:
    other = aioredis.from_url(REDIS_URL, decode_responses=True)
    try:
        limiters = [RateLimiter(redis_client), RateLimiter(other)]
        results = await asyncio.gather(*(limiters[i % 2].hit("commands", 7, limit=100, window=60) for i in range(150)))
    finally:
        await other.aclose()
    assert sum(r.allowed for r in results) == 100
    assert all(0 < r.resets_in <= 60 for r in results)


async def test_refusal_says_when_to_retry(redis_client: aioredis.Redis) -> None:
    limiter = RateLimiter(redis_client)
    for _ in range(5):
        await limiter.take("downloads", 8, limit=5, window=3600, what="downloads per hour")
    with pytest.raises(AppError) as caught:
        await limiter.take("downloads", 8, limit=5, window=3600, what="downloads per hour")
    assert caught.value.code is ErrorCode.RATE_LIMIT_EXCEEDED
    assert "Try again <t:" in caught.value.message
    retry_at = int(caught.value.message.split("<t:")[1].split(":")[0])
    assert time.time() + 3500 < retry_at <= time.time() + 3601
    peek = await limiter.peek("downloads", 8, limit=5, window=3600)
    assert (peek.used, peek.allowed) == (5, False)
    assert (await limiter.peek("downloads", 9, limit=5, window=3600)).used == 0  # per user
