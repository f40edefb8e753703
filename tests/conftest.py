"""Shared fixtures: a fresh PostgreSQL database per test module, a clean Redis, settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet

from bot.config import Settings, load_settings

ADMIN_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def dsn_for(database: str) -> str:
    parts = urlsplit(ADMIN_DSN)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def create_database() -> str:
    name = f"mn_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def empty_database() -> AsyncIterator[str]:
    """The DSN of a new, empty database, dropped after the module."""
    name = await create_database()
    yield dsn_for(name)
    await drop_database(name)


@pytest.fixture(scope="module")
async def database(empty_database: str) -> str:
    """The DSN of a new database with every migration applied."""
    from bot.db import migrate

    conn = await asyncpg.connect(empty_database)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return empty_database


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    from bot.db import create_pool

    p = await create_pool(database, min_size=1, max_size=4)
    yield p
    await p.close()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def make_settings(monkeypatch: pytest.MonkeyPatch, encryption_key: str) -> Callable[..., Settings]:
    """Settings from a clean environment: only what the test passes, plus working basics."""

    def make(database_url: str | None = None, **env: Any) -> Settings:
        for key in list(os.environ):
            if key.startswith(
                (
                    "DISCORD_",
                    "PLEX_",
                    "OVERSEERR_",
                    "UPTIME_KUMA_",
                    "DOWNLOAD_",
                    "RATE_LIMIT_",
                    "WEB_",
                    "LOG_",
                )
            ):
                monkeypatch.delenv(key, raising=False)
        base = {
            "DISCORD_TOKEN": "test-token-0123456789",
            "DATABASE_URL": database_url or dsn_for("postgres"),
            "REDIS_URL": REDIS_URL,
            "ENCRYPTION_KEY": encryption_key,
            "DOWNLOAD_ROOT": "/tmp/medianest-test-downloads",
        }
        for key, value in {**base, **env}.items():
            monkeypatch.setenv(key, str(value))
        return load_settings(env_file=None)

    return make
