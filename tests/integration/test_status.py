"""StatusService against real PostgreSQL and Redis, the Uptime Kuma, Plex and Overseerr fakes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq.constants import default_queue_name, health_check_key_suffix

from bot.config import Settings
from bot.deps import Dependencies
from bot.errors import AppError, ErrorCode
from bot.notices import Notice
from bot.services.container import Services
from bot.services.status import Source, State, StatusService, StatusSnapshot
from tests.fakes.base import wait_for
from tests.fakes.kuma import DEFAULT_API_KEY, LEAKABLE_ADDRESSES, FakeUptimeKuma, populate_media_page
from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.plex import FakePlexServer
from tests.integration.conftest import ADMIN_TOKEN

ADMIN = 1001
MEMBER = 1002


class Silent:
    async def notify(self, notice: Notice) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def kuma() -> AsyncIterator[FakeUptimeKuma]:
    server = FakeUptimeKuma(slug="media")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def overseerr() -> AsyncIterator[FakeOverseerr]:
    server = FakeOverseerr()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def open_status(
    make_settings: Callable[..., Settings],
    database: str,
    kuma: FakeUptimeKuma,
    pms: FakePlexServer,
    overseerr: FakeOverseerr,
) -> AsyncIterator[Callable[..., Any]]:
    """Open real dependencies for the given settings; returns (deps, status service)."""
    opened: list[Dependencies] = []

    async def open_(clock: Clock | None = None, **env: Any) -> tuple[Dependencies, StatusService]:
        base = {
            "UPTIME_KUMA_URL": kuma.url,
            "UPTIME_KUMA_STATUS_SLUG": "media",
            "UPTIME_KUMA_API_KEY": DEFAULT_API_KEY,
            "UPTIME_KUMA_TIMEOUT_SECONDS": "0.5",
            "PLEX_SERVER_URL": pms.url,
            "PLEX_SERVER_TOKEN": ADMIN_TOKEN,
            "OVERSEERR_URL": overseerr.url,
            "OVERSEERR_API_KEY": overseerr.api_key,
            "ADMIN_DISCORD_IDS": str(ADMIN),
            "STATUS_POLL_SECONDS": "1",
        }
        deps = await Dependencies.open(make_settings(database_url=database, **{**base, **env}))
        if not opened:
            await deps.redis.flushdb()
            await deps.pool.execute("TRUNCATE users, audit_log, status_messages, status_settings CASCADE")
        opened.append(deps)
        accounts = Services.build(deps, Silent()).accounts
        service = StatusService(
            pool=deps.pool,
            redis=deps.redis,
            arq=deps.arq,
            accounts=accounts,
            settings=deps.settings,
            kuma=deps.kuma,
            plex=deps.plex_server,
            overseerr=deps.overseerr_probe,
            **({"clock": clock} if clock else {}),
        )
        return deps, service

    yield open_
    for deps in reversed(opened):
        await deps.close()


def by_name(snapshot: StatusSnapshot, group: str) -> dict[str, Any]:
    found = next(g for g in snapshot.groups if g.name == group)
    return {s.name: s for s in found.services}


async def test_snapshot_is_grouped_as_the_page_with_own_probes_and_never_an_address(
    open_status: Any, kuma: FakeUptimeKuma, overseerr: FakeOverseerr, pms: FakePlexServer
) -> None:
    monitors = populate_media_page(kuma)
    kuma.set_status(monitors["downloads"], 0)
    kuma.set_uptime(monitors["nas"], 0.9975)
    _, service = await open_status()
    snapshot = await service.collect(None, record=True)

    assert snapshot.source is Source.OK and snapshot.title == "Media Services"
    assert [g.name for g in snapshot.groups] == ["Media", "Infrastructure", "MediaNest"]
    media = by_name(snapshot, "Media")
    assert media["Plex"].state is State.UP and media["Plex"].ping_ms == 35 and media["Plex"].uptime_24h == 1
    infra = by_name(snapshot, "Infrastructure")
    assert infra["NAS"].uptime_24h == 0.9975
    assert infra["Downloads"].state is State.DOWN and infra["Downloads"].ping_ms is None
    own = by_name(snapshot, "MediaNest")
    assert list(own) == ["Plex", "Overseerr", "Database", "Redis", "Download queue"]
    assert all(
        own[n].state is State.UP and own[n].ping_ms is not None for n in ("Plex", "Overseerr", "Database", "Redis")
    )
    assert own["Download queue"].state is State.DOWN
    assert own["Download queue"].detail == "0 waiting; no worker has reported in"
    assert own["Redis"].uptime_24h == 1.0

    dumped = snapshot.model_dump_json()
    for address in (*LEAKABLE_ADDRESSES, "127.0.0.1", str(kuma.port), str(pms.port), str(overseerr.port)):
        assert address not in dumped
    assert [r.path for r in kuma.requests] == ["/api/status-page/media", "/api/status-page/heartbeat/media", "/metrics"]


async def test_metrics_are_fresher_than_kumas_cached_heartbeats_and_optional(
    open_status: Any, kuma: FakeUptimeKuma
) -> None:
    kuma.apicache = True
    monitors = populate_media_page(kuma)
    _, with_key = await open_status()
    _, without_key = await open_status(UPTIME_KUMA_API_KEY="")
    first = await with_key.collect(None, record=False)
    kuma.set_status(monitors["nas"], 0)  # Kuma's heartbeat answer stays cached for a minute
    stale = await without_key.collect(first, record=False)
    fresh = await with_key.collect(first, record=False)
    assert by_name(stale, "Infrastructure")["NAS"].state is State.UP
    assert by_name(fresh, "Infrastructure")["NAS"].state is State.DOWN

    kuma.revoke_api_key()  # a bad key costs the freshness, not the board
    revoked = await with_key.collect(first, record=False)
    assert revoked.source is Source.OK and by_name(revoked, "Infrastructure")["NAS"].state is State.UP


async def test_dead_slow_or_misconfigured_kuma_is_source_unavailable_and_the_breaker_fails_fast(
    open_status: Any, kuma: FakeUptimeKuma
) -> None:
    populate_media_page(kuma)
    deps, service = await open_status()
    kuma.set_latency(3)
    for _ in range(2):  # status page, then heartbeats are never reached: one failure per tick
        snapshot = await service.collect(None, record=False)
        assert snapshot.source is Source.UNAVAILABLE and snapshot.source_problem == "not answering"
        assert [g.name for g in snapshot.groups] == ["MediaNest"]  # no Kuma service shown as down
    await service.collect(None, record=False)
    assert deps.breakers["uptime-kuma"].state.value == "open"
    seen = len(kuma.requests)
    started = time.monotonic()
    snapshot = await service.collect(None, record=False)
    assert snapshot.source is Source.UNAVAILABLE and time.monotonic() - started < 0.3
    assert len(kuma.requests) == seen  # open: no request went out

    kuma.set_latency(0)  # the breaker half-opens after one poll interval and the next tick recovers

    async def recovered() -> bool:
        return (await service.collect(None, record=False)).source is Source.OK

    await wait_for(recovered, timeout=5, interval=0.2, what="Kuma to be read again")

    _, unknown = await open_status(UPTIME_KUMA_STATUS_SLUG="nope")  # 1.23 never answers an unknown slug
    assert (await unknown.collect(None, record=False)).source_problem == "not answering"
    kuma.hang_unknown = False  # 2.x says 404
    _, missing = await open_status(UPTIME_KUMA_STATUS_SLUG="nope")
    assert (await missing.collect(None, record=False)).source_problem == "status page not found"
    _, wrong = await open_status(UPTIME_KUMA_URL=f"{kuma.url}/dashboard")  # the web app's HTML, not JSON
    assert (await wrong.collect(None, record=False)).source_problem == "answered with an error"


async def test_refresh_announces_changes_once_folds_flaps_and_keeps_since(
    open_status: Any, kuma: FakeUptimeKuma
) -> None:
    monitors = populate_media_page(kuma)
    clock = Clock()
    _, service = await open_status(clock=clock, STATUS_FLAP_WINDOW_SECONDS="300")
    first = await service.refresh()
    assert first.transitions == []
    nas_since = by_name(first.snapshot, "Infrastructure")["NAS"].since

    clock.advance(60)
    quiet = await service.refresh()
    assert quiet.transitions == [] and by_name(quiet.snapshot, "Infrastructure")["NAS"].since == nas_since

    clock.advance(60)
    down_at = kuma.set_status(monitors["nas"], 0).time
    down = await service.refresh()
    assert [(t.name, t.kind) for t in down.transitions] == [("NAS", "down")]
    assert abs((down.transitions[0].since or clock.now) - down_at) < timedelta(milliseconds=1)  # Kuma's own time
    await service.remember_post("kuma:3", 500, 9001)

    clock.advance(60)
    kuma.advance(120)
    kuma.set_status(monitors["nas"], 1)
    up = await service.refresh()
    assert [(t.kind, round(t.outage_seconds or 0)) for t in up.transitions] == [("up", 120)]
    await service.remember_post("kuma:3", 500, 9002)

    clock.advance(60)
    kuma.set_status(monitors["nas"], 0)
    flap = await service.refresh()
    assert [(t.kind, t.downs, t.posts) for t in flap.transitions] == [("flap", 2, {500: 9002})]
    assert (await service.refresh()).transitions == []  # nothing new: nothing to say


async def test_only_one_process_leads_and_hands_over(open_status: Any) -> None:
    _, first = await open_status()
    _, second = await open_status()
    assert await first.lead() is True
    assert await second.lead() is False
    assert await first.lead() is True  # renewed
    await first.step_down()
    assert await second.lead() is True
    assert await first.lead() is False


async def test_boards_from_env_and_admins_with_per_server_alert_settings(open_status: Any) -> None:
    deps, service = await open_status(STATUS_CHANNEL_IDS="11,12", STATUS_PING_ROLE_ID="77")
    assert [(b.channel_id, b.ping_role_id, b.silence_up) for b in await service.boards()] == [
        (11, 77, False),
        (12, 77, False),
    ]
    with pytest.raises(AppError) as refused:
        await service.add_channel(MEMBER, 5, 13)
    assert refused.value.code is ErrorCode.INSUFFICIENT_PRIVILEGES

    assert await service.add_channel(ADMIN, 5, 13) is True
    assert await service.add_channel(ADMIN, 5, 13) is False
    await service.save_board(12, 5, 120, "hash")
    assert await service.remove_channel(ADMIN, 5, 12) == 120
    with pytest.raises(AppError) as gone:
        await service.remove_channel(ADMIN, 5, 12)
    assert gone.value.code is ErrorCode.RESOURCE_NOT_FOUND
    await service.save_board(11, 5, 110, "hash")
    assert [(b.channel_id, b.message_id, b.guild_id) for b in await service.boards()] == [
        (11, 110, 5),
        (13, None, 5),
    ]

    await service.set_ping_role(ADMIN, 5, None)
    await service.set_silence_up(ADMIN, 5, True)
    assert {(b.channel_id, b.ping_role_id, b.silence_up) for b in await service.boards()} == {
        (11, None, True),
        (13, None, True),
    }
    assert await service.forget_board_message(11, 110) is True
    assert await service.forget_board_message(11, 110) is False
    assert next(b for b in await service.boards() if b.channel_id == 11).message_id is None

    # a restart with the same environment keeps what admins decided
    _, restarted = await open_status(STATUS_CHANNEL_IDS="11,12", STATUS_PING_ROLE_ID="77")
    assert [b.channel_id for b in await restarted.boards()] == [11, 13]
    actions = await deps.pool.fetch("SELECT actor_id, action, details FROM audit_log ORDER BY id")
    assert [(r["actor_id"], r["action"]) for r in actions] == [
        (ADMIN, "status.add_channel"),
        (ADMIN, "status.remove_channel"),
        (ADMIN, "status.ping_role"),
        (ADMIN, "status.silence_up"),
    ]


async def test_cached_snapshot_freshness_and_own_uptime_tallies(open_status: Any, kuma: FakeUptimeKuma) -> None:
    populate_media_page(kuma)
    clock = Clock()
    deps, service = await open_status(clock=clock)
    await service.refresh()
    assert await service.cached() is not None
    clock.advance(30)
    assert await service.cached() is None  # stale after about one poll interval: /status reads anew

    await deps.redis.set(default_queue_name + health_check_key_suffix, "a worker", ex=60)
    refreshed = await service.refresh()
    queue = by_name(refreshed.snapshot, "MediaNest")["Download queue"]
    assert queue.state is State.UP and queue.uptime_24h == 0.5  # one tick down, one up
    assert [t.kind for t in refreshed.transitions] == ["up"]


async def test_overseerr_and_plex_probes_follow_their_services(
    open_status: Any, overseerr: FakeOverseerr, pms: FakePlexServer
) -> None:
    _, service = await open_status(UPTIME_KUMA_URL="", UPTIME_KUMA_STATUS_SLUG="")
    up = await service.collect(None, record=False)
    assert up.source is Source.OFF and [g.name for g in up.groups] == ["MediaNest"]
    await overseerr.go_down()
    await pms.go_down()
    down = by_name(await service.collect(None, record=False), "MediaNest")
    assert down["Overseerr"].state is State.DOWN and down["Overseerr"].detail == "not answering"
    assert down["Plex"].state is State.DOWN and down["Database"].state is State.UP
    await overseerr.come_up()
    await pms.come_up()
