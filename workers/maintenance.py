"""Keeping downloads honest across crashes: stale work folders and rows without a job.

- On start, a worker removes work folders that no live attempt holds a lease on.
- Every minute, `reconcile` re-enqueues queued rows whose job vanished (the bot
  died between writing the row and enqueueing), and closes running rows whose
  job is gone for good (arq gave up after a crash on the last try), telling the user.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.jobs import Job, JobStatus

from bot.deps import Dependencies
from bot.events import BotEvent, publish
from bot.files import work_root
from bot.repositories import downloads as repo
from bot.services.downloads import job_id_for, lease_key

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=30)


async def remove_stale_work(deps: Dependencies) -> list[str]:
    root = work_root(deps.settings.downloads.root)
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if entry.name.isdigit() and await deps.redis.exists(lease_key(int(entry.name))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    if removed:
        log.info("removed %d stale work folder(s): %s", len(removed), ", ".join(removed))
    return removed


async def reconcile(deps: Dependencies) -> dict[str, list[int]]:
    requeued: list[int] = []
    closed: list[int] = []
    now = datetime.now(UTC)
    for row in await repo.open_downloads(deps.pool):
        if now - row.created_at < GRACE:
            continue
        status = await Job(job_id_for(row.id), deps.arq).status()
        if status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress):
            continue
        if row.status == "queued" and status is JobStatus.not_found:
            await deps.arq.enqueue_job("download", row.id, _job_id=job_id_for(row.id))
            requeued.append(row.id)
        elif row.status == "running" and not await deps.redis.exists(lease_key(row.id)):
            finished = await repo.finish(
                deps.pool,
                row.id,
                "failed",
                error_code="OPERATION_FAILED",
                error_message="The download stopped unexpectedly and could not be resumed. Try it again.",
            )
            if finished is not None:
                await publish(deps.redis, BotEvent(kind="download_finished", download_id=row.id))
                closed.append(row.id)
    return {"requeued": requeued, "closed": closed}


async def reconcile_job(ctx: dict[str, Any]) -> dict[str, list[int]]:
    """arq cron wrapper."""
    return await reconcile(ctx["deps"])
