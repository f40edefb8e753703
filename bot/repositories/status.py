"""Status boards (one message per channel) and the per-server status alert settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bot.repositories.base import Queryable


@dataclass(frozen=True, slots=True)
class BoardRow:
    channel_id: int
    guild_id: int | None
    message_id: int | None
    content_hash: str | None
    enabled: bool
    added_by: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GuildStatusSettings:
    guild_id: int
    ping_role_id: int | None
    silence_up: bool
    updated_by: int | None


_BOARD = "channel_id, guild_id, message_id, content_hash, enabled, added_by, updated_at"
_SETTINGS = "guild_id, ping_role_id, silence_up, updated_by"


def _board(row: asyncpg.Record | None) -> BoardRow | None:
    return BoardRow(**dict(row)) if row is not None else None


async def boards(db: Queryable) -> list[BoardRow]:
    rows = await db.fetch(f"SELECT {_BOARD} FROM status_messages ORDER BY channel_id")
    return [BoardRow(**dict(r)) for r in rows]


async def get_board(db: Queryable, channel_id: int) -> BoardRow | None:
    return _board(await db.fetchrow(f"SELECT {_BOARD} FROM status_messages WHERE channel_id = $1", channel_id))


async def enable(db: Queryable, channel_id: int, guild_id: int | None, actor_id: int) -> BoardRow:
    row = await db.fetchrow(
        f"""
        INSERT INTO status_messages (channel_id, guild_id, enabled, added_by) VALUES ($1, $2, true, $3)
        ON CONFLICT (channel_id) DO UPDATE SET enabled = true, added_by = $3,
            guild_id = COALESCE($2, status_messages.guild_id), updated_at = now()
        RETURNING {_BOARD}
        """,
        channel_id,
        guild_id,
        actor_id,
    )
    board = _board(row)
    assert board is not None
    return board


async def disable(db: Queryable, channel_id: int, guild_id: int | None) -> BoardRow:
    """Mark the channel as having no board; returns the row as it was (to delete its message)."""
    before = await get_board(db, channel_id)
    await db.execute(
        """
        INSERT INTO status_messages (channel_id, guild_id, enabled) VALUES ($1, $2, false)
        ON CONFLICT (channel_id) DO UPDATE SET enabled = false, message_id = NULL, content_hash = NULL,
            updated_at = now()
        """,
        channel_id,
        guild_id,
    )
    if before is not None:
        return before
    board = await get_board(db, channel_id)
    assert board is not None
    return board


async def save_message(
    db: Queryable, channel_id: int, guild_id: int | None, message_id: int, content_hash: str
) -> None:
    """Remember the board message and what it shows (a row for a configured channel is made here)."""
    await db.execute(
        """
        INSERT INTO status_messages (channel_id, guild_id, message_id, content_hash) VALUES ($1, $2, $3, $4)
        ON CONFLICT (channel_id) DO UPDATE SET message_id = $3, content_hash = $4,
            guild_id = COALESCE($2, status_messages.guild_id), updated_at = now()
        """,
        channel_id,
        guild_id,
        message_id,
        content_hash,
    )


async def forget_message(db: Queryable, channel_id: int, message_id: int) -> bool:
    """The board message is gone (deleted by someone); the next tick posts a new one."""
    result: str = await db.execute(
        "UPDATE status_messages SET message_id = NULL, content_hash = NULL, updated_at = now() "
        "WHERE channel_id = $1 AND message_id = $2",
        channel_id,
        message_id,
    )
    return result.endswith(" 1")


async def set_guild(db: Queryable, channel_id: int, guild_id: int) -> None:
    await db.execute(
        "UPDATE status_messages SET guild_id = $2 WHERE channel_id = $1 AND guild_id IS NULL", channel_id, guild_id
    )


async def all_settings(db: Queryable) -> dict[int, GuildStatusSettings]:
    rows = await db.fetch(f"SELECT {_SETTINGS} FROM status_settings")
    return {r["guild_id"]: GuildStatusSettings(**dict(r)) for r in rows}


async def get_settings(db: Queryable, guild_id: int) -> GuildStatusSettings | None:
    row = await db.fetchrow(f"SELECT {_SETTINGS} FROM status_settings WHERE guild_id = $1", guild_id)
    return GuildStatusSettings(**dict(row)) if row is not None else None


async def set_silence_up(
    db: Queryable, guild_id: int, silence_up: bool, *, default_role_id: int | None, actor_id: int
) -> GuildStatusSettings:
    """A new row starts from the configured defaults, so one change does not reset the other."""
    row = await db.fetchrow(
        f"""
        INSERT INTO status_settings (guild_id, ping_role_id, silence_up, updated_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT (guild_id) DO UPDATE SET silence_up = $3, updated_by = $4, updated_at = now()
        RETURNING {_SETTINGS}
        """,
        guild_id,
        default_role_id,
        silence_up,
        actor_id,
    )
    assert row is not None
    return GuildStatusSettings(**dict(row))


async def set_ping_role(
    db: Queryable, guild_id: int, role_id: int | None, *, default_silence_up: bool, actor_id: int
) -> GuildStatusSettings:
    row = await db.fetchrow(
        f"""
        INSERT INTO status_settings (guild_id, ping_role_id, silence_up, updated_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT (guild_id) DO UPDATE SET ping_role_id = $2, updated_by = $4, updated_at = now()
        RETURNING {_SETTINGS}
        """,
        guild_id,
        role_id,
        default_silence_up,
        actor_id,
    )
    assert row is not None
    return GuildStatusSettings(**dict(row))
