"""StatsService on real PostgreSQL and Redis: exact aggregates per period, the queue, the admin check."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name

from bot.errors import AppError, ErrorCode
from bot.services.stats import StatsService, TitleDemand, UserCount, UserDownloads, period_since
from tests.conftest import REDIS_URL

ADMIN, ALICE, BOB = 100, 101, 102
MB = 1024**2
NOW = datetime.now(UTC).replace(microsecond=0)


class Accounts:
    def __init__(self) -> None:
        self.asked: list[int] = []

    async def require_admin(self, discord_id: int) -> None:
        self.asked.append(discord_id)
        if discord_id != ADMIN:
            raise AppError(ErrorCode.INSUFFICIENT_PRIVILEGES, "Only MediaNest admins can do that.")


@pytest.fixture
async def arq() -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute("TRUNCATE users, media_requests, downloads, download_items RESTART IDENTITY CASCADE")
    recent, old = NOW - timedelta(days=2, hours=3), NOW - timedelta(days=40)
    for user, plex in ((ADMIN, "admin_plex"), (ALICE, "alice_plex"), (BOB, None)):
        await pool.execute("INSERT INTO users (discord_id, plex_username) VALUES ($1, $2)", user, plex)

    async def request(user: int | None, tmdb: int, title: str, status: str, at: datetime, kind: str = "movie") -> int:
        return int(
            await pool.fetchval(
                "INSERT INTO media_requests (user_id, media_type, tmdb_id, title, status, created_at, requested_via, "
                "requested_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                user,
                kind,
                tmdb,
                title,
                status,
                at,
                "discord" if user else "overseerr",
                None if user else "grandma",
            )
        )

    dune = await request(ALICE, 438631, "Dune", "pending", recent)
    await request(ALICE, 1, "Alien", "approved", recent)
    await request(BOB, 2, "Heat", "available", recent)
    await request(None, 1399, "Game of Thrones", "pending", recent, "tv")
    await request(None, 1399, "Game of Thrones", "declined", recent, "tv")
    await request(ALICE, 3, "Old News", "declined", old)
    for subscriber in (BOB, ADMIN):
        await pool.execute("INSERT INTO request_subscribers (request_id, user_id) VALUES ($1, $2)", dune, subscriber)

    async def download(user: int, status: str, at: datetime, sizes: list[int | None]) -> None:
        download_id = await pool.fetchval(
            "INSERT INTO downloads (user_id, url, kind, status, created_at) "
            "VALUES ($1, 'https://youtu.be/x', 'video', $2, $3) RETURNING id",
            user,
            status,
            at,
        )
        for n, size in enumerate(sizes):
            await pool.execute(
                "INSERT INTO download_items (download_id, user_id, extractor, video_id, size_bytes, status, "
                "created_at) VALUES ($1, $2, 'youtube', $3, $4, $5, $6)",
                download_id,
                user,
                f"{download_id}-{n}",
                size,
                "completed" if size else "failed",
                at,
            )

    await download(ALICE, "completed", recent, [3 * MB, 2 * MB, None])
    await download(ALICE, "running", recent, [])
    await download(BOB, "completed", recent, [1 * MB])
    await download(BOB, "failed", recent, [None])
    await download(ALICE, "completed", old, [10 * MB])
    await download(ADMIN, "queued", old, [])
    return pool


async def test_a_week_is_counted_exactly(seeded: asyncpg.Pool, arq: ArqRedis) -> None:
    await arq.zadd(default_queue_name, {"job-a": 1, "job-b": 2})
    service = StatsService(pool=seeded, arq=arq, accounts=Accounts())  # type: ignore[arg-type]
    report = await service.stats(ADMIN, period_since("7d", NOW), now=NOW)

    assert report.requests_by_status == {"pending": 2, "approved": 1, "available": 1, "declined": 1}
    assert report.total_requests == 5
    assert report.requests_by_user == [
        UserCount(ALICE, "alice_plex", 2),
        UserCount(None, "grandma", 2),
        UserCount(BOB, None, 1),
    ]
    assert report.downloads_by_status == {"completed": 2, "failed": 1, "running": 1}
    assert report.downloads_by_user == [
        UserDownloads(ALICE, "alice_plex", 2, 5 * MB, 15 * MB),
        UserDownloads(BOB, None, 2, 1 * MB, 1 * MB),
    ]
    assert (report.added_bytes, report.on_disk_bytes) == (6 * MB, 16 * MB)
    assert report.open_downloads == {"queued": 1, "running": 1}  # the queue is now, whatever the period
    assert report.queued_jobs == 2
    assert report.top_titles[:2] == [
        TitleDemand("movie", 438631, "Dune", 1, 3),  # alice asked, bob and admin pressed "Notify me too"
        TitleDemand("tv", 1399, "Game of Thrones", 2, 2),  # two requests from outside Discord
    ]
    assert "Old News" not in {t.title for t in report.top_titles}

    assert report.bucket == "day"
    assert len(report.timeline) == 8  # 7 days and today's part, empty days included
    assert [p.start for p in report.timeline] == sorted(p.start for p in report.timeline)
    assert sum(p.requests for p in report.timeline) == 5
    assert sum(p.downloads for p in report.timeline) == 4
    busy = [p for p in report.timeline if p.requests]
    assert len(busy) == 1 and busy[0].requests == 5 and busy[0].start <= NOW - timedelta(days=2, hours=3)

    chart = await service.chart(report)
    assert chart is not None and chart[:8] == b"\x89PNG\r\n\x1a\n"


async def test_all_time_and_the_last_day(seeded: asyncpg.Pool, arq: ArqRedis) -> None:
    service = StatsService(pool=seeded, arq=arq, accounts=Accounts())  # type: ignore[arg-type]
    everything = await service.stats(ADMIN, None, now=NOW)
    assert everything.total_requests == 6 and everything.total_downloads == 6
    assert everything.added_bytes == everything.on_disk_bytes == 16 * MB
    assert everything.downloads_by_user[0] == UserDownloads(ALICE, "alice_plex", 3, 15 * MB, 15 * MB)
    assert everything.bucket == "day"  # 40 days of history
    assert sum(p.requests for p in everything.timeline) == 6
    assert everything.timeline[0].start <= NOW - timedelta(days=40)
    assert everything.queued_jobs == 0

    day = await service.stats(ADMIN, period_since("24h", NOW), now=NOW)
    assert day.total_requests == day.total_downloads == 0
    assert day.bucket == "hour" and len(day.timeline) in (24, 25)
    # disk use is whenever it came, so it shows for a quiet day too
    assert day.on_disk_bytes == 16 * MB and day.downloads_by_user[0].on_disk_bytes == 15 * MB


async def test_a_non_admin_is_refused_and_a_dead_redis_only_blanks_the_queue(seeded: asyncpg.Pool) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = ArqRedis.from_url(f"redis://127.0.0.1:{port}/0")  # nothing listens there
    accounts = Accounts()
    service = StatsService(pool=seeded, arq=dead, accounts=accounts)  # type: ignore[arg-type]
    try:
        with pytest.raises(AppError) as refused:
            await service.stats(ALICE, None)
        assert refused.value.code is ErrorCode.INSUFFICIENT_PRIVILEGES
        report = await service.stats(ADMIN, period_since("7d", NOW), now=NOW)
    finally:
        await dead.aclose()
    assert report.queued_jobs is None
    assert report.total_requests == 5
    assert accounts.asked == [ALICE, ADMIN]
