"""Downloads end to end: the bot, a real arq worker running real yt-dlp and ffmpeg, Plex, DMs."""

from __future__ import annotations

import itertools
import os
import signal
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest

from tests.e2e.conftest import Stack, link_as
from tests.fakes.base import wait_for

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def download_row(stack: Stack, download_id: int) -> asyncpg.Record:
    conn = await asyncpg.connect(stack.database_url)
    try:
        return await conn.fetchrow("SELECT * FROM downloads WHERE id = $1", download_id)
    finally:
        await conn.close()


async def test_playlist_with_progress_files_collection_and_one_dm_then_only_the_new_video(stack: Stack) -> None:
    for vid, title in (("v1", "Beach"), ("v2", "Hike"), ("v3", "Campfire")):
        stack.media.add_video(vid, title, min_size=150_000)
        stack.media.throttle(vid, 100_000)  # a few seconds in all: progress has something to show
    feed = stack.media.add_playlist("PL1", "Summer Trip", ["v1", "v2", "v3"])
    await stack.start_bot()
    await stack.start_worker()
    await link_as(stack, stack.alice, "alice_plex")

    interaction = await stack.discord.slash(stack.alice, "download", guild=stack.guild, channel=stack.channel, url=feed)
    message = await interaction.wait_reply()
    assert not message.ephemeral and "Queued #1" in message.embeds[0]["title"]
    assert message.allowed_mentions == {"parse": []}
    final = await interaction.wait_edit(lambda m: "Downloaded #1" in m.embeds[0]["title"], timeout=60)
    assert "Plex collection: **Summer Trip**" in final.embeds[0]["description"]

    # progress was shown, and no two edits came closer than Discord's comfort allows
    progress = [e for e in final.edits if "Downloading" in e["embeds"][0]["title"]]
    assert progress, "no progress edit was made"
    times = [
        datetime.fromisoformat(e["edited_timestamp"]).timestamp() for e in final.edits if e.get("edited_timestamp")
    ] + [final.edited_timestamp]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 1.9 for gap in gaps), gaps

    root = stack.download_root
    assert [p.relative_to(root).as_posix() for p in files_under(root)] == [
        "alice_plex/Summer Trip/Beach [v1].mp4",
        "alice_plex/Summer Trip/Campfire [v3].mp4",
        "alice_plex/Summer Trip/Hike [v2].mp4",
    ]
    assert stack.pms.collections == {"Summer Trip": stack.pms.collections["Summer Trip"]}
    assert len(stack.pms.collections["Summer Trip"]) == 3
    dms = [m for m in stack.discord.dms(stack.alice) if m.embeds and "Downloaded" in m.embeds[0]["title"]]
    assert len(dms) == 1 and "3** video(s)" in dms[0].embeds[0]["description"]

    # the same playlist again, with one new video: only that one is fetched, the collection grows
    stack.media.add_video("v4", "Sunset")
    stack.media.add_to_playlist("PL1", "v4")
    before = {v: stack.media.hits(v).gets for v in ("v1", "v2", "v3")}
    again = await stack.discord.slash(stack.alice, "download", guild=stack.guild, channel=stack.channel, url=feed)
    await again.wait_edit(lambda m: "Downloaded #2" in m.embeds[0]["title"], timeout=60)
    assert {v: stack.media.hits(v).gets for v in ("v1", "v2", "v3")} == before
    assert len(files_under(root)) == 4
    assert len(stack.pms.collections["Summer Trip"]) == 4
    row = await download_row(stack, 2)
    assert (row["videos_done"], row["status"]) == (1, "completed")


async def test_bad_links_and_the_sixth_download_in_an_hour_are_refused(stack: Stack) -> None:
    stack.media.add_video("x", "X")
    url = stack.media.video_url("x")
    await stack.start_bot()
    await link_as(stack, stack.alice, "alice_plex")
    for bad in (
        "https://vimeo.com/76979871",
        f"http://127.0.0.1:{stack.media.port}@evil.example/videos/x.mp4",
        f"http://127.0.0.1:{stack.media.port}/videos/../../etc/passwd",
        "file:///etc/passwd",
    ):
        reply = await (
            await stack.discord.slash(stack.alice, "download", guild=stack.guild, channel=stack.channel, url=bad)
        ).wait_reply()
        assert reply.ephemeral and "INVALID_YOUTUBE_URL" in reply.embeds[0]["footer"]["text"], bad
    for n in range(5):
        reply = await (
            await stack.discord.slash(stack.alice, "download", guild=stack.guild, channel=stack.channel, url=url)
        ).wait_reply()
        assert f"Queued #{n + 1}" in reply.embeds[0]["title"]
    sixth = await (
        await stack.discord.slash(stack.alice, "download", guild=stack.guild, channel=stack.channel, url=url)
    ).wait_reply()
    assert sixth.ephemeral and "RATE_LIMIT_EXCEEDED" in sixth.embeds[0]["footer"]["text"]
    assert "5 downloads per hour" in sixth.embeds[0]["description"]
    not_linked = await (
        await stack.discord.slash(stack.bob, "download", guild=stack.guild, channel=stack.channel, url=url)
    ).wait_reply()
    assert "UNAUTHORIZED" in not_linked.embeds[0]["footer"]["text"]


async def test_cancel_mid_download_leaves_no_partial_file(stack: Stack) -> None:
    stack.media.add_video("big", "Big one", min_size=2_000_000)
    stack.media.throttle("big", 100_000)
    await stack.start_bot()
    await stack.start_worker()
    await link_as(stack, stack.alice, "alice_plex")
    interaction = await stack.discord.slash(
        stack.alice, "download", guild=stack.guild, channel=stack.channel, url=stack.media.video_url("big")
    )
    await interaction.wait_reply()
    await wait_for(lambda: stack.media.hits("big").bytes_served > 200_000, timeout=30, what="the download to run")
    cancel = await (
        await stack.discord.slash(stack.alice, "cancel", guild=stack.guild, channel=stack.channel, id=1)
    ).wait_reply()
    assert "Cancelling #1" in cancel.embeds[0]["title"]
    await interaction.wait_edit(lambda m: "Cancelled #1" in m.embeds[0]["title"], timeout=20)
    assert files_under(stack.download_root) == []
    assert (await download_row(stack, 1))["status"] == "cancelled"


async def test_worker_killed_mid_download_is_retried_by_a_new_worker_once(stack: Stack) -> None:
    stack.media.add_video("k1", "Kept", min_size=1_000_000)
    stack.media.throttle("k1", 100_000)
    feed = stack.media.add_playlist("PLK", "Crash Test", ["k1"])
    await stack.start_bot()
    worker = await stack.start_worker(DOWNLOAD_JOB_TIMEOUT_SECONDS=10)
    await link_as(stack, stack.alice, "alice_plex")
    interaction = await stack.discord.slash(stack.alice, "download", guild=stack.guild, channel=stack.channel, url=feed)
    await interaction.wait_reply()
    await wait_for(lambda: stack.media.hits("k1").bytes_served > 150_000, timeout=30, what="the download to run")
    os.killpg(worker.pid, signal.SIGKILL)
    await worker.proc.wait()  # type: ignore[union-attr]
    stack.media.throttle("k1", None)

    await stack.start_worker(DOWNLOAD_JOB_TIMEOUT_SECONDS=10)
    final = await interaction.wait_edit(lambda m: "Downloaded #1" in m.embeds[0]["title"], timeout=60)
    assert "1 video(s)" in final.embeds[0]["description"]
    assert [p.name for p in files_under(stack.download_root)] == ["Kept [k1].mp4"]
    row = await download_row(stack, 1)
    assert (row["status"], row["attempts"]) == ("completed", 2)
    assert len(stack.pms.collections["Crash Test"]) == 1
