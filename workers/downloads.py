"""The download job: run yt-dlp in a child process, move finished files into place, tell Plex.

Safe to run twice: the row says whether there is anything left to do, the
archive (download_items) says which videos are already in place, and a stale
work folder from a killed attempt is wiped before starting. Each video is
moved into its final folder only when complete, so Plex never sees a partial
file. Permanent errors (video removed, private) are recorded per video and not
retried; transient ones make arq retry the job with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arq import Retry

from bot.config import Settings
from bot.deps import Dependencies
from bot.errors import AppError
from bot.events import BotEvent, Progress, publish, publish_progress
from bot.files import PathEscapeError, inside, safe_name, work_dir
from bot.integrations.plex import PlexLibrary
from bot.repositories import downloads as repo
from bot.repositories import users
from bot.services.downloads import cancel_key, lease_key
from bot.services.plex_publish import PlexPublisher, plex_unavailable
from workers.runner import RunnerJob, is_permanent

log = logging.getLogger(__name__)

LEASE_SECONDS = 20
CANCEL_POLL_SECONDS = 0.25
DISK_FULL = "No space left on device"


class Cancelled(Exception):
    pass


class DiskFull(Exception):
    pass


@dataclass
class Attempt:
    """What one run of the child process produced."""

    kind: str = "video"
    title: str | None = None
    uploader: str | None = None
    extractor: str = "generic"
    entries: list[dict[str, Any]] = field(default_factory=list)
    done: list[Path] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # ids already in the archive
    permanent_failures: list[str] = field(default_factory=list)
    transient_failures: list[str] = field(default_factory=list)
    fatal: str | None = None
    fatal_permanent: bool = False


def backoff(settings: Settings, job_try: int) -> float:
    return float(settings.downloads.retry_base_seconds * (2 ** max(job_try - 1, 0)))


async def download(ctx: dict[str, Any], download_id: int) -> str:
    """arq job: one attempt at a download."""
    deps: Dependencies = ctx["deps"]
    settings = deps.settings
    job_try: int = ctx.get("job_try", 1)
    row = await repo.start(deps.pool, download_id)
    if row is None:
        return "already finished"
    root = settings.downloads.root
    work = work_dir(root, download_id)
    shutil.rmtree(work, ignore_errors=True)  # leftovers of a killed attempt
    work.mkdir(parents=True)
    lease = asyncio.create_task(_hold_lease(deps, download_id))
    try:
        attempt = await _run_child(deps, row, work)
    except Cancelled:
        await _close(deps, download_id, "cancelled", None, None)
        return "cancelled"
    except DiskFull:
        await _close(
            deps,
            download_id,
            "failed",
            "OPERATION_FAILED",
            "The download disk is full. Partial files were removed; tell an admin to free some space.",
        )
        return "disk full"
    finally:
        lease.cancel()
        shutil.rmtree(work, ignore_errors=True)
        await deps.redis.delete(lease_key(download_id))

    if attempt.fatal is not None:
        if not attempt.fatal_permanent and job_try < settings.downloads.max_tries:
            raise Retry(defer=backoff(settings, job_try))
        await _close(deps, download_id, "failed", "OPERATION_FAILED", _user_message(attempt.fatal))
        return "failed"
    if attempt.transient_failures and job_try < settings.downloads.max_tries:
        log.info("%d video(s) failed transiently; retrying", len(attempt.transient_failures))
        raise Retry(defer=backoff(settings, job_try))
    for video_id in attempt.transient_failures:
        await repo.record_item(
            deps.pool,
            download_id=download_id,
            user_id=row.user_id,
            extractor=attempt.extractor,
            video_id=video_id,
            title=None,
            file_path=None,
            size_bytes=None,
            status="failed",
            error_message="kept failing after several attempts",
        )
    items = await repo.items(deps.pool, download_id)
    completed = [i for i in items if i["status"] == "completed"]
    if not completed and not attempt.present:
        reason = next((i["error_message"] for i in items if i["error_message"]), None)
        await _close(
            deps, download_id, "failed", "OPERATION_FAILED", _user_message(reason or "Nothing could be downloaded.")
        )
        return "failed"
    await _close(deps, download_id, "completed", None, None, publish_event=False)
    await publish_to_plex(deps, download_id)
    await publish(deps.redis, BotEvent(kind="download_finished", download_id=download_id))
    return "completed"


async def publish_to_plex(deps: Dependencies, download_id: int) -> None:
    """Scan, match and collect; if Plex is down, schedule a later try (the user is told)."""
    if deps.plex_server is None:
        return
    row = await repo.get(deps.pool, download_id)
    if row is None or row.folder is None:
        return
    files = [Path(i["file_path"]) for i in await repo.collection_files(deps.pool, download_id)]
    if not files:
        return
    publisher = PlexPublisher(
        PlexLibrary(deps.plex_server),
        download_root=deps.settings.downloads.root,
        plex_root=deps.settings.plex.download_root,
        section_ref=deps.settings.plex.download_section,
        scan_timeout=deps.settings.plex.scan_timeout_seconds,
    )
    title = row.title if row.kind == "playlist" else None
    try:
        result = await publisher.publish(Path(row.folder), files, title)
    except AppError as exc:
        if not plex_unavailable(exc):
            log.error("publishing download %s to Plex failed: %s", download_id, exc.message)
            await repo.set_plex_state(deps.pool, download_id, "failed", exc.message)
            return
        log.warning("Plex unavailable for download %s; will retry later", download_id)
        await repo.set_plex_state(deps.pool, download_id, "pending", exc.message)
        await deps.arq.enqueue_job(
            "plex_retry",
            download_id,
            _job_id=f"plex:{download_id}",
            _defer_by=deps.settings.downloads.retry_base_seconds,
        )
        return
    for item in await repo.items(deps.pool, download_id):
        key = result.rating_keys.get(item["file_path"] or "")
        if key:
            await repo.set_item_rating_key(deps.pool, item["id"], key)
    if result.collection_key and result.collection_title:
        await repo.set_collection(deps.pool, download_id, result.collection_key, result.collection_title)
    state = "done" if not result.missing else "partial"
    await repo.set_plex_state(
        deps.pool,
        download_id,
        state,
        None if not result.missing else f"{len(result.missing)} file(s) not found in Plex yet",
    )


async def plex_retry(ctx: dict[str, Any], download_id: int) -> str:
    """arq job: the Plex step again, for a download that completed while Plex was down."""
    deps: Dependencies = ctx["deps"]
    await publish_to_plex(deps, download_id)
    row = await repo.get(deps.pool, download_id)
    if row is not None and row.plex_state in ("done", "partial"):
        await publish(deps.redis, BotEvent(kind="download_finished", download_id=download_id))
    return row.plex_state or "" if row else "gone"


async def _close(
    deps: Dependencies,
    download_id: int,
    status: repo.Status,
    code: str | None,
    message: str | None,
    *,
    publish_event: bool = True,
) -> None:
    await repo.finish(deps.pool, download_id, status, error_code=code, error_message=message)
    await deps.redis.delete(cancel_key(download_id))
    if publish_event:
        await publish(deps.redis, BotEvent(kind="download_finished", download_id=download_id))


def _user_message(raw: str) -> str:
    if DISK_FULL in raw:
        return "The download disk is full; tell an admin."
    return raw[:300]


async def _hold_lease(deps: Dependencies, download_id: int) -> None:
    """Prove this attempt is alive, so a starting worker does not wipe our work folder."""
    while True:
        await deps.redis.set(lease_key(download_id), str(os.getpid()), ex=LEASE_SECONDS)
        await asyncio.sleep(LEASE_SECONDS / 4)


async def _run_child(deps: Dependencies, row: repo.Download, work: Path) -> Attempt:
    settings = deps.settings
    archived = await repo.archived_ids(deps.pool, row.user_id)
    job = RunnerJob(
        url=row.url,
        kind=row.kind,
        quality=row.quality,
        work_dir=str(work),
        skip=sorted(archived),
        allowed_hosts=settings.downloads.allowed_hosts,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers.runner",
        str(os.getpid()),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: killing it also stops ffmpeg
        limit=1 << 20,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(job.model_dump_json().encode())
    await process.stdin.drain()
    process.stdin.close()

    attempt = Attempt()
    handler = _EventHandler(deps, row, attempt, work)
    reader = asyncio.create_task(handler.consume(process.stdout))
    stderr = asyncio.create_task(process.stderr.read())
    watcher = asyncio.create_task(_watch_cancel(deps, row.id))
    try:
        done, _ = await asyncio.wait({reader, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher in done:
            raise Cancelled
        reader.result()  # re-raise a handler failure (a full disk, say)
        await process.wait()
    finally:
        watcher.cancel()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        reader.cancel()
        err = (await stderr).decode(errors="replace")
    if DISK_FULL in err:
        raise DiskFull
    if process.returncode not in (0, None) and attempt.fatal is None and not attempt.entries:
        attempt.fatal = f"The downloader stopped unexpectedly (exit {process.returncode})."
    return attempt


async def _watch_cancel(deps: Dependencies, download_id: int) -> None:
    """Return once /cancel has set the flag; the flag lives in Redis, another process sets it."""
    while not await deps.redis.exists(cancel_key(download_id)):  # noqa: ASYNC110 - remote flag
        await asyncio.sleep(CANCEL_POLL_SECONDS)


class _EventHandler:
    """Acts on the child's events as they come: progress out, finished files into place."""

    def __init__(self, deps: Dependencies, row: repo.Download, attempt: Attempt, work: Path) -> None:
        self.deps = deps
        self.row = row
        self.attempt = attempt
        self.work = work
        self.folder: Path | None = None

    async def consume(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            await getattr(self, f"on_{event.pop('event')}", self.on_unknown)(**event)

    async def on_unknown(self, **_: Any) -> None:
        return None

    async def on_listing(
        self, kind: str, title: str | None, uploader: str | None, extractor: str, entries: list[dict[str, Any]]
    ) -> None:
        a = self.attempt
        a.kind, a.title, a.uploader, a.extractor, a.entries = kind, title, uploader, extractor, entries
        root = self.deps.settings.downloads.root
        owner = await users.get(self.deps.pool, self.row.user_id)
        user_folder = safe_name(owner.plex_username if owner else None, str(self.row.user_id))
        group = title if kind == "playlist" else (uploader or title)
        self.folder = inside(root, user_folder, safe_name(group, "Videos"))
        first_title = entries[0].get("title") if entries else None
        await repo.set_details(
            self.deps.pool,
            self.row.id,
            title=title if kind == "playlist" else first_title or title,
            kind=kind,
            folder=str(self.folder),
            entries=[(str(e.get("extractor") or extractor), str(e["id"])) for e in entries],
        )
        await publish_progress(self.deps.redis, Progress(download_id=self.row.id, count=len(entries), title=title))

    async def on_progress(self, **data: Any) -> None:
        await publish_progress(self.deps.redis, Progress(download_id=self.row.id, **data))

    async def on_skipped(self, index: int, id: str) -> None:
        self.attempt.present.append(id)

    async def on_item_done(
        self,
        index: int,
        id: str,
        title: str | None,
        uploader: str | None,
        filepath: str,
        filesize: int,
    ) -> None:
        assert self.folder is not None
        source = Path(filepath).resolve()  # noqa: ASYNC240 - a local path, no I/O wait worth a thread
        try:
            if not source.is_relative_to(self.work.resolve()):
                raise PathEscapeError(str(source))
            target = inside(self.folder, f"{safe_name(title, id)} [{safe_name(id, 'video')}]{source.suffix}")
        except PathEscapeError:
            log.error("refusing to move %s: outside the download root", source)
            self.attempt.permanent_failures.append(id)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError as exc:
            if exc.errno == 28:
                raise DiskFull from exc
            raise
        self.attempt.done.append(target)
        await repo.record_item(
            self.deps.pool,
            download_id=self.row.id,
            user_id=self.row.user_id,
            extractor=self._extractor(id),
            video_id=id,
            title=title,
            file_path=str(target),
            size_bytes=filesize,
            status="completed",
        )

    async def on_item_failed(
        self,
        index: int,
        id: str,
        title: str | None,
        permanent: bool,
        message: str,
    ) -> None:
        if DISK_FULL in message:
            raise DiskFull
        if permanent or is_permanent(message):
            self.attempt.permanent_failures.append(id)
            await repo.record_item(
                self.deps.pool,
                download_id=self.row.id,
                user_id=self.row.user_id,
                extractor=self._extractor(id),
                video_id=id,
                title=title,
                file_path=None,
                size_bytes=None,
                status="failed",
                error_message=message,
            )
        else:
            self.attempt.transient_failures.append(id)

    async def on_fatal(self, permanent: bool, message: str) -> None:
        if DISK_FULL in message:
            raise DiskFull
        self.attempt.fatal = message
        self.attempt.fatal_permanent = permanent

    async def on_finished(self) -> None:
        return None

    def _extractor(self, video_id: str) -> str:
        for entry in self.attempt.entries:
            if entry.get("id") == video_id:
                return str(entry.get("extractor") or self.attempt.extractor)
        return self.attempt.extractor
