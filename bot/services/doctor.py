"""/admin doctor: every part MediaNest depends on, checked at once, each with a fix hint.

Each check is one small coroutine returning a `Check`: `ok` is True (fine), False
(broken: the hint says exactly what to change) or None (not configured, or it
could not be told). They run concurrently, each under its own timeout, so a dead
service shows as "no answer within N s" instead of hanging the report. Details
are written in our own words: no addresses, tokens or keys, never an upstream's
text that might echo one.

Nothing here knows Discord objects: the cog passes what only the bot knows (the
intents it asked for, the commands it defines, a callable that lists what
Discord has) as `DiscordFacts`.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bot import queue
from bot.config import Settings
from bot.db import load_migrations
from bot.errors import AppError, ErrorCode
from bot.integrations.kuma import KumaClient
from bot.integrations.overseerr import OverseerrClient
from bot.integrations.plex import PlexServerClient, PlexTvClient
from bot.services.accounts import AccountService
from bot.webhooks import LAST_WEBHOOK_KEY

log = logging.getLogger(__name__)

GIB = 1024**3
MIN_FREE_BYTES = 2 * GIB
YT_DLP_MAX_AGE_DAYS = 90
PRIVILEGED_INTENTS = frozenset({"members", "presences", "message_content"})
REQUIRED_INTENTS = frozenset({"guilds"})

_REDIS_DOWN_HINT = (
    "Start Redis (`docker compose up -d redis`) and check REDIS_URL. The bot reconnects by itself; "
    "downloads, rate limits and the status board wait until Redis is back."
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: not configured, or could not be told
    detail: str
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class DiscordFacts:
    """What only the bot knows, as plain values."""

    intents: frozenset[str]  # the intents the bot asked for, by discord.py's names
    connected: bool
    latency_ms: float | None
    scope: str  # "1 server" or "global"
    defined: frozenset[str]  # qualified names of the commands the bot defines ("admin user ban")
    list_synced: Callable[[], Awaitable[frozenset[str]]]  # the same, as Discord has them


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: list[Check]
    took_ms: float

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    @property
    def unknown(self) -> list[Check]:
        return [c for c in self.checks if c.ok is None]

    def find(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    run: Callable[[], Awaitable[Check]]
    hint: str  # shown when the check itself times out or crashes
    timeout: float | None = None  # None: the service's default


def _redis_unreachable(exc: RedisError) -> str:
    return f"Redis is not reachable ({type(exc).__name__}), so this could not be checked"


def yt_dlp_age_days(version: str, today: date) -> int | None:
    """yt-dlp versions are release dates (2026.10.26, or 2026.10.26.1 for a hotfix)."""
    parts = version.split(".")
    try:
        released = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except (IndexError, ValueError):
        return None
    return (today - released).days


def parse_worker_health(report: str) -> dict[str, int]:
    """arq's health line: `Nov-25 20:36:37 j_complete=3 j_failed=0 j_retried=0 j_ongoing=1 queued=0`."""
    values: dict[str, int] = {}
    for part in report.split():
        key, sep, value = part.partition("=")
        if sep and value.isdigit():
            values[key] = int(value)
    return values


class DoctorService:
    def __init__(
        self,
        *,
        settings: Settings,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        arq: ArqRedis,
        accounts: AccountService,
        plex_tv: PlexTvClient,
        plex_server: PlexServerClient | None,
        overseerr: OverseerrClient | None,
        kuma: KumaClient | None,
        timeout: float = 8.0,
        ping_timeout: float = 5.0,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._redis = redis
        self._arq = arq
        self._accounts = accounts
        self._plex_tv = plex_tv
        self._plex = plex_server
        self._overseerr = overseerr
        self._kuma = kuma
        self.timeout = timeout
        self.ping_timeout = min(ping_timeout, timeout - 0.5) if timeout > 1 else timeout / 2

    # -- running ------------------------------------------------------------------------

    async def report(self, actor_id: int, discord: DiscordFacts | None = None) -> DoctorReport:
        await self._accounts.require_admin(actor_id)
        return await self.run(discord)

    async def run(self, discord: DiscordFacts | None = None) -> DoctorReport:
        """Every check, concurrently, each bounded by `timeout`; in a fixed order."""
        started = time.perf_counter()
        specs = self._specs(discord)
        checks = await asyncio.gather(*(self._guarded(spec) for spec in specs))
        return DoctorReport(checks=list(checks), took_ms=(time.perf_counter() - started) * 1000)

    def _http(self, calls: int, client_timeout: float) -> float:
        """HTTP checks wait a little longer than their client's own timeouts, so the client gives
        up first and its breaker counts the failure (a cancelled call would count as nothing)."""
        return max(self.timeout, calls * client_timeout + 2)

    async def _guarded(self, spec: _Spec) -> Check:
        timeout = spec.timeout or self.timeout
        try:
            async with asyncio.timeout(timeout):
                return await spec.run()
        except TimeoutError:
            return Check(spec.name, False, f"no answer within {timeout:g} s", spec.hint)
        except AppError as exc:
            # our own words already (a service's breaker, a refusal); never a secret
            return Check(spec.name, False, exc.message, spec.hint)
        except RedisError as exc:
            return Check(spec.name, False, _redis_unreachable(exc), _REDIS_DOWN_HINT)
        except Exception as exc:
            log.warning("doctor check %s failed unexpectedly", spec.name, exc_info=True)
            return Check(spec.name, False, f"the check failed ({type(exc).__name__})", spec.hint)

    def _specs(self, discord: DiscordFacts | None) -> list[_Spec]:
        s = self._settings
        plex, overseerr = self._http(1, s.plex.timeout_seconds), self._http(2, s.overseerr.timeout_seconds)
        specs: list[_Spec] = []
        if discord is not None:
            specs += [
                _Spec("Discord intents", lambda: self.discord_intents(discord), "Restart the bot."),
                _Spec(
                    "Discord commands",
                    lambda: self.discord_commands(discord),
                    "Discord did not list the commands in time; run /admin doctor again in a minute.",
                ),
            ]
        specs += [
            _Spec(
                "Database",
                self.database,
                "Check DATABASE_URL and that PostgreSQL runs (`docker compose up -d postgres`).",
            ),
            _Spec("Migrations", self.migrations, "Run `medianest migrate`, or restart the bot (it migrates on start)."),
            _Spec("Redis", self.redis, _REDIS_DOWN_HINT),
            _Spec("Download worker", self.worker, "Start the worker: `docker compose up -d worker`."),
            _Spec("Plex server", self.plex_reachable, "Check PLEX_SERVER_URL and that Plex runs.", plex),
            _Spec("Plex token", self.plex_token, "Check PLEX_SERVER_TOKEN.", plex),
            _Spec(
                "plex.tv", self.plex_tv, "Check that this machine reaches plex.tv (DNS, firewall, PLEX_TV_URL).", plex
            ),
            _Spec("Overseerr", self.overseerr_reachable, "Check OVERSEERR_URL and that Overseerr runs.", overseerr),
            _Spec("Overseerr API key", self.overseerr_api_key, "Check OVERSEERR_API_KEY.", overseerr),
            _Spec("Overseerr CSRF", self.overseerr_csrf, "Run /admin doctor again once Overseerr answers.", overseerr),
            _Spec("Overseerr webhook", self.overseerr_webhook, _REDIS_DOWN_HINT),
            _Spec(
                "Uptime Kuma",
                self.kuma,
                "Check UPTIME_KUMA_URL and that Uptime Kuma runs.",
                self._http(1, s.kuma.timeout_seconds),
            ),
            _Spec(
                "Download folder",
                self.download_root,
                f"Check that DOWNLOAD_ROOT ({s.downloads.root}) is mounted and answers.",
            ),
            _Spec("ffmpeg", self.ffmpeg, "Install ffmpeg (`apt-get install ffmpeg`; the Docker image has it)."),
            _Spec("yt-dlp", self.yt_dlp, "Reinstall yt-dlp: `pip install -U yt-dlp`, or rebuild the image."),
        ]
        return specs

    # -- Discord ----------------------------------------------------------------------------

    async def discord_intents(self, facts: DiscordFacts) -> Check:
        name = "Discord intents"
        missing = REQUIRED_INTENTS - facts.intents
        privileged = sorted(PRIVILEGED_INTENTS & facts.intents)
        if missing:
            return Check(
                name,
                False,
                f"the bot does not ask for {', '.join(sorted(missing))}",
                "This build of MediaNest is broken (bot/client.py `intents()`); reinstall a released version.",
            )
        if not facts.connected:
            return Check(
                name,
                False,
                "not connected to the Discord gateway",
                "Check that the machine reaches Discord and that DISCORD_TOKEN is current "
                "(Developer Portal → your application → Bot → Reset Token).",
            )
        detail = f"{', '.join(sorted(facts.intents))}; "
        detail += ("privileged: " + ", ".join(privileged)) if privileged else "no privileged intents needed"
        if facts.latency_ms is not None:
            detail += f"; gateway latency {facts.latency_ms:.0f} ms"
        hint = None
        if privileged:
            hint = (
                "Enable them in the Developer Portal → your application → Bot → Privileged Gateway Intents, "
                "or Discord refuses the connection."
            )
        return Check(name, True, detail, hint)

    async def discord_commands(self, facts: DiscordFacts) -> Check:
        name = "Discord commands"
        synced = await facts.list_synced()
        missing = sorted(facts.defined - synced)
        stale = sorted(synced - facts.defined)
        if not missing and not stale:
            return Check(name, True, f"all {len(facts.defined)} commands synced ({facts.scope})")
        parts = []
        if missing:
            parts.append(f"{len(missing)} not on Discord (/{', /'.join(missing[:5])})")
        if stale:
            parts.append(f"{len(stale)} on Discord but gone from the bot (/{', /'.join(stale[:5])})")
        hint = "Restart the bot: it syncs its commands on start."
        if facts.scope == "global":
            hint += (
                " Global commands can take up to an hour to show; set DISCORD_GUILD_IDS to your server's id "
                "for instant updates."
            )
        return Check(name, False, "; ".join(parts), hint)

    # -- database ---------------------------------------------------------------------------

    async def database(self) -> Check:
        started = time.perf_counter()
        async with self._pool.acquire(timeout=self.timeout) as conn:
            version = await conn.fetchval("SHOW server_version")
        elapsed = (time.perf_counter() - started) * 1000
        return Check("Database", True, f"PostgreSQL {str(version).split()[0]}, answered in {elapsed:.0f} ms")

    async def migrations(self) -> Check:
        name = "Migrations"
        files = load_migrations()
        rows = await self._pool.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        applied = {r["version"]: r for r in rows}
        known = {m.version for m in files}
        missing = [m.filename for m in files if m.version not in applied]
        edited = [m.filename for m in files if m.version in applied and applied[m.version]["checksum"] != m.checksum]
        unknown = sorted(v for v in applied if v not in known)
        if edited:
            return Check(
                name,
                False,
                f"edited after it was applied: {', '.join(edited)}",
                "Restore those files to their released content and put the change in a new migration file; "
                "the bot refuses to start otherwise.",
            )
        if missing:
            return Check(
                name,
                False,
                f"{len(missing)} not applied: {', '.join(missing)}",
                "Run `medianest migrate` (or restart the bot, which migrates on start).",
            )
        if unknown:
            return Check(
                name,
                False,
                f"the database has migration(s) {unknown} this version does not know",
                "The database was migrated by a newer MediaNest: run that version, or restore a backup.",
            )
        latest = files[-1].filename if files else "none"
        return Check(name, True, f"all {len(files)} applied (latest {latest})")

    # -- Redis and the worker ---------------------------------------------------------------

    async def redis(self) -> Check:
        started = time.perf_counter()
        try:
            await self._redis.ping()
            info = await self._redis.info("server")
        except RedisError as exc:
            return Check("Redis", False, f"not reachable ({type(exc).__name__})", _REDIS_DOWN_HINT)
        elapsed = (time.perf_counter() - started) * 1000
        return Check("Redis", True, f"Redis {info.get('redis_version', '?')}, answered in {elapsed:.0f} ms")

    async def worker(self) -> Check:
        name = "Download worker"
        start_hint = (
            "Start the worker: `docker compose up -d worker` (or `medianest worker`), then check its log "
            "with `docker compose logs worker`."
        )
        try:
            report = await queue.worker_report(self._arq)
            queued = await queue.depth(self._arq)
        except RedisError as exc:
            return Check(name, False, _redis_unreachable(exc), _REDIS_DOWN_HINT)
        if report is None:
            return Check(name, False, f"no worker has reported in ({queued} job(s) waiting)", start_hint)
        stats = parse_worker_health(report)
        running = stats.get("j_ongoing", 0)
        job = await self._arq.enqueue_job("ping", _expires=timedelta(seconds=self.timeout + 5))
        if job is None:  # arq only refuses a duplicate job id; ours is random
            return Check(name, None, "could not queue a ping job", start_hint)
        try:
            answer = await job.result(timeout=self.ping_timeout, poll_delay=0.2)
        except TimeoutError:
            if running >= self._settings.downloads.concurrency:
                return Check(
                    name,
                    True,
                    f"busy: {running} download(s) running, {queued} waiting; too busy to answer a ping now",
                )
            return Check(
                name,
                False,
                f"reported in, but did not run a ping job within {self.ping_timeout:g} s",
                "The worker may be stuck: restart it (`docker compose restart worker`) and check its log.",
            )
        if answer != "pong":
            return Check(name, False, "answered a ping with something else", start_hint)
        return Check(name, True, f"answered a ping; {running} running, {queued} waiting")

    # -- Plex -----------------------------------------------------------------------------------

    async def plex_reachable(self) -> Check:
        name = "Plex server"
        if self._plex is None:
            return Check(
                name,
                None,
                "not configured",
                "Set PLEX_SERVER_URL and PLEX_SERVER_TOKEN, so downloads show up in Plex and access is checked.",
            )
        response = await self._plex.request("GET", "/identity")
        if response.status_code != 200:
            return Check(
                name,
                False,
                f"answered {response.status_code} to /identity",
                "PLEX_SERVER_URL does not point at a Plex Media Server: use its address and port, "
                "e.g. http://plex:32400.",
            )
        container = self._plex.json(response).get("MediaContainer") or {}
        return Check(name, True, f"Plex Media Server {container.get('version', '?')}")

    async def plex_token(self) -> Check:
        name = "Plex token"
        if self._plex is None:
            return Check(name, None, "not configured")
        response = await self._plex.request("GET", "/")
        if response.status_code in (401, 403):
            return Check(
                name,
                False,
                "the Plex server refused the token",
                "Set PLEX_SERVER_TOKEN to the server owner's X-Plex-Token (Plex support: "
                "“Finding an authentication token”), then restart the bot.",
            )
        if response.status_code != 200:
            return Check(
                name, False, f"answered {response.status_code}", "Check PLEX_SERVER_URL and PLEX_SERVER_TOKEN."
            )
        return Check(name, True, "accepted")

    async def plex_tv(self) -> Check:
        # anonymous: plex.tv answers 401 to a call without a token, which proves it answers
        response = await self._plex_tv.request("GET", "/api/v2/user")
        if response.status_code in (200, 401):
            return Check("plex.tv", True, "reachable")
        return Check(
            "plex.tv",
            False,
            f"answered {response.status_code}",
            "/link needs plex.tv: check this machine's internet access, and PLEX_TV_URL if you changed it.",
        )

    # -- Overseerr -------------------------------------------------------------------------------

    def _overseerr_off(self, name: str) -> Check:
        return Check(
            name,
            None,
            "not configured",
            "Set OVERSEERR_URL and OVERSEERR_API_KEY so members can request movies and shows.",
        )

    async def overseerr_reachable(self) -> Check:
        name = "Overseerr"
        if self._overseerr is None:
            return self._overseerr_off(name)
        status = await self._overseerr.status()
        return Check(name, True, f"version {status.get('version', '?')} ({await self._overseerr.flavour()})")

    async def overseerr_api_key(self) -> Check:
        name = "Overseerr API key"
        if self._overseerr is None:
            return self._overseerr_off(name)
        response = await self._overseerr.request("GET", "/auth/me")
        if response.status_code in (401, 403):
            return Check(
                name,
                False,
                "Overseerr refused the API key",
                "Copy the key from Overseerr → Settings → General → API Key into OVERSEERR_API_KEY, "
                "then restart the bot.",
            )
        if response.status_code != 200:
            return Check(name, False, f"answered {response.status_code}", "Check OVERSEERR_URL.")
        return Check(name, True, "accepted")

    async def overseerr_csrf(self) -> Check:
        name = "Overseerr CSRF"
        if self._overseerr is None:
            return self._overseerr_off(name)
        try:
            on = await self._overseerr.csrf_protection()
        except AppError as exc:
            if exc.code is ErrorCode.SERVICE_UNAVAILABLE:
                raise
            return Check(name, None, "could not read the setting (see the API key check)")
        if on:
            return Check(
                name,
                False,
                "CSRF protection is on: it blocks every request the bot makes",
                "In Overseerr: Settings → General (Settings → Network on Jellyseerr/Seerr) → turn off "
                "“Enable CSRF Protection”, then Save.",
            )
        return Check(name, True, "off, as the bot needs")

    async def overseerr_webhook(self) -> Check:
        name = "Overseerr webhook"
        s = self._settings
        setup = (
            "In Overseerr: Settings → Notifications → Webhook: enable it, set the Webhook URL to "
            f"http://<this bot's address>:{s.web.port}/webhooks/overseerr and the Authorization Header to "
            "the value of OVERSEERR_WEBHOOK_SECRET, tick the request types, Save, then press Test."
        )
        if self._overseerr is None:
            return self._overseerr_off(name)
        if s.overseerr.webhook_secret is None:
            return Check(
                name,
                None,
                f"not configured; requests are checked every {s.overseerr.poll_seconds} s instead",
                "Set OVERSEERR_WEBHOOK_SECRET to a long random value for instant updates. " + setup,
            )
        try:
            last = await self._redis.get(LAST_WEBHOOK_KEY)
        except RedisError as exc:
            return Check(name, None, "configured; " + _redis_unreachable(exc), _REDIS_DOWN_HINT)
        if last is None:
            return Check(name, None, "configured, but none received yet", setup)
        return Check(name, True, f"configured; last one received <t:{int(float(last))}:R>")

    # -- Uptime Kuma -----------------------------------------------------------------------------

    async def kuma(self) -> Check:
        name = "Uptime Kuma"
        if self._kuma is None:
            return Check(
                name,
                None,
                "not configured",
                "Set UPTIME_KUMA_URL and UPTIME_KUMA_STATUS_SLUG (the last part of the status page's address) "
                "to show service status in /status.",
            )
        try:
            page = await self._kuma.status_page()
        except AppError as exc:
            if exc.code is ErrorCode.RESOURCE_NOT_FOUND:
                return Check(
                    name,
                    False,
                    "no such status page",
                    "Set UPTIME_KUMA_STATUS_SLUG to the last part of the status page's address "
                    "(…/status/<slug>); the page must be published.",
                )
            raise
        monitors = sum(len(g.monitors) for g in page.groups)
        return Check(name, True, f"status page with {monitors} monitor(s)")

    # -- the machine -----------------------------------------------------------------------------

    async def download_root(self) -> Check:
        return await asyncio.to_thread(self._download_root_now)

    def _download_root_now(self) -> Check:
        name = "Download folder"
        root: Path = self._settings.downloads.root
        if not root.is_dir():
            return Check(
                name,
                False,
                f"{root} does not exist",
                "Create it, or mount the downloads volume there (docker-compose.yml `downloads:/downloads`), "
                "or set DOWNLOAD_ROOT.",
            )
        try:
            with tempfile.NamedTemporaryFile(dir=root, prefix=".medianest-doctor-"):
                pass
        except OSError:
            return Check(
                name,
                False,
                f"{root} is not writable",
                f"Let the bot's user (uid {os.getuid()}) write there: `chown -R {os.getuid()} {root}`.",
            )
        usage = shutil.disk_usage(root)
        detail = f"{root} writable; {usage.free / GIB:.1f} GiB free of {usage.total / GIB:.1f} GiB"
        if usage.free < MIN_FREE_BYTES:
            return Check(
                name,
                False,
                detail,
                "Free some space on that disk (or set DOWNLOAD_USER_QUOTA_GB), or point DOWNLOAD_ROOT at a "
                "bigger one; downloads fail when the disk is full.",
            )
        return Check(name, True, detail)

    async def ffmpeg(self) -> Check:
        binary = shutil.which("ffmpeg")
        if binary is None:
            return Check(
                "ffmpeg",
                False,
                "not installed",
                "Install ffmpeg (`apt-get install ffmpeg`); yt-dlp needs it to merge video and audio.",
            )
        process = await asyncio.create_subprocess_exec(
            binary, "-version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            out, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        words = out.decode(errors="replace").split()
        version = words[2] if len(words) > 2 and words[:2] == ["ffmpeg", "version"] else "unknown version"
        if process.returncode != 0:
            return Check("ffmpeg", False, f"`ffmpeg -version` failed ({process.returncode})", "Reinstall ffmpeg.")
        return Check("ffmpeg", True, version)

    async def yt_dlp(self) -> Check:
        try:
            version = importlib.metadata.version("yt-dlp")
        except importlib.metadata.PackageNotFoundError:
            return Check("yt-dlp", False, "not installed", "Install it: `pip install -U yt-dlp`.")
        age = yt_dlp_age_days(version, datetime.now(UTC).date())
        if age is not None and age > YT_DLP_MAX_AGE_DAYS:
            return Check(
                "yt-dlp",
                False,
                f"{version}, {age} days old",
                "YouTube changes often break old yt-dlp versions: `pip install -U yt-dlp`, or rebuild the image.",
            )
        return Check("yt-dlp", True, version + (f" ({age} days old)" if age is not None else ""))
