"""End-to-end fixtures: the real bot process (and worker) against the local fakes.

One `Stack` per test: a fake Discord with a guild, a channel and a few members,
plex.tv, a Plex server, a media site, real PostgreSQL (a database per module,
emptied per test) and Redis. `stack.start_bot()` runs `python -m bot run` with
the environment a user would write in .env, pointed at the fakes.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import REDIS_URL
from tests.fakes.base import wait_for
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import FakeChannel, FakeGuild, FakeRole, FakeUser
from tests.fakes.discord.process import BotProcess
from tests.fakes.discord.pytest_plugin import assert_clean
from tests.fakes.kuma import FakeUptimeKuma
from tests.fakes.media import FakeMediaServer
from tests.fakes.overseerr.constants import Permission
from tests.fakes.overseerr.fake import FakeOverseerr
from tests.fakes.plex import FakePlexServer, FakePlexTv

PLEX_ROOT = "/data/youtube"
PLEX_ADMIN_TOKEN = "pms-admin-token-0123456789"
CLIENT_ID = "medianest-e2e-client"
BOT_COMMANDS = [
    "help",
    "link",
    "unlink",
    "whoami",
    "admin",
    "download",
    "downloads",
    "cancel",
    "status",
    "search",
    "request",
    "requests",
    "quota",
]
WEBHOOK_SECRET = "Bearer overseerr-hook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    discord: FakeDiscord
    plex_tv: FakePlexTv
    pms: FakePlexServer
    media: FakeMediaServer
    kuma: FakeUptimeKuma
    overseerr: FakeOverseerr
    database_url: str
    encryption_key: str
    download_root: Path
    guild: FakeGuild
    channel: FakeChannel
    admin_role: FakeRole
    alice: FakeUser
    bob: FakeUser
    admin: FakeUser
    processes: list[BotProcess] = field(default_factory=list)
    web_ports: dict[int, int] = field(default_factory=dict)

    def env(self, **overrides: Any) -> dict[str, str]:
        env = {
            "DISCORD_GUILD_IDS": str(self.guild.id),
            "ADMIN_DISCORD_IDS": str(self.admin.id),
            "DISCORD_GUILD_READY_TIMEOUT": "0.2",
            "DATABASE_URL": self.database_url,
            "DATABASE_POOL_MIN_SIZE": "1",
            "DATABASE_POOL_MAX_SIZE": "4",
            "REDIS_URL": REDIS_URL,
            "ENCRYPTION_KEY": self.encryption_key,
            "PLEX_CLIENT_ID": CLIENT_ID,
            "PLEX_TV_URL": self.plex_tv.url,
            "OVERSEERR_URL": self.overseerr.url,
            "OVERSEERR_API_KEY": self.overseerr.api_key,
            "OVERSEERR_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "OVERSEERR_POLL_SECONDS": "3600",
            "UPTIME_KUMA_URL": self.kuma.url,
            "UPTIME_KUMA_STATUS_SLUG": self.kuma.slug,
            "PLEX_SERVER_URL": self.pms.url,
            "PLEX_SERVER_TOKEN": PLEX_ADMIN_TOKEN,
            "PLEX_DOWNLOAD_ROOT": PLEX_ROOT,
            "PLEX_SCAN_TIMEOUT_SECONDS": "10",
            "DOWNLOAD_ROOT": str(self.download_root),
            "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
            "DOWNLOAD_RETRY_BASE_SECONDS": "0",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(free_port()),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        }
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    async def start_bot(self, *, wait_commands: bool = True, **overrides: Any) -> BotProcess:
        env = self.env(**overrides)
        process = BotProcess([sys.executable, "-m", "bot", "run"], self.discord, env=env)
        self.processes.append(process)
        await process.start(timeout=30)
        self.web_ports[process.pid] = int(env["WEB_PORT"])
        if wait_commands:
            await self.discord.wait_for_commands(BOT_COMMANDS, guild=self.guild, timeout=30)
        return process

    async def start_worker(self, **overrides: Any) -> BotProcess:
        process = BotProcess([sys.executable, "-m", "bot", "worker"], self.discord, env=self.env(**overrides))
        self.processes.append(process)
        await process.start(wait_ready=False)
        return process

    def hook_overseerr(self, process: BotProcess, secret: str = WEBHOOK_SECRET) -> None:
        """Point Overseerr's webhook agent at this bot process."""
        port = self.web_ports[process.pid]
        self.overseerr.configure_webhook(f"http://127.0.0.1:{port}/webhooks/overseerr", secret)

    def web(self, process: BotProcess) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.web_ports[process.pid]}", timeout=10)

    async def stop_all(self) -> None:
        for process in reversed(self.processes):
            await process.stop(timeout=10)  # also closes the log of one that already exited

    def logs(self) -> list[dict[str, Any]]:
        """Every JSON log line of every process started, parsed."""
        entries = []
        for process in self.processes:
            for line in process.log_text().splitlines():
                if line.startswith("{"):
                    try:
                        entries.append(json.loads(line))
                    except ValueError:
                        continue
        return entries

    def raw_logs(self) -> str:
        return "\n".join(p.log_text() for p in self.processes)


async def _reset(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "TRUNCATE users, media_requests, downloads, download_items, audit_log, status_messages, "
            "status_settings, app_settings RESTART IDENTITY CASCADE"
        )
    finally:
        await conn.close()
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.fixture
async def stack(
    database: str, encryption_key: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    await _reset(database)
    root = tmp_path / "downloads"
    root.mkdir()
    discord = FakeDiscord()
    plex_tv = FakePlexTv()
    pms = FakePlexServer(admin_token=PLEX_ADMIN_TOKEN)
    pms.add_other_videos_section([PLEX_ROOT])
    pms.map_path(PLEX_ROOT, root)
    pms.set_scan_delay(0.05)
    plex_tv.register_server(pms)
    media = FakeMediaServer()
    kuma = FakeUptimeKuma(slug="media")
    overseerr = FakeOverseerr()
    for server in (discord, plex_tv, pms, media, kuma, overseerr):
        await server.start()
    guild = discord.create_guild("Family")
    channel = discord.create_channel(guild, "media")
    admin_role = discord.create_role(guild, "Admins", permissions=0x20)  # MANAGE_GUILD
    alice, bob, admin = (discord.create_user(n) for n in ("alice", "bob", "admin"))
    discord.add_member(guild, alice)
    discord.add_member(guild, bob)
    discord.add_member(guild, admin, roles=[admin_role])
    s = Stack(
        discord=discord,
        plex_tv=plex_tv,
        pms=pms,
        media=media,
        kuma=kuma,
        overseerr=overseerr,
        database_url=database,
        encryption_key=encryption_key,
        download_root=root,
        guild=guild,
        channel=channel,
        admin_role=admin_role,
        alice=alice,
        bob=bob,
        admin=admin,
    )
    try:
        yield s
    finally:
        await s.stop_all()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print("\n----- process logs -----\n" + s.raw_logs()[-20000:])
        for server in (overseerr, kuma, media, pms, plex_tv):
            await server.stop()
        assert not overseerr.contract_errors, overseerr.contract_errors
        try:
            await assert_clean(discord)
        finally:
            await discord.stop()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


async def link_as(
    stack: Stack, user: FakeUser, username: str, *, owner: bool = False, overseerr: int | None = Permission.REQUEST
) -> str:
    """Drive /link for `user` through plex.tv as the Plex account `username`; returns the device token.

    With `overseerr` (permission bits), the Plex account also has an Overseerr user, as
    Overseerr's Plex import would have made it.
    """
    account = stack.plex_tv.add_account(
        username,
        email=f"{username}@example.com",
        owner_of=[stack.pms] if owner else [],
        shared=[] if owner else [stack.pms],
    )
    if overseerr is not None:
        stack.overseerr.add_user(username, plex_id=account.id, email=f"{username}@example.com", permissions=overseerr)
    resp = await stack.discord.slash(user, "link", guild=stack.guild, channel=stack.channel)
    await resp.wait_edit(lambda m: any("Sign in" in str(c) for c in m.components), timeout=10)
    pin = await wait_for(lambda: stack.plex_tv.latest_pin(CLIENT_ID), what="a PIN")
    token = stack.plex_tv.authorize_pin(pin.id, account)
    await resp.wait_edit(lambda m: m.embeds and "Linked as" in m.embeds[0]["title"], timeout=10)
    return token
