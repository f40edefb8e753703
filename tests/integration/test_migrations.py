"""Migrations against a real PostgreSQL: apply, re-run, edited file, two processes at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace

import asyncpg
import pytest

from bot.db import Migration, MigrationError, load_migrations, migrate
from tests.conftest import create_database, drop_database, dsn_for


async def test_migrations_apply_on_empty_database_then_nothing(empty_database: str) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        applied = await migrate(conn)
        assert applied == [m.filename for m in load_migrations()]
        tables = {
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {
            "users",
            "media_requests",
            "downloads",
            "audit_log",
            "status_messages",
            "schema_migrations",
        } <= tables
        assert await migrate(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(load_migrations())
    finally:
        await conn.close()


async def test_edited_applied_migration_is_refused(database: str) -> None:
    edited = [replace(m, sql=m.sql + "\n-- edited") if m.version == 1 else m for m in load_migrations()]
    conn = await asyncpg.connect(database)
    try:
        with pytest.raises(MigrationError, match=r"0001_initial\.sql was edited after it was applied"):
            await migrate(conn, edited)
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(database: str) -> None:
    broken = [*load_migrations(), Migration(9999, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")]
    conn = await asyncpg.connect(database)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = 9999") == 0
    finally:
        await conn.close()


async def test_one_open_request_per_user_and_title(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("INSERT INTO users (discord_id) VALUES (42)")
        insert = (
            "INSERT INTO media_requests (user_id, media_type, tmdb_id, title, status)"
            " VALUES (42, 'movie', 438631, 'Dune', $1)"
        )
        await conn.execute(insert, "pending")
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "approved")
        await conn.execute(insert, "declined")  # a closed request does not block a new one
    finally:
        await conn.close()


async def test_two_concurrent_migrate_processes_apply_each_migration_once(encryption_key: str) -> None:
    name = await create_database()
    try:
        env = {
            **os.environ,
            "DISCORD_TOKEN": "t-0123456789",
            "DATABASE_URL": dsn_for(name),
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "ENCRYPTION_KEY": encryption_key,
        }
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "migrate",
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        outputs = [await p.communicate() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        applied_counts = sorted(out.decode().split()[1] for out, _ in outputs)
        assert applied_counts == ["0", str(len(load_migrations()))]
        conn = await asyncpg.connect(dsn_for(name))
        try:
            rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
            assert [r["version"] for r in rows] == [m.version for m in load_migrations()]
        finally:
            await conn.close()
    finally:
        await drop_database(name)
