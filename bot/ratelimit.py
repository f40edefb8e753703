"""The seed's atomic fixed-window limiter, as a Redis Lua script.

One key per bucket and user; the script counts and sets the window in one step,
so any number of bot processes sharing Redis enforce one limit together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.errors import AppError, ErrorCode

# returns {allowed (0/1), count, ttl}
_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= tonumber(ARGV[1]) then
  return {0, current, redis.call('TTL', KEYS[1])}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return {1, current, redis.call('TTL', KEYS[1])}
"""


@dataclass(frozen=True, slots=True)
class Usage:
    allowed: bool
    used: int
    limit: int
    resets_in: int

    @property
    def resets_at(self) -> int:
        return int(time.time()) + max(self.resets_in, 0)


class RateLimiter:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_SCRIPT)

    @staticmethod
    def key(bucket: str, user_id: int) -> str:
        return f"ratelimit:{bucket}:{user_id}"

    async def hit(self, bucket: str, user_id: int, *, limit: int, window: int) -> Usage:
        allowed, used, ttl = await self._script(keys=[self.key(bucket, user_id)], args=[limit, window])
        return Usage(bool(allowed), int(used), limit, int(ttl) if int(ttl) > 0 else window)

    async def peek(self, bucket: str, user_id: int, *, limit: int, window: int) -> Usage:
        key = self.key(bucket, user_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            # queued one at a time: redis-py types a pipeline command's result as the command's reply, not the pipe
            pipe.get(key)
            pipe.ttl(key)
            used, ttl = await pipe.execute()
        used = int(used or 0)
        return Usage(used < limit, used, limit, int(ttl) if ttl and int(ttl) > 0 else window)

    async def take(self, bucket: str, user_id: int, *, limit: int, window: int, what: str) -> Usage:
        """Count one use or raise RATE_LIMIT_EXCEEDED saying when to try again."""
        usage = await self.hit(bucket, user_id, limit=limit, window=window)
        if not usage.allowed:
            raise AppError(
                ErrorCode.RATE_LIMIT_EXCEEDED,
                f"You have used your {limit} {what}. Try again <t:{usage.resets_at}:R>.",
                details={"retry_after": usage.resets_in, "bucket": bucket},
            )
        return usage
