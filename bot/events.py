"""Events from workers (and webhooks) to the bot, through Redis.

Two channels with different promises:
- a stream with a consumer group for things that must arrive exactly once even
  if a bot restarts (notices, a download that finished): one bot process takes
  each entry and acknowledges it after handling; entries a dead consumer held are
  claimed again after a minute;
- pub/sub for progress, which is only worth having while it is fresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import ResponseError

from bot.notices import Notice

log = logging.getLogger(__name__)

STREAM = "medianest:events"
GROUP = "bots"
PROGRESS_CHANNEL = "medianest:download-progress"
CLAIM_IDLE_MS = 60_000


class BotEvent(BaseModel):
    kind: Literal["notice", "download_finished", "request_update"]
    notice: Notice | None = None
    download_id: int | None = None
    request_id: int | None = None
    status: str | None = None
    notify_requester: bool = True


class Progress(BaseModel):
    download_id: int
    index: int = 0
    count: int = 0
    title: str | None = None
    downloaded: int = 0
    total: int = 0
    speed: float | None = None
    eta: float | None = None


async def publish(redis: aioredis.Redis, event: BotEvent) -> None:
    await redis.xadd(STREAM, {"data": event.model_dump_json()}, maxlen=10_000, approximate=True)


async def publish_progress(redis: aioredis.Redis, progress: Progress) -> None:
    await redis.publish(PROGRESS_CHANNEL, progress.model_dump_json())


Handler = Callable[[BotEvent], Awaitable[None]]


class EventConsumer:
    """Reads the stream as one member of the bots' consumer group until stopped."""

    def __init__(self, redis: aioredis.Redis, handler: Handler, *, block_ms: int = 1000) -> None:
        self._redis = redis
        self._handler = handler
        self._block_ms = block_ms
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self._stopping = asyncio.Event()

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        await self.ensure_group()
        while not self._stopping.is_set():
            try:
                await self._claim_abandoned()
                entries = await self._redis.xreadgroup(GROUP, self.name, {STREAM: ">"}, count=20, block=self._block_ms)
                for _, messages in entries or []:
                    for entry_id, fields in messages:
                        await self._handle(entry_id, fields)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" not in str(exc) and "no longer exists" not in str(exc):
                    raise
                log.warning("the event stream vanished (Redis restarted or was flushed); recreating it")
                await self.ensure_group()
            except Exception:
                log.exception("event consumer failed; retrying")
                await asyncio.sleep(1)

    async def _claim_abandoned(self) -> None:
        _, claimed, *_ = await self._redis.xautoclaim(
            STREAM, GROUP, self.name, min_idle_time=CLAIM_IDLE_MS, start_id="0-0", count=20
        )
        for entry_id, fields in claimed:
            if fields:
                await self._handle(entry_id, fields)

    async def _handle(self, entry_id: Any, fields: dict[str, Any]) -> None:
        try:
            event = BotEvent.model_validate(json.loads(fields["data"]))
        except (KeyError, ValueError):
            log.error("dropping malformed event %s", entry_id)
            await self._redis.xack(STREAM, GROUP, entry_id)
            return
        try:
            await self._handler(event)
        except Exception:
            log.exception("handling event %s failed; it will be retried", entry_id)
            return
        await self._redis.xack(STREAM, GROUP, entry_id)


class RedisNotifier:
    """A Notifier for processes without a Discord connection: the bot delivers it."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def notify(self, notice: Notice) -> bool:
        await publish(self._redis, BotEvent(kind="notice", notice=notice))
        return True
