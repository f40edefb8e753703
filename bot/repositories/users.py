"""Users: one row per Discord user who has used the bot; the Plex link lives on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from bot.repositories.base import Queryable

Role = Literal["user", "admin"]
Status = Literal["active", "banned"]


@dataclass(frozen=True, slots=True)
class User:
    discord_id: int
    role: Role
    status: Status
    status_reason: str | None
    plex_id: int | None
    plex_uuid: str | None
    plex_username: str | None
    plex_email: str | None
    plex_token_encrypted: bytes | None
    plex_token_stale: bool
    linked_at: datetime | None
    overseerr_user_id: int | None
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_banned(self) -> bool:
        return self.status == "banned"

    @property
    def is_linked(self) -> bool:
        return self.plex_id is not None


_COLUMNS = (
    "discord_id, role, status, status_reason, plex_id, plex_uuid, plex_username, plex_email, "
    "plex_token_encrypted, plex_token_stale, linked_at, overseerr_user_id, created_at"
)


def _user(row: asyncpg.Record | None) -> User | None:
    return User(**dict(row)) if row is not None else None


async def get(db: Queryable, discord_id: int) -> User | None:
    return _user(await db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE discord_id = $1", discord_id))


async def touch(db: Queryable, discord_id: int, *, admin: bool = False) -> User:
    """Create the row on first contact and note the visit; configured admins become admins."""
    row = await db.fetchrow(
        f"""
        INSERT INTO users (discord_id, role, last_seen_at)
        VALUES ($1, CASE WHEN $2 THEN 'admin' ELSE 'user' END, now())
        ON CONFLICT (discord_id) DO UPDATE SET
            last_seen_at = now(),
            role = CASE WHEN $2 THEN 'admin' ELSE users.role END
        RETURNING {_COLUMNS}
        """,
        discord_id,
        admin,
    )
    user = _user(row)
    assert user is not None
    return user


async def by_plex_id(db: Queryable, plex_id: int) -> User | None:
    return _user(await db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE plex_id = $1", plex_id))


async def link(
    db: Queryable,
    discord_id: int,
    *,
    plex_id: int,
    plex_uuid: str,
    plex_username: str,
    plex_email: str | None,
    token_encrypted: bytes,
    make_admin: bool,
) -> User:
    row = await db.fetchrow(
        f"""
        UPDATE users SET plex_id = $2, plex_uuid = $3, plex_username = $4, plex_email = $5,
            plex_token_encrypted = $6, plex_token_stale = false, linked_at = now(), updated_at = now(),
            role = CASE WHEN $7 THEN 'admin' ELSE role END
        WHERE discord_id = $1
        RETURNING {_COLUMNS}
        """,
        discord_id,
        plex_id,
        plex_uuid,
        plex_username,
        plex_email,
        token_encrypted,
        make_admin,
    )
    user = _user(row)
    assert user is not None
    return user


async def unlink(db: Queryable, discord_id: int) -> bool:
    result: str = await db.execute(
        """
        UPDATE users SET plex_id = NULL, plex_uuid = NULL, plex_username = NULL, plex_email = NULL,
            plex_token_encrypted = NULL, plex_token_stale = false, linked_at = NULL,
            overseerr_user_id = NULL, updated_at = now()
        WHERE discord_id = $1 AND plex_id IS NOT NULL
        """,
        discord_id,
    )
    return result.endswith(" 1")


async def mark_stale(db: Queryable, discord_id: int) -> bool:
    """True when this call is the one that marked it (so the user is told once)."""
    result: str = await db.execute(
        "UPDATE users SET plex_token_stale = true, updated_at = now() "
        "WHERE discord_id = $1 AND plex_id IS NOT NULL AND NOT plex_token_stale",
        discord_id,
    )
    return result.endswith(" 1")


async def set_status(db: Queryable, discord_id: int, status: Status, reason: str | None) -> User:
    row = await db.fetchrow(
        f"""
        INSERT INTO users (discord_id, status, status_reason) VALUES ($1, $2, $3)
        ON CONFLICT (discord_id) DO UPDATE SET status = $2, status_reason = $3, updated_at = now()
        RETURNING {_COLUMNS}
        """,
        discord_id,
        status,
        reason,
    )
    user = _user(row)
    assert user is not None
    return user


async def set_role(db: Queryable, discord_id: int, role: Role) -> User:
    row = await db.fetchrow(
        f"""
        INSERT INTO users (discord_id, role) VALUES ($1, $2)
        ON CONFLICT (discord_id) DO UPDATE SET role = $2, updated_at = now()
        RETURNING {_COLUMNS}
        """,
        discord_id,
        role,
    )
    user = _user(row)
    assert user is not None
    return user
