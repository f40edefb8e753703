"""arq WorkerSettings, built from our Settings so a test can make its own."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings as ArqRedisSettings

from bot.config import Settings
from bot.correlation import correlation_id
from workers import context
from workers.downloads import download, plex_retry
from workers.maintenance import reconcile_job, remove_stale_work
from workers.requests import schedule, sync_requests


async def ping(ctx: dict[str, Any]) -> str:
    """Answered by any live worker; /admin doctor uses it to prove a worker runs jobs."""
    return "pong"


def worker_settings(settings: Settings) -> dict[str, Any]:
    async def on_startup(ctx: dict[str, Any]) -> None:
        await context.open_deps(ctx, settings)
        settings.downloads.root.mkdir(parents=True, exist_ok=True)
        await remove_stale_work(ctx["deps"])

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await context.close_deps(ctx)

    async def on_job_start(ctx: dict[str, Any]) -> None:
        correlation_id.set(f"job:{ctx['job_id']}")

    return {
        "functions": [ping, download, plex_retry],
        "cron_jobs": [
            cron(reconcile_job, second=7, run_at_startup=True),
            cron(sync_requests, run_at_startup=True, **schedule(settings.overseerr.poll_seconds)),
        ],
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "on_job_start": on_job_start,
        "redis_settings": ArqRedisSettings.from_dsn(settings.redis.url.get_secret_value()),
        "max_jobs": settings.downloads.concurrency,
        "job_timeout": settings.downloads.job_timeout_seconds,
        "max_tries": settings.downloads.max_tries,
        "health_check_interval": 10,
        "keep_result": 3600,
    }
