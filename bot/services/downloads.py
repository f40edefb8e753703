"""Downloads from the bot's side: validate, limit, queue, list, cancel, and tell the user how it went.

The worker does the downloading (workers/downloads.py); both sides share the
Redis keys named here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import asyncpg
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from bot import queue
from bot.config import Settings
from bot.errors import AppError, ErrorCode
from bot.events import BotEvent, publish
from bot.notices import Notice
from bot.ratelimit import RateLimiter
from bot.repositories import audit
from bot.repositories import downloads as repo
from bot.repositories.downloads import Download
from bot.services.accounts import AccountService
from bot.services.runtime import RuntimeSettings
from bot.services.urls import parse_download_url

log = logging.getLogger(__name__)

Quality = Literal["best", "1080p", "720p", "480p"]
PAGE_SIZE = 10
GB = 1024**3


def job_id_for(download_id: int) -> str:
    return f"download:{download_id}"


def cancel_key(download_id: int) -> str:
    return f"download:cancel:{download_id}"


def lease_key(download_id: int) -> str:
    return f"download:lease:{download_id}"


@dataclass(frozen=True, slots=True)
class Queued:
    download: Download
    position: int


@dataclass(frozen=True, slots=True)
class QueueOverview:
    open: list[Download]
    queued_jobs: int
    worker_alive: bool
    worker_report: str | None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


class DownloadService:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        arq: ArqRedis,
        limiter: RateLimiter,
        accounts: AccountService,
        settings: Settings,
        runtime: RuntimeSettings,
    ) -> None:
        self._pool = pool
        self._redis = redis
        self._arq = arq
        self._runtime = runtime
        self._limiter = limiter
        self._accounts = accounts
        self._settings = settings

    async def enqueue(self, user_id: int, raw_url: str, quality: Quality = "best") -> Queued:
        """Check everything first, then write the row and its job; nothing is left half-made."""
        await self._accounts.require_linked(user_id)
        target = parse_download_url(raw_url, self._settings.downloads.allowed_hosts)
        limits = await self._runtime.current()
        quota_gb = limits.download_quota_gb
        if quota_gb is not None:
            used = await repo.bytes_used(self._pool, user_id)
            if used >= quota_gb * GB:
                raise AppError(
                    ErrorCode.QUOTA_EXCEEDED,
                    f"You have used your {quota_gb:g} GB of download space ({human_size(used)}). "
                    "Ask an admin to make room.",
                )
        await self._limiter.take(
            "downloads",
            user_id,
            limit=limits.downloads_per_hour,
            window=3600,
            what="downloads per hour",
        )
        row = await repo.create(self._pool, user_id=user_id, url=target.url, kind=target.kind, quality=quality)
        job_id = job_id_for(row.id)
        try:
            await self._arq.enqueue_job("download", row.id, _job_id=job_id)
        except Exception as exc:
            await repo.finish(
                self._pool, row.id, "failed", error_code="SERVICE_UNAVAILABLE", error_message="not queued"
            )
            raise AppError(
                ErrorCode.SERVICE_UNAVAILABLE, "The download queue is not reachable right now. Try again shortly."
            ) from exc
        await repo.set_job(self._pool, row.id, job_id)
        position = await queue.depth(self._arq)
        log.info("download %s queued for %s", row.id, user_id)
        return Queued(row, max(position, 1))

    async def attach_message(self, download_id: int, channel_id: int, message_id: int) -> None:
        await repo.set_message(self._pool, download_id, channel_id, message_id)

    async def get(self, download_id: int) -> Download | None:
        return await repo.get(self._pool, download_id)

    async def list_for(
        self, user_id: int, status: repo.Status | None, page: int, *, page_size: int = PAGE_SIZE
    ) -> list[Download]:
        return await repo.list_for_user(
            self._pool, user_id, status=status, limit=page_size, offset=(max(page, 1) - 1) * page_size
        )

    async def cancel(self, actor_id: int, download_id: int) -> Download:
        """The owner or an admin stops a download; a queued one ends now, a running one at once by the worker."""
        row = await repo.get(self._pool, download_id)
        if row is None:
            raise AppError(ErrorCode.RESOURCE_NOT_FOUND, f"There is no download #{download_id}.")
        if row.user_id != actor_id:
            try:
                await self._accounts.require_admin(actor_id)
            except AppError:
                raise AppError(
                    ErrorCode.INSUFFICIENT_PRIVILEGES, f"Download #{download_id} is not yours to cancel."
                ) from None
        if not row.is_open:
            raise AppError(ErrorCode.INVALID_INPUT, f"Download #{download_id} has already ended ({row.status}).")
        async with self._pool.acquire() as conn, conn.transaction():
            closed = await conn.fetchrow(
                "UPDATE downloads SET status = 'cancelled', finished_at = now(), updated_at = now() "
                "WHERE id = $1 AND status = 'queued' RETURNING id",
                download_id,
            )
            await audit.record(
                conn, actor_id=actor_id, action="download.cancel", target_type="download", target_id=download_id
            )
        if closed is not None:
            await publish(self._redis, BotEvent(kind="download_finished", download_id=download_id))
        else:
            await self._redis.set(cancel_key(download_id), str(actor_id), ex=86400)
        updated = await repo.get(self._pool, download_id)
        assert updated is not None
        return updated

    async def overview(self, actor_id: int) -> QueueOverview:
        await self._accounts.require_admin(actor_id)
        health = await queue.worker_report(self._arq)
        return QueueOverview(
            open=await repo.open_downloads(self._pool),
            queued_jobs=await queue.depth(self._arq),
            worker_alive=health is not None,
            worker_report=health,
        )

    async def finished_notice(self, download: Download) -> Notice:
        """The DM for a download that ended: what arrived and where, or why not and what to do."""
        if download.status == "completed":
            lines = [f"**{download.videos_done}** video(s), {human_size(download.bytes_done)}"]
            if download.videos_failed:
                lines.append(f"{download.videos_failed} video(s) could not be downloaded (removed or private).")
            if download.plex_collection_title:
                lines.append(f"Plex collection: **{download.plex_collection_title}**")
            elif download.plex_state == "pending":
                lines.append("Plex is not reachable right now; it will be added to Plex when it is back.")
            if download.started_at and download.finished_at:
                seconds = int((download.finished_at - download.started_at).total_seconds())
                lines.append(f"Took {seconds // 60} min {seconds % 60} s.")
            return Notice(
                user_id=download.user_id,
                tone="success",
                title=f"Downloaded: {download.title or download.url}",
                body="\n".join(lines),
                topic="downloads",
            )
        if download.status == "cancelled":
            return Notice(
                user_id=download.user_id,
                tone="info",
                title=f"Download #{download.id} cancelled",
                body="Nothing partial was kept.",
                topic="downloads",
            )
        return Notice(
            user_id=download.user_id,
            tone="error",
            title=f"Download #{download.id} failed",
            body=f"{download.error_message or 'It failed.'}\nCheck the link and try /download again.",
            topic="downloads",
        )
