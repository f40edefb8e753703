"""The admin console's data side: the audit log, exports and bulk download cancelling.

Exports stream rows from a server-side cursor straight into a file, so a large
export costs a file on disk, not memory. Spreadsheet formulas are defused in CSV
(a cell starting with =, +, -, @, tab or CR gets a leading apostrophe), which is
what OWASP recommends against CSV injection.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import asyncpg

from bot.errors import AppError, ErrorCode
from bot.repositories import audit
from bot.repositories.audit import AuditEntry
from bot.repositories.downloads import Download
from bot.services.accounts import AccountService
from bot.services.downloads import DownloadService

log = logging.getLogger(__name__)

ExportKind = Literal["requests", "downloads", "audit"]
ExportFormat = Literal["csv", "json"]
AUDIT_PAGE = 15
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_EXPORTS: dict[str, tuple[str, str, str | None]] = {
    # kind: (select list, user filter column(s), status column)
    "requests": (
        "id, created_at, user_id, requested_by_name, requested_via, media_type, tmdb_id, title, year, seasons, "
        "is_4k, status, overseerr_request_id, decided_by, decided_at, decline_reason, completed_at "
        "FROM media_requests",
        "user_id = $2",
        "status",
    ),
    "downloads": (
        "id, created_at, user_id, url, kind, quality, title, status, attempts, video_count, videos_done, "
        "videos_failed, bytes_done, plex_collection_title, error_code, error_message, finished_at FROM downloads",
        "user_id = $2",
        "status",
    ),
    "audit": (
        "id, created_at, actor_id, action, target_type, target_id, reason, details FROM audit_log",
        "(actor_id = $2 OR target_id = $2::text)",
        None,
    ),
}


def defuse(value: Any) -> Any:
    """A string a spreadsheet would run as a formula, made inert."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return value


@dataclass(frozen=True, slots=True)
class ExportFile:
    path: Path
    filename: str
    rows: int
    size: int


class AdminService:
    def __init__(self, *, pool: asyncpg.Pool, accounts: AccountService, downloads: DownloadService) -> None:
        self._pool = pool
        self._accounts = accounts
        self._downloads = downloads

    # -- audit log -------------------------------------------------------------------------------

    async def audit_page(
        self,
        actor_id: int,
        *,
        user_id: int | None,
        action: str | None,
        since: datetime | None,
        page: int,
    ) -> tuple[list[AuditEntry], int]:
        await self._accounts.require_admin(actor_id)
        rows = await self._pool.fetch(
            """
            SELECT id, actor_id, action, target_type, target_id, reason, details, created_at,
                   count(*) OVER () AS total
            FROM audit_log
            WHERE ($1::bigint IS NULL OR actor_id = $1 OR target_id = $1::text)
              AND ($2::text IS NULL OR action = $2 OR action LIKE $2 || '.%')
              AND ($3::timestamptz IS NULL OR created_at >= $3)
            ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5
            """,
            user_id,
            action,
            since,
            AUDIT_PAGE,
            (max(page, 1) - 1) * AUDIT_PAGE,
        )
        total = rows[0]["total"] if rows else 0
        return [AuditEntry(**{k: v for k, v in dict(r).items() if k != "total"}) for r in rows], total

    async def audit_actions(self) -> list[str]:
        rows = await self._pool.fetch("SELECT DISTINCT action FROM audit_log ORDER BY action LIMIT 100")
        return [r["action"] for r in rows]

    # -- exports -----------------------------------------------------------------------------------

    async def export(
        self,
        actor_id: int,
        kind: ExportKind,
        fmt: ExportFormat,
        directory: Path,
        *,
        since: datetime | None = None,
        user_id: int | None = None,
        status: str | None = None,
        max_bytes: int | None = None,
    ) -> ExportFile:
        await self._accounts.require_admin(actor_id)
        columns_from, user_clause, status_column = _EXPORTS[kind]
        if status is not None and status_column is None:
            raise AppError(ErrorCode.INVALID_INPUT, "The audit log has no status to filter by.")
        where = ["($1::timestamptz IS NULL OR created_at >= $1)", f"($2::bigint IS NULL OR {user_clause})"]
        if status_column is not None:
            where.append(f"($3::text IS NULL OR {status_column} = $3)")
        sql = f"SELECT {columns_from} WHERE {' AND '.join(where)} ORDER BY id"
        args: list[Any] = [since, user_id] + ([status] if status_column is not None else [])
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = directory / f"medianest-{kind}-{stamp}.{fmt}"
        rows = await self._stream(sql, args, path, fmt)
        filename = path.name
        if max_bytes is not None and path.stat().st_size > max_bytes:
            path = self._gzip(path)
            filename = path.name
            if path.stat().st_size > max_bytes:
                path.unlink(missing_ok=True)
                raise AppError(
                    ErrorCode.VALIDATION_ERROR,
                    f"That export is too large for Discord even compressed ({rows} rows). "
                    "Narrow it with `since`, `user` or `status`.",
                )
        await audit.record(
            self._pool,
            actor_id=actor_id,
            action="admin.export",
            target_type="export",
            target_id=kind,
            details={
                "format": fmt,
                "rows": rows,
                "since": since.isoformat() if since else None,
                "user_id": user_id,
                "status": status,
            },
        )
        return ExportFile(path, filename, rows, path.stat().st_size)

    async def _stream(self, sql: str, args: list[Any], path: Path, fmt: ExportFormat) -> int:
        count = 0
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            with path.open("w", encoding="utf-8", newline="") as out:
                writer: Any = None
                if fmt == "json":
                    out.write("[")
                async for record in conn.cursor(sql, *args, prefetch=500):
                    row = {key: _plain(value) for key, value in record.items()}
                    if fmt == "csv":
                        if writer is None:
                            writer = csv.DictWriter(out, fieldnames=list(row))
                            writer.writeheader()
                        writer.writerow({k: defuse(v) for k, v in row.items()})
                    else:
                        out.write(("," if count else "") + "\n" + json.dumps(row, default=str, ensure_ascii=False))
                    count += 1
                if fmt == "json":
                    out.write("\n]\n")
        return count

    @staticmethod
    def _gzip(path: Path) -> Path:
        target = path.with_name(path.name + ".gz")
        with path.open("rb") as source, gzip.open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
        path.unlink()
        return target

    # -- bulk download cancel ------------------------------------------------------------------------

    async def queued_downloads(self, actor_id: int, user_id: int) -> list[Download]:
        await self._accounts.require_admin(actor_id)
        return await self._downloads.list_for(user_id, "queued", 1, page_size=1000)

    async def cancel_downloads(self, actor_id: int, ids: list[int]) -> tuple[list[int], list[tuple[int, str]]]:
        """Cancel each (one audit entry per item, via the download service); failures do not stop the rest."""
        await self._accounts.require_admin(actor_id)
        done: list[int] = []
        failed: list[tuple[int, str]] = []
        for download_id in ids:
            try:
                await self._downloads.cancel(actor_id, download_id)
                done.append(download_id)
            except AppError as exc:
                failed.append((download_id, exc.message))
        return done, failed
