"""/admin doctor's checks with stand-ins for each dependency: what each says, its hint, its time bound."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.config import Settings
from bot.db import load_migrations
from bot.errors import AppError, ErrorCode
from bot.integrations.breaker import CircuitBreaker
from bot.integrations.overseerr import OverseerrClient
from bot.integrations.plex import PlexServerClient, PlexTvClient
from bot.services import doctor as doctor_module
from bot.services.doctor import (
    Check,
    DiscordFacts,
    DoctorReport,
    DoctorService,
    parse_worker_health,
    yt_dlp_age_days,
)
from cogs.insights import EMBED_BUDGET, doctor_embed

ADMIN = 1


class Accounts:
    def __init__(self) -> None:
        self.asked: list[int] = []

    async def require_admin(self, discord_id: int) -> None:
        self.asked.append(discord_id)
        if discord_id != ADMIN:
            raise AppError(ErrorCode.INSUFFICIENT_PRIVILEGES, "Only MediaNest admins can do that.")


class Pool:
    """asyncpg's pool as the doctor uses it; `hang` makes it never hand out a connection."""

    def __init__(self, applied: list[dict[str, Any]] | None = None, *, hang: bool = False) -> None:
        self.applied = (
            applied
            if applied is not None
            else [{"version": m.version, "name": m.name, "checksum": m.checksum} for m in load_migrations()]
        )
        self.hang = hang
        self.used = 0

    @asynccontextmanager
    async def acquire(self, timeout: float | None = None) -> AsyncIterator[Pool]:
        self.used += 1
        if self.hang:
            await asyncio.Event().wait()
        yield self

    async def fetchval(self, sql: str) -> str:
        return "16.4 (Debian 16.4-1)"

    async def fetch(self, sql: str) -> list[dict[str, Any]]:
        self.used += 1
        if self.hang:
            await asyncio.Event().wait()
        return self.applied


class Redis:
    def __init__(self, *, down: bool = False, hang: bool = False, values: dict[str, Any] | None = None) -> None:
        self.down, self.hang, self.values = down, hang, values or {}

    async def _io(self) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.down:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def ping(self) -> bool:
        await self._io()
        return True

    async def info(self, section: str) -> dict[str, str]:
        await self._io()
        return {"redis_version": "7.2.4"}

    async def get(self, key: str) -> Any:
        await self._io()
        return self.values.get(key)

    async def zcard(self, key: str) -> int:
        await self._io()
        return 2


class Job:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    async def result(self, timeout: float | None = None, *, poll_delay: float = 0.5) -> str:
        if self.answer is None:
            await asyncio.sleep(timeout or 0)
            raise TimeoutError
        return self.answer


class Arq(Redis):
    def __init__(self, *, health: bytes | None = None, answer: str | None = "pong", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.health, self.answer = health, answer
        self.enqueued: list[tuple[str, dict[str, Any]]] = []

    async def get(self, key: str) -> Any:
        await self._io()
        return self.health if key.endswith("health-check") else None

    async def enqueue_job(self, function: str, **kwargs: Any) -> Job:
        await self._io()
        self.enqueued.append((function, kwargs))
        return Job(self.answer)


def mock_client(client: Any, handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    """The real integration client, answering from `handler` instead of the network."""
    client.http = httpx.AsyncClient(
        base_url=client.http.base_url, headers=client.http.headers, transport=httpx.MockTransport(handler)
    )
    return client


def breaker() -> CircuitBreaker:
    return CircuitBreaker("test")


def plex_tv_answering(status: int = 401) -> PlexTvClient:
    client = PlexTvClient(base_url="http://plex-tv.test", client_id="medianest-test", timeout=1, breaker=breaker())
    return mock_client(client, lambda request: httpx.Response(status, json={"errors": []}))


def overseerr_answering(routes: dict[str, tuple[int, Any]]) -> OverseerrClient:
    client = OverseerrClient(base_url="http://overseerr.test", api_key="secret-key", timeout=1, breaker=breaker())

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = routes.get(request.url.path.removeprefix("/api/v1"), (404, {"message": "Not Found"}))
        return httpx.Response(status, json=body)

    return mock_client(client, handle)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    return make_settings(
        DOWNLOAD_ROOT=str(tmp_path),
        OVERSEERR_URL="http://overseerr.test",
        OVERSEERR_API_KEY="k",
        OVERSEERR_WEBHOOK_SECRET="hook-secret",
    )


def make_doctor(settings: Settings, **overrides: Any) -> DoctorService:
    parts: dict[str, Any] = {
        "settings": settings,
        "pool": Pool(),
        "redis": Redis(),
        "arq": Arq(health=b"Nov-25 20:36:37 j_complete=3 j_failed=0 j_retried=0 j_ongoing=0 queued=0"),
        "accounts": Accounts(),
        "plex_tv": plex_tv_answering(),
        "plex_server": None,
        "overseerr": None,
        "kuma": None,
        "timeout": 2.0,
    }
    parts.update(overrides)
    return DoctorService(**parts)


async def test_a_non_admin_is_refused_before_anything_is_checked(settings: Settings) -> None:
    pool = Pool()
    service = make_doctor(settings, pool=pool)
    with pytest.raises(AppError) as refused:
        await service.report(2)
    assert refused.value.code is ErrorCode.INSUFFICIENT_PRIVILEGES
    assert pool.used == 0


async def test_a_hanging_dependency_is_reported_within_its_own_timeout(settings: Settings) -> None:
    service = make_doctor(settings, pool=Pool(hang=True), redis=Redis(hang=True), timeout=0.3)
    started = time.monotonic()
    report = await service.report(ADMIN)
    assert time.monotonic() - started < 2.0
    database, redis = report.find("Database"), report.find("Redis")
    assert (database.ok, database.detail) == (False, "no answer within 0.3 s")
    assert database.hint is not None and "DATABASE_URL" in database.hint
    assert (redis.ok, redis.detail) == (False, "no answer within 0.3 s")
    assert redis.hint is not None and "REDIS_URL" in redis.hint
    # the others still report, each for itself
    assert report.find("plex.tv").ok is True
    assert report.find("Download worker").ok is True


async def test_a_stopped_redis_fails_redis_and_the_worker_check_with_the_redis_hint(settings: Settings) -> None:
    service = make_doctor(settings, redis=Redis(down=True), arq=Arq(down=True), overseerr=overseerr_answering({}))
    report = await service.run()
    redis = report.find("Redis")
    assert redis.ok is False and redis.detail == "not reachable (ConnectionError)"
    assert redis.hint is not None and "docker compose up -d redis" in redis.hint and "REDIS_URL" in redis.hint
    assert "127.0.0.1" not in redis.detail  # our words, not the driver's
    worker = report.find("Download worker")
    assert worker.ok is False and "Redis is not reachable" in worker.detail
    webhook = report.find("Overseerr webhook")
    assert webhook.ok is None and "Redis is not reachable" in webhook.detail


async def test_a_wrong_overseerr_api_key_is_named_with_where_to_copy_the_right_one(settings: Settings) -> None:
    overseerr = overseerr_answering(
        {
            "/status": (200, {"version": "1.34.0"}),
            "/auth/me": (403, {"message": "You do not have permission to access this endpoint"}),
            "/settings/main": (403, {"message": "You do not have permission to access this endpoint"}),
        }
    )
    report = await make_doctor(settings, overseerr=overseerr).run()
    assert report.find("Overseerr") == Check("Overseerr", True, "version 1.34.0 (overseerr)")
    key = report.find("Overseerr API key")
    assert key.ok is False and key.detail == "Overseerr refused the API key"
    assert key.hint is not None and "Settings → General → API Key into OVERSEERR_API_KEY" in key.hint
    csrf = report.find("Overseerr CSRF")
    assert csrf.ok is None and "API key" in csrf.detail
    assert all(
        "secret-key" not in f"{c.detail} {c.hint}" and "hook-secret" not in f"{c.detail} {c.hint}"
        for c in report.checks
    )


async def test_overseerr_csrf_protection_on_is_named_with_the_setting_to_turn_off(settings: Settings) -> None:
    overseerr = overseerr_answering(
        {
            "/status": (200, {"version": "2.7.3"}),
            "/auth/me": (200, {"id": 1, "permissions": 2}),
            "/settings/network": (200, {"csrfProtection": True}),
        }
    )
    report = await make_doctor(settings, overseerr=overseerr).run()
    assert report.find("Overseerr API key").ok is True
    assert report.find("Overseerr").detail == "version 2.7.3 (jellyseerr)"
    csrf = report.find("Overseerr CSRF")
    assert csrf.ok is False
    assert (
        csrf.hint is not None and "Network on Jellyseerr/Seerr" in csrf.hint and "Enable CSRF Protection" in csrf.hint
    )


async def test_unconfigured_services_are_not_failures_and_say_which_settings_to_set(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    report = await make_doctor(make_settings(DOWNLOAD_ROOT=str(tmp_path))).run()
    for name, setting in (
        ("Plex server", "PLEX_SERVER_URL"),
        ("Overseerr", "OVERSEERR_URL"),
        ("Overseerr webhook", "OVERSEERR_URL"),
        ("Uptime Kuma", "UPTIME_KUMA_URL"),
    ):
        check = report.find(name)
        assert check.ok is None and check.detail == "not configured", name
        assert check.hint is not None and setting in check.hint, name
    assert report.failing == []


async def test_plex_token_refused_and_webhook_never_received(settings: Settings) -> None:
    plex = PlexServerClient(base_url="http://plex.test", token="plex-token", timeout=1, breaker=breaker())
    mock_client(
        plex,
        lambda request: (
            httpx.Response(200, json={"MediaContainer": {"version": "1.41.3"}})
            if request.url.path == "/identity"
            else httpx.Response(401, text="<html>Unauthorized</html>")
        ),
    )
    overseerr = overseerr_answering({"/status": (200, {"version": "1.34.0"})})
    report = await make_doctor(settings, plex_server=plex, overseerr=overseerr).run()
    assert report.find("Plex server") == Check("Plex server", True, "Plex Media Server 1.41.3")
    token = report.find("Plex token")
    assert token.ok is False and token.hint is not None and "PLEX_SERVER_TOKEN" in token.hint
    webhook = report.find("Overseerr webhook")
    assert webhook.ok is None and webhook.detail == "configured, but none received yet"
    assert webhook.hint is not None and "/webhooks/overseerr" in webhook.hint and "Test" in webhook.hint


async def test_migrations_not_applied_or_edited_are_named(settings: Settings) -> None:
    files = load_migrations()
    rows = [{"version": m.version, "name": m.name, "checksum": m.checksum} for m in files]
    missing = await make_doctor(settings, pool=Pool(rows[:-1])).migrations()
    assert missing.ok is False and files[-1].filename in missing.detail
    assert missing.hint is not None and "medianest migrate" in missing.hint
    edited_rows = [*rows[:-1], {**rows[-1], "checksum": "0" * 64}]
    edited = await make_doctor(settings, pool=Pool(edited_rows)).migrations()
    assert edited.ok is False and "edited after it was applied" in edited.detail
    fine = await make_doctor(settings, pool=Pool(rows)).migrations()
    assert fine.ok is True and f"all {len(files)} applied" in fine.detail


async def test_worker_alive_busy_stuck_or_absent(settings: Settings) -> None:
    idle = b"Nov-25 20:36:37 j_complete=3 j_failed=0 j_retried=0 j_ongoing=0 queued=0"
    busy = b"Nov-25 20:36:37 j_complete=3 j_failed=0 j_retried=0 j_ongoing=2 queued=4"
    arq = Arq(health=idle)
    alive = await make_doctor(settings, arq=arq).worker()
    assert alive.ok is True and alive.detail.startswith("answered a ping")
    assert arq.enqueued[0][0] == "ping" and arq.enqueued[0][1]["_expires"].total_seconds() > 0  # no stale pings

    stuck = await make_doctor(settings, arq=Arq(health=idle, answer=None), timeout=1.0).worker()
    assert stuck.ok is False and "did not run a ping job" in stuck.detail
    assert stuck.hint is not None and "restart" in stuck.hint

    full = await make_doctor(settings, arq=Arq(health=busy, answer=None), timeout=1.0).worker()
    assert full.ok is True and "busy: 2 download(s) running" in full.detail  # DOWNLOAD_CONCURRENCY is 2

    absent = await make_doctor(settings, arq=Arq(health=None)).worker()
    assert absent.ok is False and "no worker has reported in" in absent.detail
    assert absent.hint is not None and "docker compose up -d worker" in absent.hint


async def test_download_folder_missing_or_short_of_space(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = await make_doctor(make_settings(DOWNLOAD_ROOT=str(tmp_path / "nope"))).download_root()
    assert gone.ok is False and "does not exist" in gone.detail
    fine = await make_doctor(make_settings(DOWNLOAD_ROOT=str(tmp_path))).download_root()
    assert fine.ok is True and "writable" in fine.detail and "GiB free" in fine.detail
    assert await asyncio.to_thread(os.listdir, tmp_path) == []  # the probe file is gone
    monkeypatch.setattr(doctor_module, "MIN_FREE_BYTES", 1 << 62)
    full = await make_doctor(make_settings(DOWNLOAD_ROOT=str(tmp_path))).download_root()
    assert full.ok is False and full.hint is not None and "DOWNLOAD_ROOT" in full.hint


def facts(defined: set[str], synced: set[str], *, scope: str = "1 server(s)", **kw: Any) -> DiscordFacts:
    async def list_synced() -> frozenset[str]:
        return frozenset(synced)

    base: dict[str, Any] = {"intents": frozenset({"guilds"}), "connected": True, "latency_ms": 42.0}
    base.update(kw)
    return DiscordFacts(scope=scope, defined=frozenset(defined), list_synced=list_synced, **base)


async def test_discord_commands_out_of_sync_are_named_with_how_to_sync(settings: Settings) -> None:
    service = make_doctor(settings)
    fine = await service.discord_commands(facts({"help", "admin stats"}, {"help", "admin stats"}))
    assert fine.ok is True and "all 2 commands synced" in fine.detail
    behind = await service.discord_commands(facts({"help", "admin stats"}, {"help", "admin old"}, scope="global"))
    assert behind.ok is False
    assert "1 not on Discord (/admin stats)" in behind.detail and "/admin old" in behind.detail
    assert behind.hint is not None and "Restart the bot" in behind.hint and "DISCORD_GUILD_IDS" in behind.hint


async def test_discord_intents(settings: Settings) -> None:
    service = make_doctor(settings)
    fine = await service.discord_intents(facts(set(), set()))
    assert fine.ok is True and "no privileged intents needed" in fine.detail and "42 ms" in fine.detail
    privileged = await service.discord_intents(facts(set(), set(), intents=frozenset({"guilds", "members"})))
    assert privileged.hint is not None and "Privileged Gateway Intents" in privileged.hint
    down = await service.discord_intents(facts(set(), set(), connected=False))
    assert down.ok is False and down.hint is not None and "DISCORD_TOKEN" in down.hint


async def test_discord_checks_run_in_the_report_when_facts_are_given(settings: Settings) -> None:
    report = await make_doctor(settings).report(ADMIN, facts({"help"}, set()))
    assert [c.name for c in report.checks[:2]] == ["Discord intents", "Discord commands"]
    assert report.find("Discord commands").ok is False


def test_yt_dlp_age_and_worker_health_parsing() -> None:
    assert yt_dlp_age_days("2026.10.26", date(2026, 11, 25)) == 30
    assert yt_dlp_age_days("2026.10.26.1", date(2026, 10, 27)) == 1
    assert yt_dlp_age_days("nightly", date(2026, 11, 25)) is None
    health = parse_worker_health("Nov-25 20:36:37 j_complete=3 j_failed=1 j_retried=0 j_ongoing=2 queued=7")
    assert health == {"j_complete": 3, "j_failed": 1, "j_retried": 0, "j_ongoing": 2, "queued": 7}


def test_the_embed_lists_broken_checks_first_with_hints_and_fits_discord() -> None:
    checks = [Check(f"Fine {i}", True, "ok") for i in range(5)]
    checks += [Check(f"Broken {i}", False, "it broke " + "x" * 250, "do this " + "y" * 900) for i in range(14)]
    checks += [Check("Kuma", None, "not configured", "Set UPTIME_KUMA_URL")]
    embed = doctor_embed(DoctorReport(checks, took_ms=1234))
    assert embed.title is not None and "⛔" in embed.title
    assert embed.description is not None and "**5** fine · **14** broken · **1** not set up" in embed.description
    assert "✅ **Fine 0**: ok" in embed.description
    names = [f.name for f in embed.fields]
    assert names[0] == "⛔ Broken 0" and names[-1] == "➖ Kuma"
    assert len(embed) <= EMBED_BUDGET

    few = doctor_embed(DoctorReport([*checks[:5], *checks[5:7], checks[-1]], took_ms=10))
    assert all("**Fix:** do this" in (f.value or "") for f in few.fields[:2])  # room enough: hints in full
    assert few.fields[0].value is not None and len(few.fields[0].value) > 600


def test_all_fine_is_green() -> None:
    embed = doctor_embed(DoctorReport([Check("Database", True, "PostgreSQL 16")], took_ms=5))
    assert embed.title is not None and embed.title.startswith("✅") and not embed.fields


def test_http_checks_outwait_their_clients_so_the_breaker_sees_the_failure(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(DOWNLOAD_ROOT=str(tmp_path), PLEX_TIMEOUT_SECONDS="10", OVERSEERR_TIMEOUT_SECONDS="3")
    waits = {spec.name: spec.timeout for spec in make_doctor(settings, timeout=8.0)._specs(None)}
    assert waits["Plex server"] == waits["plex.tv"] == 12  # one call of up to 10 s, plus slack
    assert waits["Overseerr CSRF"] == 8  # two calls of 3 s fit in the default
    assert waits["Database"] is None and waits["Redis"] is None  # the default bound
