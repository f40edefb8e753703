"""Fixtures for worker-level tests: the fakes a download touches, settings, a linked user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Worker

from bot.config import Settings
from bot.deps import Dependencies
from bot.repositories import users
from tests.fakes.media import FakeMediaServer
from tests.fakes.plex import FakePlexServer, FakePlexTv
from workers.settings import worker_settings

PLEX_ROOT = "/data/youtube"
ADMIN_TOKEN = "pms-admin-token-0123456789"


@pytest.fixture
async def media() -> AsyncIterator[FakeMediaServer]:
    server = FakeMediaServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def pms(tmp_path: Path) -> AsyncIterator[FakePlexServer]:
    root = tmp_path / "downloads"
    root.mkdir()
    server = FakePlexServer(admin_token=ADMIN_TOKEN)
    server.add_other_videos_section([PLEX_ROOT])
    server.map_path(PLEX_ROOT, root)
    server.set_scan_delay(0.05)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def plex_tv() -> AsyncIterator[FakePlexTv]:
    server = FakePlexTv()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def download_settings(
    make_settings: Callable[..., Settings], database: str, tmp_path: Path, pms: FakePlexServer, plex_tv: FakePlexTv
) -> Callable[..., Settings]:
    def make(**env: Any) -> Settings:
        base = {
            "DOWNLOAD_ROOT": str(tmp_path / "downloads"),
            "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
            "DOWNLOAD_RETRY_BASE_SECONDS": "0",
            "PLEX_SERVER_URL": pms.url,
            "PLEX_SERVER_TOKEN": ADMIN_TOKEN,
            "PLEX_TV_URL": plex_tv.url,
            "PLEX_DOWNLOAD_ROOT": PLEX_ROOT,
            "PLEX_SCAN_TIMEOUT_SECONDS": "10",
        }
        return make_settings(database_url=database, **{**base, **env})

    return make


@pytest.fixture
async def deps(download_settings: Callable[..., Settings]) -> AsyncIterator[Dependencies]:
    d = await Dependencies.open(download_settings())
    await d.redis.flushdb()
    await d.pool.execute("TRUNCATE users, audit_log, app_settings CASCADE")
    yield d
    await d.close()


async def linked_user(deps: Dependencies, discord_id: int, username: str) -> None:
    await users.touch(deps.pool, discord_id)
    await users.link(
        deps.pool,
        discord_id,
        plex_id=discord_id,
        plex_uuid=f"uuid-{discord_id}",
        plex_username=username,
        plex_email=None,
        token_encrypted=deps.cipher.encrypt("tok", owner=discord_id),
        make_admin=False,
    )


def make_worker(settings: Settings, *, burst: bool = True) -> Worker:
    return Worker(**worker_settings(settings), burst=burst, poll_delay=0.05, handle_signals=False)  # type: ignore[arg-type]
