"""/admin stats: requests, downloads, disk use and the queue over a period, plus a small chart.

Every number is a SQL aggregate read in one read-only snapshot (no rows are
loaded to be counted in Python). The chart is drawn by matplotlib's Agg
renderer, imported only when a chart is drawn and run in a worker thread, so
neither the import nor the drawing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import asyncpg
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bot import queue
from bot.services.accounts import AccountService

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

Period = Literal["24h", "7d", "30d", "all"]
PERIODS: dict[Period, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
PERIOD_LABELS: dict[Period, str] = {
    "24h": "the last 24 hours",
    "7d": "the last 7 days",
    "30d": "the last 30 days",
    "all": "all time",
}
Bucket = Literal["hour", "day", "week", "month"]
_STEPS: dict[Bucket, str] = {"hour": "1 hour", "day": "1 day", "week": "1 week", "month": "1 month"}
TOP = 10

# $1 is the start of the period, or NULL for all time: ($1::timestamptz IS NULL OR created_at >= $1)

REQUESTS_BY_STATUS = """
SELECT status, count(*) AS n FROM media_requests
WHERE ($1::timestamptz IS NULL OR created_at >= $1)
GROUP BY status ORDER BY n DESC, status
"""

REQUESTS_BY_USER = """
SELECT r.user_id,
       CASE WHEN r.user_id IS NULL THEN r.requested_by_name END AS outside_name,
       max(u.plex_username) AS plex_username,
       count(*) AS n
FROM media_requests r LEFT JOIN users u ON u.discord_id = r.user_id
WHERE ($1::timestamptz IS NULL OR r.created_at >= $1)
GROUP BY r.user_id, outside_name
ORDER BY n DESC, max(u.plex_username), outside_name
LIMIT $2
"""

DOWNLOADS_BY_STATUS = """
SELECT status, count(*) AS n FROM downloads
WHERE ($1::timestamptz IS NULL OR created_at >= $1)
GROUP BY status ORDER BY n DESC, status
"""

# downloads started and bytes added in the period; bytes on disk whenever they came
DOWNLOADS_BY_USER = """
WITH d AS (
    SELECT user_id, count(*) AS downloads FROM downloads
    WHERE ($1::timestamptz IS NULL OR created_at >= $1)
    GROUP BY user_id
), i AS (
    SELECT user_id,
           coalesce(sum(size_bytes) FILTER (WHERE ($1::timestamptz IS NULL OR created_at >= $1)), 0)::bigint AS added,
           coalesce(sum(size_bytes), 0)::bigint AS on_disk
    FROM download_items WHERE status = 'completed' GROUP BY user_id
)
SELECT coalesce(d.user_id, i.user_id) AS user_id, u.plex_username,
       coalesce(d.downloads, 0) AS downloads, coalesce(i.added, 0) AS added, coalesce(i.on_disk, 0) AS on_disk
FROM d FULL JOIN i ON i.user_id = d.user_id
LEFT JOIN users u ON u.discord_id = coalesce(d.user_id, i.user_id)
ORDER BY added DESC, downloads DESC, on_disk DESC, user_id
LIMIT $2
"""

TOTALS = """
SELECT
    (SELECT coalesce(sum(size_bytes), 0)::bigint FROM download_items
      WHERE status = 'completed' AND ($1::timestamptz IS NULL OR created_at >= $1)) AS added,
    (SELECT coalesce(sum(size_bytes), 0)::bigint FROM download_items WHERE status = 'completed') AS on_disk,
    (SELECT count(*) FROM downloads WHERE status = 'queued') AS queued,
    (SELECT count(*) FROM downloads WHERE status = 'running') AS running,
    (SELECT least((SELECT min(created_at) FROM media_requests), (SELECT min(created_at) FROM downloads))) AS first
"""

# demand per title: each request's requester plus everyone who pressed "Notify me too"
MOST_REQUESTED = """
WITH r AS (
    SELECT id, media_type, tmdb_id, title, user_id FROM media_requests
    WHERE ($1::timestamptz IS NULL OR created_at >= $1)
), people AS (
    SELECT r.id, coalesce(r.user_id::text, 'request:' || r.id) AS who FROM r
    UNION ALL
    SELECT r.id, s.user_id::text FROM r JOIN request_subscribers s ON s.request_id = r.id
)
SELECT r.media_type, r.tmdb_id, max(r.title) AS title,
       count(DISTINCT r.id) AS requests, count(DISTINCT p.who) AS people
FROM r JOIN people p ON p.id = r.id
GROUP BY r.media_type, r.tmdb_id
ORDER BY people DESC, requests DESC, title
LIMIT $2
"""

# $1 start, $2 bucket unit, $3 step, $4 now: one row per bucket, empty ones included
TIMELINE = """
WITH b AS (
    SELECT generate_series(date_trunc($2, $1::timestamptz), date_trunc($2, $4::timestamptz), $3::text::interval)
        AS bucket
), r AS (
    SELECT date_trunc($2, created_at) AS bucket, count(*) AS n FROM media_requests
    WHERE created_at >= $1 AND created_at <= $4 GROUP BY 1
), d AS (
    SELECT date_trunc($2, created_at) AS bucket, count(*) AS n FROM downloads
    WHERE created_at >= $1 AND created_at <= $4 GROUP BY 1
)
SELECT b.bucket, coalesce(r.n, 0) AS requests, coalesce(d.n, 0) AS downloads
FROM b LEFT JOIN r USING (bucket) LEFT JOIN d USING (bucket)
ORDER BY b.bucket
"""


@dataclass(frozen=True, slots=True)
class UserCount:
    user_id: int | None  # None: made in Overseerr by someone we do not know
    name: str | None  # their Plex name, or the name Overseerr gave
    count: int


@dataclass(frozen=True, slots=True)
class UserDownloads:
    user_id: int
    name: str | None
    downloads: int  # started in the period
    added_bytes: int  # completed files added in the period
    on_disk_bytes: int  # all their completed files


@dataclass(frozen=True, slots=True)
class TitleDemand:
    media_type: str
    tmdb_id: int
    title: str
    requests: int
    people: int


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    start: datetime
    requests: int
    downloads: int


@dataclass(frozen=True, slots=True)
class StatsReport:
    since: datetime | None
    until: datetime
    requests_by_status: dict[str, int]
    requests_by_user: list[UserCount]
    downloads_by_status: dict[str, int]
    downloads_by_user: list[UserDownloads]
    added_bytes: int
    on_disk_bytes: int
    open_downloads: dict[str, int]  # queued / running rows
    queued_jobs: int | None  # arq's queue; None when Redis did not answer
    top_titles: list[TitleDemand]
    bucket: Bucket
    timeline: list[TimelinePoint] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        return sum(self.requests_by_status.values())

    @property
    def total_downloads(self) -> int:
        return sum(self.downloads_by_status.values())

    @property
    def empty(self) -> bool:
        return not self.total_requests and not self.total_downloads and not self.on_disk_bytes


def period_since(period: Period, now: datetime) -> datetime | None:
    span = PERIODS[period]
    return now - span if span is not None else None


def bucket_for(span: timedelta) -> Bucket:
    if span <= timedelta(hours=48):
        return "hour"
    if span <= timedelta(days=92):
        return "day"
    if span <= timedelta(days=2 * 366):
        return "week"
    return "month"


class StatsService:
    def __init__(
        self, *, pool: asyncpg.Pool, arq: ArqRedis, accounts: AccountService, redis_timeout: float = 2.0
    ) -> None:
        self._pool = pool
        self._arq = arq
        self._accounts = accounts
        self._redis_timeout = redis_timeout

    async def stats(self, actor_id: int, since: datetime | None, *, now: datetime | None = None) -> StatsReport:
        await self._accounts.require_admin(actor_id)
        now = now or datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
            req_status = await conn.fetch(REQUESTS_BY_STATUS, since)
            req_users = await conn.fetch(REQUESTS_BY_USER, since, TOP)
            dl_status = await conn.fetch(DOWNLOADS_BY_STATUS, since)
            dl_users = await conn.fetch(DOWNLOADS_BY_USER, since, TOP)
            totals = await conn.fetchrow(TOTALS, since)
            titles = await conn.fetch(MOST_REQUESTED, since, TOP)
            start = since or totals["first"]
            bucket = bucket_for(now - start if start is not None else timedelta(0))
            timeline = []
            if start is not None:
                timeline = await conn.fetch(TIMELINE, start, bucket, _STEPS[bucket], now)
        return StatsReport(
            since=since,
            until=now,
            requests_by_status={r["status"]: r["n"] for r in req_status},
            requests_by_user=[
                UserCount(r["user_id"], r["plex_username"] or r["outside_name"], r["n"]) for r in req_users
            ],
            downloads_by_status={r["status"]: r["n"] for r in dl_status},
            downloads_by_user=[
                UserDownloads(r["user_id"], r["plex_username"], r["downloads"], r["added"], r["on_disk"])
                for r in dl_users
            ],
            added_bytes=totals["added"],
            on_disk_bytes=totals["on_disk"],
            open_downloads={"queued": totals["queued"], "running": totals["running"]},
            queued_jobs=await self._queued_jobs(),
            top_titles=[
                TitleDemand(r["media_type"], r["tmdb_id"], r["title"], r["requests"], r["people"]) for r in titles
            ],
            bucket=bucket,
            timeline=[TimelinePoint(r["bucket"], r["requests"], r["downloads"]) for r in timeline],
        )

    async def _queued_jobs(self) -> int | None:
        try:
            async with asyncio.timeout(self._redis_timeout):
                return await queue.depth(self._arq)
        except (RedisError, TimeoutError) as exc:
            log.warning("queue depth unavailable for /admin stats: %s", type(exc).__name__)
            return None

    async def chart(self, report: StatsReport) -> bytes | None:
        """A small PNG of the report, or None when there is nothing to draw."""
        if report.empty:
            return None
        return await asyncio.to_thread(render_chart, report)


# --- the chart -----------------------------------------------------------------------------

BACKGROUND = "#2b2d31"  # Discord's dark theme, so the image sits in the embed
FOREGROUND = "#dbdee1"
GRID = "#4e5058"
REQUESTS_COLOUR = "#5865f2"
DOWNLOADS_COLOUR = "#57f287"
_TICK_FORMATS: dict[Bucket, str] = {"hour": "%H:%M", "day": "%b %d", "week": "%b %d", "month": "%b %Y"}


def chart_label(user_id: int | None, name: str | None) -> str:
    """A name the bundled DejaVu font can draw (no mentions in an image); else the id's tail."""
    if name and all(ch.isprintable() and ord(ch) < 0x0530 for ch in name):
        return name if len(name) <= 16 else name[:15] + "…"
    return f"member …{str(user_id)[-4:]}" if user_id is not None else "someone"


def _size_unit(largest: int) -> tuple[float, str]:
    for factor, unit in ((1024**4, "TB"), (1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if largest >= factor:
            return float(factor), unit
    return 1.0, "B"


def render_chart(report: StatsReport) -> bytes:
    """Activity per time bucket and disk use per member; blocking, so run it in a thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    disk = [u for u in report.downloads_by_user if u.on_disk_bytes > 0][:8]
    figure = Figure(figsize=(8, 3), dpi=100, facecolor=BACKGROUND, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2 if disk else 1, squeeze=False, width_ratios=[3, 2] if disk else None)[0]

    def style(ax: Axes, title: str) -> None:
        ax.set_facecolor(BACKGROUND)
        ax.set_axisbelow(True)
        ax.set_title(title, color=FOREGROUND, fontsize=10)
        ax.tick_params(colors=FOREGROUND, labelsize=8)
        for spine in ax.spines.values():
            spine.set_color(GRID)

    activity = axes[0]
    points = report.timeline
    positions = list(range(len(points)))
    width = 0.4
    activity.bar([p - width / 2 for p in positions], [p.requests for p in points], width, color=REQUESTS_COLOUR)
    activity.bar([p + width / 2 for p in positions], [p.downloads for p in points], width, color=DOWNLOADS_COLOUR)
    step = max(1, len(points) // 8)
    activity.set_xticks(positions[::step])
    activity.set_xticklabels([p.start.strftime(_TICK_FORMATS[report.bucket]) for p in points[::step]])
    activity.yaxis.get_major_locator().set_params(integer=True)
    activity.grid(axis="y", color=GRID, linewidth=0.5)
    activity.legend(["requests", "downloads"], fontsize=8, facecolor=BACKGROUND, labelcolor=FOREGROUND)
    style(activity, f"Per {report.bucket}")

    if disk:
        usage = axes[1]
        factor, unit = _size_unit(max(u.on_disk_bytes for u in disk))
        labels = [chart_label(u.user_id, u.name) for u in reversed(disk)]
        usage.barh(labels, [u.on_disk_bytes / factor for u in reversed(disk)], color=DOWNLOADS_COLOUR)
        usage.grid(axis="x", color=GRID, linewidth=0.5)
        style(usage, f"On disk ({unit})")

    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor=BACKGROUND)
    return out.getvalue()
