"""The audit log: who did what to whom, why and when. Written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.repositories.base import Queryable


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    reason: str | None
    details: dict[str, Any]
    created_at: datetime


async def record(
    db: Queryable,
    *,
    actor_id: int | None,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    entry_id: int = await db.fetchval(
        """
        INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, details)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        actor_id,
        action,
        target_type,
        None if target_id is None else str(target_id),
        reason,
        details or {},
    )
    return entry_id


async def for_target(db: Queryable, target_type: str, target_id: str | int, limit: int = 20) -> list[AuditEntry]:
    rows = await db.fetch(
        "SELECT id, actor_id, action, target_type, target_id, reason, details, created_at FROM audit_log "
        "WHERE target_type = $1 AND target_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        target_type,
        str(target_id),
        limit,
    )
    return [AuditEntry(**dict(r)) for r in rows]
