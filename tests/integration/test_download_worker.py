"""The download job with real yt-dlp, ffmpeg, PostgreSQL, Redis and arq, against the media and Plex fakes."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.deps import Dependencies
from bot.events import STREAM
from bot.files import WORK_DIR_NAME
from bot.repositories import downloads as repo
from bot.services.downloads import cancel_key, lease_key
from tests.fakes.base import wait_for
from tests.fakes.media import FakeMediaServer
from tests.fakes.plex import FakePlexServer
from tests.integration.conftest import linked_user, make_worker

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


async def queue(deps: Dependencies, user_id: int, url: str) -> int:
    row = await repo.create(deps.pool, user_id=user_id, url=url, kind="auto", quality="best")
    await deps.arq.enqueue_job("download", row.id, _job_id=f"download:{row.id}")
    return row.id


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_playlist_lands_in_place_becomes_a_collection_and_again_fetches_only_new(
    deps: Dependencies, media: FakeMediaServer, pms: FakePlexServer
) -> None:
    await linked_user(deps, 1001, "alice")
    for vid, title in (("v1", "Beach"), ("v2", "Hike"), ("v3", "Campfire")):
        media.add_video(vid, title)
    feed = media.add_playlist("PL1", "Summer Trip", ["v1", "v2", "v3"])
    first = await queue(deps, 1001, feed)

    worker = make_worker(deps.settings)
    await worker.main()
    await worker.close()

    row = await repo.get(deps.pool, first)
    assert row is not None and row.status == "completed", row
    assert (row.kind, row.title, row.video_count, row.videos_done) == ("playlist", "Summer Trip", 3, 3)
    root = deps.settings.downloads.root
    folder = root / "alice" / "Summer Trip"
    assert [p.name for p in files_under(root)] == [
        "Beach [v1].mp4",
        "Campfire [v3].mp4",
        "Hike [v2].mp4",
    ]
    assert all(p.parent == folder for p in files_under(root))
    assert not any((root / WORK_DIR_NAME).iterdir())  # no temporary leftovers
    assert sorted(pms.collections) == ["Summer Trip"] and len(pms.collections["Summer Trip"]) == 3
    assert row.plex_collection_title == "Summer Trip" and row.plex_state == "done"
    events = await deps.redis.xrange(STREAM)
    assert [e[1]["data"] for e in events if f'"download_id":{first}' in e[1]["data"]]

    # one new video: only it is downloaded, the collection grows
    media.add_video("v4", "Sunset")
    media.add_to_playlist("PL1", "v4")
    gets_before = {v: media.hits(v).gets for v in ("v1", "v2", "v3")}
    second = await queue(deps, 1001, feed)
    worker = make_worker(deps.settings)
    await worker.main()
    await worker.close()
    row = await repo.get(deps.pool, second)
    assert row is not None and (row.status, row.videos_done) == ("completed", 1)
    assert {v: media.hits(v).gets for v in ("v1", "v2", "v3")} == gets_before
    assert len(files_under(root)) == 4
    assert len(pms.collections["Summer Trip"]) == 4


async def test_a_removed_video_is_recorded_and_the_rest_complete(
    deps: Dependencies, media: FakeMediaServer, pms: FakePlexServer
) -> None:
    await linked_user(deps, 1002, "bob")
    media.add_video("ok1", "Fine")
    media.add_video("gone", "Deleted")
    media.fail("gone", status=404)
    download_id = await queue(deps, 1002, media.add_playlist("PL2", "Mixed", ["ok1", "gone"]))
    worker = make_worker(deps.settings)
    await worker.main()
    await worker.close()
    row = await repo.get(deps.pool, download_id)
    assert row is not None
    assert (row.status, row.videos_done, row.videos_failed) == ("completed", 1, 1)
    failed = [i for i in await repo.items(deps.pool, download_id) if i["status"] == "failed"]
    assert failed[0]["video_id"] == "gone" and "404" in failed[0]["error_message"]
    assert worker.jobs_retried == 0  # permanent: not retried


async def test_transient_error_is_retried_then_succeeds(deps: Dependencies, media: FakeMediaServer) -> None:
    await linked_user(deps, 1003, "carol")
    media.add_video("flaky", "Flaky")
    media.fail("flaky", status=500, times=3, after=1)  # more than yt-dlp retries by itself
    download_id = await queue(deps, 1003, media.add_playlist("PL3", "Flaky list", ["flaky"]))
    worker = make_worker(deps.settings)
    await worker.main()
    await worker.close()
    row = await repo.get(deps.pool, download_id)
    assert row is not None and (row.status, row.videos_done, row.attempts) == ("completed", 1, 2)
    assert worker.jobs_retried == 1


async def test_cancel_mid_download_leaves_no_partial_file(deps: Dependencies, media: FakeMediaServer) -> None:
    await linked_user(deps, 1004, "dave")
    media.add_video("slow", "Slow one", min_size=400_000)
    media.throttle("slow", 40_000)
    download_id = await queue(deps, 1004, media.add_playlist("PL4", "Slow list", ["slow"]))
    worker = make_worker(deps.settings, burst=False)
    running = asyncio.create_task(worker.main())
    try:
        await wait_for(lambda: media.hits("slow").bytes_served > 50_000, timeout=20, what="download under way")
        await deps.redis.set(cancel_key(download_id), "1")

        async def cancelled() -> bool:
            row = await repo.get(deps.pool, download_id)
            return row is not None and row.status == "cancelled"

        await wait_for(cancelled, timeout=10, what="cancellation")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
    root = deps.settings.downloads.root
    assert files_under(root) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 600 KB filesystem for the download root, so the disk really fills up (needs root, as CI has)."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_full_disk_fails_cleanly_and_removes_partial_files(
    download_settings: Callable[..., Settings], media: FakeMediaServer, small_disk: Path
) -> None:
    settings = download_settings(DOWNLOAD_ROOT=str(small_disk), PLEX_SERVER_URL="", PLEX_SERVER_TOKEN="")
    deps = await Dependencies.open(settings)
    try:
        await deps.redis.flushdb()
        await deps.pool.execute("TRUNCATE users CASCADE")
        await linked_user(deps, 1005, "erin")
        media.add_video("huge", "Huge", min_size=2_000_000)
        download_id = await queue(deps, 1005, media.add_playlist("PL5", "Too big", ["huge"]))
        worker = make_worker(settings)
        await worker.main()
        await worker.close()
        row = await repo.get(deps.pool, download_id)
        assert row is not None and row.status == "failed"
        assert row.error_message is not None and "disk is full" in row.error_message
        assert files_under(small_disk) == []  # nothing partial left, in the work folder or elsewhere
        assert worker.jobs_retried == 0
    finally:
        await deps.close()


async def test_a_starting_worker_removes_stale_work_folders_but_not_live_ones(deps: Dependencies) -> None:
    root = deps.settings.downloads.root
    stale = root / WORK_DIR_NAME / "41"
    live = root / WORK_DIR_NAME / "42"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "video.mp4.part").write_bytes(b"partial")
    await deps.redis.set(lease_key(42), "123", ex=30)
    worker = make_worker(deps.settings)
    await worker.main()
    await worker.close()
    assert not stale.exists()
    assert (live / "video.mp4.part").exists()
