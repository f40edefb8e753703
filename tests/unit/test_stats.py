"""/admin stats without a database: periods, buckets, the chart and the embed."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from bot.services.stats import (
    StatsReport,
    TimelinePoint,
    TitleDemand,
    UserCount,
    UserDownloads,
    bucket_for,
    chart_label,
    period_since,
    render_chart,
)
from cogs.insights import stats_embed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MB = 1024**2


def report(**overrides: object) -> StatsReport:
    values: dict[str, object] = {
        "since": NOW - timedelta(days=7),
        "until": NOW,
        "requests_by_status": {"pending": 2, "available": 1},
        "requests_by_user": [UserCount(11, "alice", 2), UserCount(None, "grandma", 1)],
        "downloads_by_status": {"completed": 3},
        "downloads_by_user": [UserDownloads(11, "alice", 3, 5 * MB, 15 * MB), UserDownloads(12, None, 0, 0, 2 * MB)],
        "added_bytes": 5 * MB,
        "on_disk_bytes": 17 * MB,
        "open_downloads": {"queued": 1, "running": 1},
        "queued_jobs": 1,
        "top_titles": [TitleDemand("tv", 1399, "Game of **Thrones** @everyone", 2, 3)],
        "bucket": "day",
        "timeline": [TimelinePoint(NOW - timedelta(days=7 - i), i % 3, i % 2) for i in range(8)],
    }
    values.update(overrides)
    return StatsReport(**values)  # type: ignore[arg-type]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_periods_and_buckets() -> None:
    assert period_since("24h", NOW) == NOW - timedelta(hours=24)
    assert period_since("30d", NOW) == NOW - timedelta(days=30)
    assert period_since("all", NOW) is None
    assert bucket_for(timedelta(hours=24)) == "hour"
    assert bucket_for(timedelta(days=7)) == bucket_for(timedelta(days=30)) == "day"
    assert bucket_for(timedelta(days=365)) == "week"
    assert bucket_for(timedelta(days=1000)) == "month"


def test_chart_labels_never_mention_and_fall_back_for_glyphs_the_font_lacks() -> None:
    assert chart_label(11, "alice") == "alice"
    assert chart_label(11, "a_very_long_plex_username") == "a_very_long_ple…"
    assert chart_label(123456789, "ニック") == "member …6789"
    assert chart_label(None, None) == "someone"


def test_the_chart_is_a_small_png_with_or_without_disk_use() -> None:
    with_disk = render_chart(report())
    assert png_size(with_disk) == (800, 300)
    assert len(with_disk) < 100_000
    only_activity = render_chart(report(downloads_by_user=[], on_disk_bytes=0))
    assert png_size(only_activity) == (800, 300)
    assert only_activity != with_disk


async def test_nothing_to_draw_means_no_chart() -> None:
    from bot.services.stats import StatsService

    empty = report(requests_by_status={}, downloads_by_status={}, on_disk_bytes=0, downloads_by_user=[], timeline=[])
    assert empty.empty
    service = StatsService(pool=None, arq=None, accounts=None)  # type: ignore[arg-type]
    assert await service.chart(empty) is None


def test_the_embed_shows_the_numbers_and_escapes_titles() -> None:
    embed = stats_embed(report(), "the last 7 days")
    assert embed.title is not None and embed.title.endswith("MediaNest stats: the last 7 days")
    assert embed.description is not None
    assert "**3** request(s) · **3** download(s) · **5.0 MB** added" in embed.description
    assert "On disk: **17.0 MB**" in embed.description
    assert "Queue: **1** waiting, **1** running · **1** job(s) in the worker queue" in embed.description
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Requests by state"] == "pending: **2**\navailable: **1**"
    assert fields["Top requesters"] == "<@11>: **2**\ngrandma (Overseerr): **1**"
    assert fields["Downloads and disk per member"] == (
        "<@11>: **3** download(s), 5.0 MB added, 15.0 MB on disk\n<@12>: **0** download(s), 0 B added, 2.0 MB on disk"
    )
    most = fields["Most requested"] or ""
    assert most.startswith("1. **Game of \\*\\*Thrones\\*\\* @\u200beveryone** (show): 3 people, 2 request(s)")
    assert embed.footer.text == "From 2026-11-18 12:00 UTC to 2026-11-25 12:00 UTC"


def test_the_embed_says_when_the_worker_queue_could_not_be_read() -> None:
    embed = stats_embed(report(queued_jobs=None, since=None), "all time")
    assert embed.description is not None and "Redis did not answer" in embed.description
    assert embed.footer.text is not None and embed.footer.text.startswith("From the beginning")
