"""Media requests, their claims, subscribers, status events and notification routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from bot.repositories.base import Queryable

Status = Literal[
    "pending", "approved", "declined", "processing", "partially_available", "available", "failed", "cancelled"
]
OPEN_STATUSES: tuple[Status, ...] = ("pending", "approved", "processing", "partially_available")
Topic = Literal["new_request", "approval_needed", "decisions", "available", "failures"]
TOPICS: tuple[Topic, ...] = ("new_request", "approval_needed", "decisions", "available", "failures")


@dataclass(frozen=True, slots=True)
class MediaRequest:
    id: int
    user_id: int | None
    media_type: str
    tmdb_id: int
    tvdb_id: int | None
    title: str
    year: int | None
    poster_path: str | None
    seasons: list[int] | None
    is_4k: bool
    status: Status
    overseerr_request_id: int | None
    overseerr_user_id: int | None
    requested_via: str
    requested_by_name: str | None
    decided_by: int | None
    decided_at: datetime | None
    decline_reason: str | None
    approval_channel_id: int | None
    approval_message_id: int | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def label(self) -> str:
        year = f" ({self.year})" if self.year else ""
        seasons = ""
        if self.media_type == "tv" and self.seasons:
            seasons = " · S" + ", S".join(str(s) for s in self.seasons)
        return f"{self.title}{year}{seasons}{' · 4K' if self.is_4k else ''}"


_COLUMNS = (
    "id, user_id, media_type, tmdb_id, tvdb_id, title, year, poster_path, seasons, is_4k, status, "
    "overseerr_request_id, overseerr_user_id, requested_via, requested_by_name, decided_by, decided_at, "
    "decline_reason, approval_channel_id, approval_message_id, created_at, updated_at, completed_at"
)


def _row(record: asyncpg.Record | None) -> MediaRequest | None:
    return MediaRequest(**dict(record)) if record is not None else None


def _rows(records: list[asyncpg.Record]) -> list[MediaRequest]:
    return [MediaRequest(**dict(r)) for r in records]


async def create(
    db: Queryable,
    *,
    user_id: int | None,
    media_type: str,
    tmdb_id: int,
    tvdb_id: int | None,
    title: str,
    year: int | None,
    poster_path: str | None,
    seasons: list[int] | None,
    is_4k: bool,
    requested_via: str = "discord",
    requested_by_name: str | None = None,
    overseerr_request_id: int | None = None,
    overseerr_user_id: int | None = None,
    status: Status = "pending",
) -> MediaRequest:
    row = await db.fetchrow(
        f"""
        INSERT INTO media_requests (user_id, media_type, tmdb_id, tvdb_id, title, year, poster_path, seasons,
            is_4k, requested_via, requested_by_name, overseerr_request_id, overseerr_user_id, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        RETURNING {_COLUMNS}
        """,
        user_id,
        media_type,
        tmdb_id,
        tvdb_id,
        title,
        year,
        poster_path,
        seasons,
        is_4k,
        requested_via,
        requested_by_name,
        overseerr_request_id,
        overseerr_user_id,
        status,
    )
    request = _row(row)
    assert request is not None
    return request


async def claim(db: Queryable, request_id: int, media_type: str, tmdb_id: int, is_4k: bool, seasons: list[int]) -> None:
    """Raises UniqueViolationError when someone already holds any of these seasons (or the movie)."""
    await db.executemany(
        "INSERT INTO media_claims (media_type, tmdb_id, is_4k, season, request_id) VALUES ($1, $2, $3, $4, $5)",
        [(media_type, tmdb_id, is_4k, season, request_id) for season in (seasons or [0])],
    )


async def claim_holder(
    db: Queryable, media_type: str, tmdb_id: int, is_4k: bool, seasons: list[int]
) -> MediaRequest | None:
    return _row(
        await db.fetchrow(
            f"""
            SELECT {_COLUMNS} FROM media_requests WHERE id = (
                SELECT request_id FROM media_claims
                WHERE media_type = $1 AND tmdb_id = $2 AND is_4k = $3 AND season = ANY($4::int[])
                LIMIT 1)
            """,
            media_type,
            tmdb_id,
            is_4k,
            seasons or [0],
        )
    )


async def release_claims(db: Queryable, request_id: int) -> None:
    await db.execute("DELETE FROM media_claims WHERE request_id = $1", request_id)


async def get(db: Queryable, request_id: int) -> MediaRequest | None:
    return _row(await db.fetchrow(f"SELECT {_COLUMNS} FROM media_requests WHERE id = $1", request_id))


async def by_overseerr_id(db: Queryable, overseerr_request_id: int) -> MediaRequest | None:
    return _row(
        await db.fetchrow(
            f"SELECT {_COLUMNS} FROM media_requests WHERE overseerr_request_id = $1", overseerr_request_id
        )
    )


async def set_overseerr(db: Queryable, request_id: int, overseerr_request_id: int, seasons: list[int] | None) -> None:
    await db.execute(
        "UPDATE media_requests SET overseerr_request_id = $2, seasons = COALESCE($3, seasons), updated_at = now() "
        "WHERE id = $1",
        request_id,
        overseerr_request_id,
        seasons,
    )


async def set_status(
    db: Queryable,
    request_id: int,
    status: Status,
    *,
    decided_by: int | None = None,
    decline_reason: str | None = None,
) -> MediaRequest | None:
    return _row(
        await db.fetchrow(
            f"""
            UPDATE media_requests SET status = $2, updated_at = now(),
                decided_by = COALESCE($3, decided_by),
                decided_at = CASE WHEN $2 IN ('approved', 'declined') AND decided_at IS NULL THEN now()
                                  ELSE decided_at END,
                decline_reason = COALESCE($4, decline_reason),
                completed_at = CASE WHEN $2 = 'available' THEN now() ELSE completed_at END
            WHERE id = $1
            RETURNING {_COLUMNS}
            """,
            request_id,
            status,
            decided_by,
            decline_reason,
        )
    )


async def record_event(db: Queryable, request_id: int, status: str, source: str) -> bool:
    """True only for the first to record this status: that one notifies."""
    inserted = await db.fetchval(
        "INSERT INTO request_events (request_id, status, source) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        request_id,
        status,
        source,
    )
    return bool(inserted)


async def events(db: Queryable, request_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT status, source, created_at FROM request_events WHERE request_id = $1 ORDER BY created_at", request_id
    )
    return rows


async def set_approval_card(db: Queryable, request_id: int, channel_id: int, message_id: int) -> None:
    await db.execute(
        "UPDATE media_requests SET approval_channel_id = $2, approval_message_id = $3 WHERE id = $1",
        request_id,
        channel_id,
        message_id,
    )


async def subscribe(db: Queryable, request_id: int, user_id: int) -> bool:
    inserted = await db.fetchval(
        "INSERT INTO request_subscribers (request_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        request_id,
        user_id,
    )
    return bool(inserted)


async def subscribers(db: Queryable, request_id: int) -> list[int]:
    rows = await db.fetch(
        "SELECT user_id FROM request_subscribers WHERE request_id = $1 ORDER BY created_at", request_id
    )
    return [r["user_id"] for r in rows]


async def list_requests(
    db: Queryable,
    *,
    user_id: int | None,
    status: Status | None,
    limit: int,
    offset: int,
) -> tuple[list[MediaRequest], int]:
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS}, count(*) OVER () AS total FROM media_requests
        WHERE ($1::bigint IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4
        """,
        user_id,
        status,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    return [MediaRequest(**{k: v for k, v in dict(r).items() if k != "total"}) for r in rows], total


async def open_requests(db: Queryable) -> list[MediaRequest]:
    return _rows(
        await db.fetch(
            f"SELECT {_COLUMNS} FROM media_requests "
            "WHERE status = ANY($1::text[]) AND overseerr_request_id IS NOT NULL",
            list(OPEN_STATUSES),
        )
    )


async def pending(db: Queryable, *, user_id: int | None = None, before: datetime | None = None) -> list[MediaRequest]:
    return _rows(
        await db.fetch(
            f"""
            SELECT {_COLUMNS} FROM media_requests
            WHERE status = 'pending' AND ($1::bigint IS NULL OR user_id = $1)
              AND ($2::timestamptz IS NULL OR created_at < $2)
            ORDER BY created_at, id
            """,
            user_id,
            before,
        )
    )


async def count_since(db: Queryable, user_id: int, since: datetime) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM media_requests WHERE user_id = $1 AND requested_via = 'discord' AND created_at >= $2",
        user_id,
        since,
    )
    return count


async def oldest_since(db: Queryable, user_id: int, since: datetime) -> datetime | None:
    oldest: datetime | None = await db.fetchval(
        "SELECT min(created_at) FROM media_requests "
        "WHERE user_id = $1 AND requested_via = 'discord' AND created_at >= $2",
        user_id,
        since,
    )
    return oldest


# -- notification routes ---------------------------------------------------------------


async def routes(db: Queryable) -> dict[str, int]:
    rows = await db.fetch("SELECT topic, channel_id FROM notification_routes")
    return {r["topic"]: r["channel_id"] for r in rows}


async def set_route(db: Queryable, topic: Topic, channel_id: int | None, actor_id: int) -> None:
    if channel_id is None:
        await db.execute("DELETE FROM notification_routes WHERE topic = $1", topic)
        return
    await db.execute(
        """
        INSERT INTO notification_routes (topic, channel_id, updated_by) VALUES ($1, $2, $3)
        ON CONFLICT (topic) DO UPDATE SET channel_id = $2, updated_by = $3, updated_at = now()
        """,
        topic,
        channel_id,
        actor_id,
    )
