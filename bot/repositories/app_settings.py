"""Runtime settings kept in the database (admins change them from Discord)."""

from __future__ import annotations

from typing import Any

from bot.repositories.base import Queryable


async def get(db: Queryable, key: str) -> Any:
    return await db.fetchval("SELECT value FROM app_settings WHERE key = $1", key)


async def get_or_create(db: Queryable, key: str, default: Any) -> Any:
    """Store `default` unless a value exists; return whichever is stored (race-safe)."""
    await db.execute("INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, default)
    return await get(db, key)


async def put(db: Queryable, key: str, value: Any, *, actor_id: int | None = None) -> None:
    await db.execute(
        """
        INSERT INTO app_settings (key, value, updated_by) VALUES ($1, $2, $3)
        ON CONFLICT (key) DO UPDATE SET value = $2, updated_by = $3, updated_at = now()
        """,
        key,
        value,
        actor_id,
    )
