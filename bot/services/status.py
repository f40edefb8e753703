"""Service status: Uptime Kuma's status page plus the bot's own probes, as one snapshot.

- `collect` builds a `StatusSnapshot`: Kuma's groups as its status page shows them
  (state, response time, 24 h uptime, since when), then the bot's own checks of
  Plex, Overseerr, the database, Redis and the download queue. When Kuma is slow,
  dead or its breaker is open, the snapshot says "source unavailable" and carries
  no Kuma services at all, so nothing looks down that is not.
- `refresh` is one tick of the status loop, run by the one process that holds the
  Redis lease (`lead`): it collects, compares against the alert state kept in
  Redis and returns the transitions to post (down, back up with the outage's
  length, or a flapping service folded into the post already made).
- Boards and their per-server settings (ping role, silenced recoveries) come from
  the database, with the environment as the default.

Nothing here knows Discord: the cog renders snapshots and sends what this returns.
Nothing here keeps an address either: services carry names, states and numbers.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

import asyncpg
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from bot import queue
from bot.config import Settings
from bot.errors import AppError, ErrorCode
from bot.integrations.http import ServiceClient
from bot.integrations.kuma import (
    HttpProbe,
    KumaBeat,
    KumaClient,
    KumaHeartbeats,
    KumaMetrics,
    KumaMonitor,
    KumaStatus,
    ProbeResult,
    probe,
)
from bot.repositories import audit
from bot.repositories import status as repo
from bot.services.accounts import AccountService

log = logging.getLogger(__name__)

PREFIX = "medianest:status:"
SNAPSHOT_KEY = PREFIX + "snapshot"
ALERTS_KEY = PREFIX + "alerts"
LEADER_KEY = PREFIX + "leader"
SNAPSHOT_TTL = 24 * 3600
PROBE_TIMEOUT = 10.0
OWN_GROUP = "MediaNest"

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class State(StrEnum):
    UP = "up"
    DOWN = "down"
    PENDING = "pending"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


class Source(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"
    OFF = "off"  # no Uptime Kuma configured


class Overall(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    OUTAGE = "outage"
    EMPTY = "empty"


_FROM_KUMA = {
    KumaStatus.UP: State.UP,
    KumaStatus.DOWN: State.DOWN,
    KumaStatus.PENDING: State.PENDING,
    KumaStatus.MAINTENANCE: State.MAINTENANCE,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServiceStatus(_Frozen):
    key: str  # "kuma:<monitor id>" or "own:<probe>"
    name: str
    group: str
    state: State
    ping_ms: float | None = None
    uptime_24h: float | None = None  # ratio 0.0-1.0
    since: datetime | None = None
    detail: str | None = None  # our own words ("not answering", "3 waiting"), never upstream text
    cert_days: int | None = None


class StatusGroup(_Frozen):
    name: str
    services: list[ServiceStatus]


class StatusSnapshot(_Frozen):
    taken_at: datetime
    title: str | None = None
    source: Source = Source.OFF
    source_problem: str | None = None
    groups: list[StatusGroup] = Field(default_factory=list)
    incidents: list[str] = Field(default_factory=list)
    maintenance: list[str] = Field(default_factory=list)

    def services(self) -> Iterator[ServiceStatus]:
        for group in self.groups:
            yield from group.services

    def find(self, key: str) -> ServiceStatus | None:
        return next((s for s in self.services() if s.key == key), None)

    @property
    def overall(self) -> Overall:
        states = [s.state for s in self.services()]
        if any(state is State.DOWN for state in states):
            return Overall.OUTAGE
        if not states:
            return Overall.DEGRADED if self.source is Source.UNAVAILABLE else Overall.EMPTY
        if self.source is Source.UNAVAILABLE or any(state is not State.UP for state in states):
            return Overall.DEGRADED
        return Overall.OPERATIONAL

    @property
    def down(self) -> list[ServiceStatus]:
        return [s for s in self.services() if s.state is State.DOWN]


# --- transitions -------------------------------------------------------------------

Settled = Literal["up", "down"]
_SETTLED: dict[State, Settled] = {State.UP: "up", State.DOWN: "down"}


class AlertRecord(BaseModel):
    """What the loop last told the channels about one service (kept in Redis)."""

    state: Settled
    since: datetime | None = None  # when the current settled state began
    changed_at: datetime
    last_up_at: datetime | None = None  # when it last came back up
    episode_start: datetime | None = None  # first "down" of the current outage or flapping spell
    downs: int = 0  # downs in the current episode
    flapping: bool = False
    posts: dict[int, int] = Field(default_factory=dict)  # channel id -> last transition post


class Transition(_Frozen):
    key: str
    name: str
    group: str
    kind: Literal["down", "up", "flap"]
    state: Settled  # the new state
    at: datetime
    since: datetime | None = None  # down: when the outage began
    outage_seconds: float | None = None  # up: how long it was down
    downs: int = 1  # flap: downs so far in this spell
    episode_start: datetime | None = None
    posts: dict[int, int] = Field(default_factory=dict)  # flap: the posts to edit, per channel


def fold_transitions(
    records: dict[str, AlertRecord], snapshot: StatusSnapshot, *, flap_window: float
) -> tuple[dict[str, AlertRecord], list[Transition]]:
    """Compare the snapshot with what was last announced; return the new records and what to post.

    Only settled states count (pending, maintenance and unknown keep the last one),
    and a service seen for the first time is recorded, not announced. A service that
    goes down again less than `flap_window` seconds after it came back up is flapping:
    the change is folded into the post already made (kind "flap") until it stays up.
    """
    now = snapshot.taken_at
    updated = dict(records)
    transitions: list[Transition] = []
    seen: set[str] = set()
    for service in snapshot.services():
        seen.add(service.key)
        settled = _SETTLED.get(service.state)
        if settled is None:
            continue
        record = records.get(service.key)
        if record is None:
            updated[service.key] = AlertRecord(state=settled, since=service.since or now, changed_at=now)
            continue
        if record.state == settled:
            continue
        if settled == "down":
            recently_up = record.last_up_at is not None and (now - record.last_up_at).total_seconds() < flap_window
            if recently_up and record.episode_start is not None:
                new = record.model_copy(
                    update={
                        "state": "down",
                        "since": service.since or now,
                        "changed_at": now,
                        "downs": record.downs + 1,
                        "flapping": True,
                    }
                )
                kind: Literal["down", "up", "flap"] = "flap"
            else:
                start = service.since or now
                new = AlertRecord(
                    state="down",
                    since=start,
                    changed_at=now,
                    last_up_at=record.last_up_at,
                    episode_start=start,
                    downs=1,
                )
                kind = "down"
        else:
            new = record.model_copy(
                update={"state": "up", "since": service.since or now, "changed_at": now, "last_up_at": now}
            )
            kind = "flap" if record.flapping else "up"
        outage = None
        if settled == "up" and record.since is not None:
            outage = max(((service.since or now) - record.since).total_seconds(), 0.0)
        transitions.append(
            Transition(
                key=service.key,
                name=service.name,
                group=service.group,
                state=settled,
                at=now,
                kind=kind,
                since=new.since if settled == "down" else record.since,
                outage_seconds=outage,
                downs=new.downs,
                episode_start=new.episode_start,
                posts=dict(record.posts) if kind == "flap" else {},
            )
        )
        updated[service.key] = new
    for key in list(updated):
        if key not in seen and (key.startswith("own:") or snapshot.source is Source.OK):
            del updated[key]  # a probe no longer configured, or a monitor taken off the page
    return updated, transitions


def run_start(history: list[KumaBeat]) -> tuple[datetime | None, bool]:
    """When the latest status began, and whether the history reaches back to that change."""
    if not history:
        return None, False
    current = history[-1].status
    start = history[-1].time
    for beat in reversed(history[:-1]):
        if beat.status != current:
            return start, True
        start = beat.time
    return start, False


# --- the service -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Board:
    """A channel that shows the board, with what it last showed and its server's alert settings."""

    channel_id: int
    guild_id: int | None
    message_id: int | None
    content_hash: str | None
    ping_role_id: int | None
    silence_up: bool


@dataclass(frozen=True, slots=True)
class Refresh:
    snapshot: StatusSnapshot
    transitions: list[Transition]


@dataclass(frozen=True, slots=True)
class _Probe:
    key: str
    name: str
    run: Callable[[], Awaitable[ProbeResult]]


class StatusService:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        arq: ArqRedis,
        accounts: AccountService,
        settings: Settings,
        kuma: KumaClient | None,
        plex: ServiceClient | None,
        overseerr: HttpProbe | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._pool = pool
        self._redis = redis
        self._arq = arq
        self._accounts = accounts
        self._channels = settings.channels
        self.poll_seconds = settings.channels.status_poll_seconds
        self._kuma = kuma
        self._plex = plex
        self._overseerr = overseerr
        self._clock = clock
        self._token = uuid.uuid4().hex
        self._lease_ms = max(self.poll_seconds * 3, 10) * 1000
        self._kuma_failing = False
        self._leading = False

    # -- leadership ------------------------------------------------------------

    async def lead(self) -> bool:
        """Take or keep the lease that makes this process the one that ticks and posts."""
        leading = bool(await self._redis.set(LEADER_KEY, self._token, nx=True, px=self._lease_ms)) or bool(
            await self._redis.eval(_RENEW, 1, LEADER_KEY, self._token, str(self._lease_ms))  # type: ignore[misc]
        )
        if leading != self._leading:
            log.info("this process %s the status loop", "now leads" if leading else "no longer leads")
        self._leading = leading
        return leading

    async def step_down(self) -> None:
        """Give the lease back (at shutdown) so another process takes over at its next tick."""
        if await self._redis.eval(_RELEASE, 1, LEADER_KEY, self._token):  # type: ignore[misc]
            log.info("handed the status loop over")
        self._leading = False

    # -- snapshots -------------------------------------------------------------

    async def refresh(self) -> Refresh:
        """One tick of the loop (call it only while leading)."""
        previous = await self._load_snapshot()
        snapshot = await self.collect(previous, record=True)
        raw = await self._redis.hgetall(ALERTS_KEY)  # type: ignore[misc]
        records = {key: AlertRecord.model_validate_json(value) for key, value in raw.items()}
        updated, transitions = fold_transitions(
            records, snapshot, flap_window=self._channels.status_flap_window_seconds
        )
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(SNAPSHOT_KEY, snapshot.model_dump_json(), ex=SNAPSHOT_TTL)
        changed = {k: v.model_dump_json() for k, v in updated.items() if records.get(k) != v}
        if changed:
            pipe.hset(ALERTS_KEY, mapping=changed)
        gone = [k for k in records if k not in updated]
        if gone:
            pipe.hdel(ALERTS_KEY, *gone)
        await pipe.execute()
        for t in transitions:
            log.info("status: %s is %s (%s)", t.name, t.state, t.kind)
        return Refresh(snapshot, transitions)

    async def cached(self) -> StatusSnapshot | None:
        """The loop's latest snapshot while it is fresh (about one poll interval old)."""
        snapshot = await self._load_snapshot()
        if snapshot is None:
            return None
        age = (self._clock() - snapshot.taken_at).total_seconds()
        return snapshot if age <= self.poll_seconds * 1.5 + 5 else None

    async def collect_now(self) -> StatusSnapshot:
        """A fresh snapshot for /status when the loop's is stale; records nothing."""
        return await self.collect(await self._load_snapshot(), record=False)

    async def _load_snapshot(self) -> StatusSnapshot | None:
        try:
            raw = await self._redis.get(SNAPSHOT_KEY)
        except RedisError:
            return None
        if raw is None:
            return None
        try:
            return StatusSnapshot.model_validate_json(raw)
        except ValueError:
            return None

    async def collect(self, previous: StatusSnapshot | None, *, record: bool) -> StatusSnapshot:
        now = self._clock()
        kuma, own = await asyncio.gather(self._from_kuma(previous, now), self._own(previous, now, record=record))
        return kuma.model_copy(update={"groups": [*kuma.groups, *own.groups]})

    async def _from_kuma(self, previous: StatusSnapshot | None, now: datetime) -> StatusSnapshot:
        if self._kuma is None:
            return StatusSnapshot(taken_at=now, source=Source.OFF)
        try:
            page = await self._kuma.status_page()
            beats = await self._kuma.heartbeats()
        except AppError as exc:
            problem = _source_problem(exc)
            if not self._kuma_failing:
                log.warning("Uptime Kuma is unavailable (%s): %s", problem, exc.message)
            self._kuma_failing = True
            return StatusSnapshot(
                taken_at=now,
                title=previous.title if previous else None,
                source=Source.UNAVAILABLE,
                source_problem=problem,
            )
        if self._kuma_failing:
            log.info("Uptime Kuma answers again")
        self._kuma_failing = False
        metrics: KumaMetrics | None = None
        try:
            metrics = await self._kuma.metrics()
        except AppError as exc:
            log.info("Uptime Kuma /metrics unavailable: %s", exc.message)
        groups = [
            StatusGroup(
                name=group.name,
                services=[self._kuma_service(group.name, m, beats, metrics, previous, now) for m in group.monitors],
            )
            for group in sorted(page.groups, key=lambda g: g.weight)
        ]
        return StatusSnapshot(
            taken_at=now,
            title=page.title,
            source=Source.OK,
            groups=[g for g in groups if g.services],
            incidents=page.incidents,
            maintenance=page.maintenance,
        )

    @staticmethod
    def _kuma_service(
        group: str,
        monitor: KumaMonitor,
        beats: KumaHeartbeats,
        metrics: KumaMetrics | None,
        previous: StatusSnapshot | None,
        now: datetime,
    ) -> ServiceStatus:
        key = f"kuma:{monitor.id}"
        history = beats.beats.get(monitor.id, [])
        last = history[-1] if history else None
        state = _FROM_KUMA[last.status] if last else State.UNKNOWN
        ping = last.ping if last is not None and last.status is KumaStatus.UP else None
        since, complete = run_start(history)
        sample = metrics.find(monitor.id, monitor.name) if metrics else None
        if sample is not None and sample.status is not None:
            fresher = _FROM_KUMA[sample.status]  # /metrics is not cached; the heartbeat list may be a minute old
            if fresher is not state:
                state, since, complete = fresher, None, False
            if state is State.UP and sample.response_ms is not None:
                ping = sample.response_ms
        before = previous.find(key) if previous else None
        if not complete and before is not None and before.state is state and before.since is not None:
            since = before.since if since is None else min(since, before.since)
        return ServiceStatus(
            key=key,
            name=monitor.name,
            group=group,
            state=state,
            ping_ms=ping if state is State.UP else None,
            uptime_24h=beats.uptime_24h.get(monitor.id),
            since=since or now,
            detail=None if last is not None or sample is not None else "no checks yet",
            cert_days=monitor.cert_days if monitor.cert_days is not None else (sample.cert_days if sample else None),
        )

    # -- the bot's own probes ---------------------------------------------------

    def _probes(self) -> list[_Probe]:
        probes: list[_Probe] = []
        plex = self._plex
        if plex is not None:
            probes.append(_Probe("own:plex", "Plex", lambda: probe(plex, "/identity")))
        if self._overseerr is not None:
            probes.append(_Probe("own:overseerr", self._overseerr.display_name, self._overseerr.probe))
        probes.append(_Probe("own:database", "Database", self._probe_database))
        probes.append(_Probe("own:redis", "Redis", self._probe_redis))
        probes.append(_Probe("own:queue", "Download queue", self._probe_queue))
        return probes

    async def _own(self, previous: StatusSnapshot | None, now: datetime, *, record: bool) -> StatusSnapshot:
        probes = self._probes()
        results = await asyncio.gather(*(_guarded(p.run) for p in probes))
        uptime = await self._own_uptime({p.key: r.ok for p, r in zip(probes, results, strict=True)}, now, record)
        services = []
        for p, result in zip(probes, results, strict=True):
            state = State.UP if result.ok else State.DOWN
            before = previous.find(p.key) if previous else None
            since = before.since if before is not None and before.state is state and before.since else now
            services.append(
                ServiceStatus(
                    key=p.key,
                    name=p.name,
                    group=OWN_GROUP,
                    state=state,
                    ping_ms=result.elapsed_ms if result.ok else None,
                    uptime_24h=uptime.get(p.key),
                    since=since,
                    detail=result.detail,
                )
            )
        return StatusSnapshot(taken_at=now, groups=[StatusGroup(name=OWN_GROUP, services=services)])

    async def _probe_database(self) -> ProbeResult:
        started = time.perf_counter()
        async with self._pool.acquire(timeout=5) as conn:
            await conn.fetchval("SELECT 1")
        return ProbeResult(True, (time.perf_counter() - started) * 1000)

    async def _probe_redis(self) -> ProbeResult:
        started = time.perf_counter()
        await self._redis.ping()
        return ProbeResult(True, (time.perf_counter() - started) * 1000)

    async def _probe_queue(self) -> ProbeResult:
        waiting = await queue.depth(self._arq)
        alive = await queue.worker_report(self._arq) is not None
        detail = f"{waiting} waiting" + ("" if alive else "; no worker has reported in")
        return ProbeResult(alive, None, detail)

    async def _own_uptime(self, ups: dict[str, bool], now: datetime, record: bool) -> dict[str, float]:
        """24 h uptime of the own probes, from per-hour tallies of the loop's ticks in Redis."""
        hour = int(now.timestamp() // 3600)
        try:
            pipe = self._redis.pipeline(transaction=False)
            if record:
                for key, up in ups.items():
                    name = _uptime_key(key, hour)
                    pipe.hincrby(name, "n", 1)
                    pipe.hincrby(name, "up", 1 if up else 0)
                    pipe.expire(name, 25 * 3600)
            for key in ups:
                for h in range(hour - 23, hour + 1):
                    pipe.hmget(_uptime_key(key, h), ["n", "up"])
            results = await pipe.execute()
        except RedisError:
            return {}
        tallies = results[3 * len(ups) if record else 0 :]
        found: dict[str, float] = {}
        for index, key in enumerate(ups):
            window = tallies[index * 24 : (index + 1) * 24]
            total = sum(int(n or 0) for n, _ in window)
            ups_seen = sum(int(u or 0) for _, u in window)
            if total:
                found[key] = ups_seen / total
        return found

    # -- boards and their settings ---------------------------------------------

    async def boards(self) -> list[Board]:
        """The channels that show a board now: configured ones not removed, plus those admins added."""
        rows = {row.channel_id: row for row in await repo.boards(self._pool)}
        per_guild = await repo.all_settings(self._pool)
        configured = list(dict.fromkeys(self._channels.status_channel_ids))
        wanted = [c for c in configured if c not in rows or rows[c].enabled]
        wanted += [c for c, row in rows.items() if row.enabled and row.added_by is not None and c not in wanted]
        boards = []
        for channel_id in wanted:
            row = rows.get(channel_id)
            guild_id = row.guild_id if row else None
            chosen = per_guild.get(guild_id) if guild_id is not None else None
            boards.append(
                Board(
                    channel_id=channel_id,
                    guild_id=guild_id,
                    message_id=row.message_id if row else None,
                    content_hash=row.content_hash if row else None,
                    ping_role_id=chosen.ping_role_id if chosen else self._channels.status_ping_role_id,
                    silence_up=chosen.silence_up if chosen else self._channels.status_silence_up,
                )
            )
        return boards

    async def save_board(self, channel_id: int, guild_id: int | None, message_id: int, content_hash: str) -> None:
        await repo.save_message(self._pool, channel_id, guild_id, message_id, content_hash)

    async def forget_board_message(self, channel_id: int, message_id: int) -> bool:
        """Someone deleted the board message; the next tick posts it again."""
        return await repo.forget_message(self._pool, channel_id, message_id)

    async def remember_post(self, key: str, channel_id: int, message_id: int) -> None:
        """The transition post a later flap in this channel folds into."""
        raw = await self._redis.hget(ALERTS_KEY, key)  # type: ignore[misc]
        if raw is None:
            return
        record = AlertRecord.model_validate_json(raw)
        record.posts[channel_id] = message_id
        await self._redis.hset(ALERTS_KEY, key, record.model_dump_json())  # type: ignore[misc]

    # -- admin -------------------------------------------------------------------

    async def add_channel(self, actor_id: int, guild_id: int, channel_id: int) -> bool:
        """Show a board in the channel; False when it already has one."""
        await self._accounts.require_admin(actor_id)
        if any(board.channel_id == channel_id for board in await self.boards()):
            return False
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.enable(conn, channel_id, guild_id, actor_id)
            await audit.record(
                conn, actor_id=actor_id, action="status.add_channel", target_type="channel", target_id=channel_id
            )
        return True

    async def remove_channel(self, actor_id: int, guild_id: int, channel_id: int) -> int | None:
        """Stop the board in the channel; returns its message id, for the caller to delete."""
        await self._accounts.require_admin(actor_id)
        if not any(board.channel_id == channel_id for board in await self.boards()):
            raise AppError(ErrorCode.RESOURCE_NOT_FOUND, "That channel has no status board.")
        async with self._pool.acquire() as conn, conn.transaction():
            before = await repo.disable(conn, channel_id, guild_id)
            await audit.record(
                conn, actor_id=actor_id, action="status.remove_channel", target_type="channel", target_id=channel_id
            )
        return before.message_id

    async def set_silence_up(self, actor_id: int, guild_id: int, silence: bool) -> repo.GuildStatusSettings:
        await self._accounts.require_admin(actor_id)
        async with self._pool.acquire() as conn, conn.transaction():
            chosen = await repo.set_silence_up(
                conn, guild_id, silence, default_role_id=self._channels.status_ping_role_id, actor_id=actor_id
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="status.silence_up",
                target_type="guild",
                target_id=guild_id,
                details={"silence_up": silence},
            )
        return chosen

    async def set_ping_role(self, actor_id: int, guild_id: int, role_id: int | None) -> repo.GuildStatusSettings:
        await self._accounts.require_admin(actor_id)
        async with self._pool.acquire() as conn, conn.transaction():
            chosen = await repo.set_ping_role(
                conn, guild_id, role_id, default_silence_up=self._channels.status_silence_up, actor_id=actor_id
            )
            await audit.record(
                conn,
                actor_id=actor_id,
                action="status.ping_role",
                target_type="guild",
                target_id=guild_id,
                details={"role_id": role_id},
            )
        return chosen


def _uptime_key(key: str, hour: int) -> str:
    return f"{PREFIX}uptime:{key}:{hour}"


def _source_problem(error: AppError) -> str:
    if error.code is ErrorCode.SERVICE_UNAVAILABLE:
        return "not answering"
    if error.code is ErrorCode.RESOURCE_NOT_FOUND:
        return "status page not found"
    return "answered with an error"


async def _guarded(run: Callable[[], Awaitable[ProbeResult]]) -> ProbeResult:
    """A probe that hangs or breaks is a service that is down, never a failed tick."""
    try:
        return await asyncio.wait_for(run(), PROBE_TIMEOUT)
    except TimeoutError:
        return ProbeResult(False, None, "not answering")
    except (OSError, RedisError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return ProbeResult(False, None, "not answering")
    except AppError:
        return ProbeResult(False, None, "answered with an error")
