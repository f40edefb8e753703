"""Downloads and the per-user archive of videos already fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from bot.repositories.base import Queryable

Status = Literal["queued", "running", "completed", "failed", "cancelled"]
OPEN_STATUSES = ("queued", "running")


@dataclass(frozen=True, slots=True)
class Download:
    id: int
    user_id: int
    url: str
    kind: str
    quality: str
    title: str | None
    status: Status
    job_id: str | None
    attempts: int
    error_code: str | None
    error_message: str | None
    video_count: int | None
    videos_done: int
    videos_failed: int
    bytes_done: int
    folder: str | None
    plex_state: str | None
    plex_error: str | None
    plex_collection_key: str | None
    plex_collection_title: str | None
    channel_id: int | None
    message_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


_COLUMNS = (
    "id, user_id, url, kind, quality, title, status, job_id, attempts, error_code, error_message, "
    "video_count, videos_done, videos_failed, bytes_done, folder, plex_state, plex_error, plex_collection_key, "
    "plex_collection_title, channel_id, message_id, created_at, started_at, finished_at"
)


def _download(row: asyncpg.Record | None) -> Download | None:
    return Download(**dict(row)) if row is not None else None


async def create(db: Queryable, *, user_id: int, url: str, kind: str, quality: str) -> Download:
    row = await db.fetchrow(
        f"""
        INSERT INTO downloads (user_id, url, kind, quality) VALUES ($1, $2, $3, $4)
        RETURNING {_COLUMNS}
        """,
        user_id,
        url,
        kind,
        quality,
    )
    download = _download(row)
    assert download is not None
    return download


async def get(db: Queryable, download_id: int) -> Download | None:
    return _download(await db.fetchrow(f"SELECT {_COLUMNS} FROM downloads WHERE id = $1", download_id))


async def set_job(db: Queryable, download_id: int, job_id: str) -> None:
    await db.execute("UPDATE downloads SET job_id = $2, updated_at = now() WHERE id = $1", download_id, job_id)


async def set_message(db: Queryable, download_id: int, channel_id: int, message_id: int) -> None:
    await db.execute(
        "UPDATE downloads SET channel_id = $2, message_id = $3, updated_at = now() WHERE id = $1",
        download_id,
        channel_id,
        message_id,
    )


async def start(db: Queryable, download_id: int) -> Download | None:
    """Mark running and count the attempt, unless it already ended (then None: nothing to do)."""
    return _download(
        await db.fetchrow(
            f"""
            UPDATE downloads SET status = 'running', attempts = attempts + 1,
                started_at = COALESCE(started_at, now()), updated_at = now()
            WHERE id = $1 AND status IN ('queued', 'running')
            RETURNING {_COLUMNS}
            """,
            download_id,
        )
    )


async def set_details(
    db: Queryable,
    download_id: int,
    *,
    title: str | None,
    kind: str,
    folder: str,
    entries: list[tuple[str, str]],
) -> None:
    await db.execute(
        """
        UPDATE downloads SET title = COALESCE($2, title), kind = $3, video_count = $4, folder = $5,
            entries = $6, updated_at = now()
        WHERE id = $1
        """,
        download_id,
        title,
        kind,
        len(entries),
        folder,
        [list(e) for e in entries],
    )


async def set_plex_state(db: Queryable, download_id: int, state: str, error: str | None) -> None:
    await db.execute(
        "UPDATE downloads SET plex_state = $2, plex_error = $3, updated_at = now() WHERE id = $1",
        download_id,
        state,
        error,
    )


async def collection_files(db: Queryable, download_id: int) -> list[asyncpg.Record]:
    """The user's completed files for every video this download listed, new or already archived."""
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT i.id, i.file_path, i.video_id FROM downloads d
        CROSS JOIN LATERAL jsonb_array_elements(d.entries) WITH ORDINALITY AS e(pair, position)
        JOIN download_items i ON i.user_id = d.user_id AND i.status = 'completed'
            AND i.extractor = e.pair->>0 AND i.video_id = e.pair->>1
        WHERE d.id = $1
        ORDER BY e.position
        """,
        download_id,
    )
    return rows


async def finish(
    db: Queryable,
    download_id: int,
    status: Status,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Download | None:
    """Close an open download; None if it was already closed (a cancel won the race)."""
    return _download(
        await db.fetchrow(
            f"""
            UPDATE downloads SET status = $2, error_code = $3, error_message = $4,
                finished_at = now(), updated_at = now(),
                videos_done = (SELECT count(*) FROM download_items WHERE download_id = $1 AND status = 'completed'),
                videos_failed = (SELECT count(*) FROM download_items WHERE download_id = $1 AND status = 'failed'),
                bytes_done = (SELECT COALESCE(sum(size_bytes), 0) FROM download_items
                              WHERE download_id = $1 AND status = 'completed')
            WHERE id = $1 AND status IN ('queued', 'running')
            RETURNING {_COLUMNS}
            """,
            download_id,
            status,
            error_code,
            error_message,
        )
    )


async def set_collection(db: Queryable, download_id: int, key: str, title: str) -> None:
    await db.execute(
        "UPDATE downloads SET plex_collection_key = $2, plex_collection_title = $3, updated_at = now() WHERE id = $1",
        download_id,
        key,
        title,
    )


async def list_for_user(
    db: Queryable, user_id: int, *, status: Status | None = None, limit: int = 10, offset: int = 0
) -> list[Download]:
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM downloads
        WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4
        """,
        user_id,
        status,
        limit,
        offset,
    )
    return [Download(**dict(r)) for r in rows]


async def open_downloads(db: Queryable) -> list[Download]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM downloads WHERE status IN ('queued', 'running') ORDER BY created_at, id"
    )
    return [Download(**dict(r)) for r in rows]


# -- the archive -----------------------------------------------------------------


async def archived_ids(db: Queryable, user_id: int) -> set[tuple[str, str]]:
    rows = await db.fetch(
        "SELECT extractor, video_id FROM download_items WHERE user_id = $1 AND status = 'completed'", user_id
    )
    return {(r["extractor"], r["video_id"]) for r in rows}


async def record_item(
    db: Queryable,
    *,
    download_id: int,
    user_id: int,
    extractor: str,
    video_id: str,
    title: str | None,
    file_path: str | None,
    size_bytes: int | None,
    status: Literal["completed", "failed"],
    error_message: str | None = None,
) -> None:
    if status == "completed":
        await db.execute(
            """
            INSERT INTO download_items
                (download_id, user_id, extractor, video_id, title, file_path, size_bytes, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'completed')
            ON CONFLICT (user_id, extractor, video_id) WHERE status = 'completed'
            DO UPDATE SET download_id = $1, title = $5, file_path = $6, size_bytes = $7
            """,
            download_id,
            user_id,
            extractor,
            video_id,
            title,
            file_path,
            size_bytes,
        )
    else:
        await db.execute(
            """
            INSERT INTO download_items (download_id, user_id, extractor, video_id, title, status, error_message)
            VALUES ($1, $2, $3, $4, $5, 'failed', $6)
            """,
            download_id,
            user_id,
            extractor,
            video_id,
            title,
            error_message,
        )


async def items(db: Queryable, download_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT id, extractor, video_id, title, file_path, size_bytes, status, error_message, plex_rating_key "
        "FROM download_items WHERE download_id = $1 ORDER BY id",
        download_id,
    )
    return rows


async def set_item_rating_key(db: Queryable, item_id: int, rating_key: str) -> None:
    await db.execute("UPDATE download_items SET plex_rating_key = $2 WHERE id = $1", item_id, rating_key)


async def bytes_used(db: Queryable, user_id: int) -> int:
    used: int = await db.fetchval(
        "SELECT COALESCE(sum(size_bytes), 0) FROM download_items WHERE user_id = $1 AND status = 'completed'",
        user_id,
    )
    return used
