"""Status logic without I/O: Kuma parsing, transitions and flap folding, the embed, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, Settings
from bot.integrations.kuma import KumaBeat, KumaMonitor, KumaStatus, parse_kuma_time, parse_metrics
from bot.services.status import (
    AlertRecord,
    Overall,
    ServiceStatus,
    Source,
    State,
    StatusGroup,
    StatusSnapshot,
    fold_transitions,
    run_start,
)
from cogs.status import content_hash, human_duration, status_embed, transition_text

SAMPLES = Path("/work/shared/specs/uptime-kuma-samples")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def snapshot(
    states: dict[str, State], *, taken: float = 0, source: Source = Source.OK, **since: float
) -> StatusSnapshot:
    services = [
        ServiceStatus(
            key=key,
            name=key.split(":")[1].title(),
            group="Media",
            state=state,
            since=at(since.get(key.split(":")[1], taken)),
        )
        for key, state in states.items()
    ]
    return StatusSnapshot(taken_at=at(taken), source=source, groups=[StatusGroup(name="Media", services=services)])


# --- Kuma parsing --------------------------------------------------------------------


def test_kuma_times_without_zone_are_utc() -> None:
    assert parse_kuma_time("2026-11-25 18:52:10.769") == datetime(2026, 11, 25, 18, 52, 10, 769000, tzinfo=UTC)
    assert parse_kuma_time("2026-11-25T18:52:10Z") == datetime(2026, 11, 25, 18, 52, 10, tzinfo=UTC)


def test_monitor_model_drops_the_url_and_reads_cert_days() -> None:
    monitor = KumaMonitor.model_validate(
        {
            "id": 3,
            "name": "Plex",
            "sendUrl": 1,
            "type": "http",
            "url": "https://plex.home.example",
            "certExpiryDaysRemaining": 9,
        }
    )
    assert "plex.home.example" not in monitor.model_dump_json()
    assert monitor.cert_days == 9
    assert KumaMonitor.model_validate({"id": 1, "name": "x", "certExpiryDaysRemaining": ""}).cert_days is None


def test_metrics_keep_names_and_numbers_and_drop_every_address() -> None:
    metrics = parse_metrics((SAMPLES / "metrics.txt").read_text())
    assert set(metrics.by_name) == {"Media Web (UP)", "Media Keyword (UP)", "Media Backend (DOWN)"}
    web = metrics.find(99, "Media Web (UP)")
    assert web is not None and web.status is KumaStatus.UP and web.response_ms == 8
    backend = metrics.find(99, "Media Backend (DOWN)")
    assert backend is not None and backend.status is KumaStatus.DOWN and backend.response_ms is None  # -1
    assert "127.0.0.1" not in repr(metrics) and "8099" not in repr(metrics)


def test_metrics_by_id_on_2x_and_ambiguous_names_are_not_guessed() -> None:
    text = "\n".join(
        [
            'monitor_status{monitor_id="7",monitor_name="Web",monitor_url="https://a.example"} 0',
            'monitor_status{monitor_id="8",monitor_name="Web",monitor_url="https://b.example"} 1',
            'monitor_response_time{monitor_id="8",monitor_name="Web",monitor_hostname="10.0.0.1"} 12.5',
            'monitor_cert_days_remaining{monitor_id="8",monitor_name="Web"} 5',
            'monitor_status{monitor_name="Quote \\"x\\"",monitor_url="null"} 2',
            "process_cpu_seconds_total 0.9",
        ]
    )
    metrics = parse_metrics(text)
    assert metrics.find(7, "Web") is not None and metrics.find(7, "Web").status is KumaStatus.DOWN  # type: ignore[union-attr]
    eight = metrics.find(8, "Web")
    assert eight is not None and eight.response_ms == 12.5 and eight.cert_days == 5
    assert metrics.find(99, "Web") is None  # two monitors share the name: no guess
    quoted = metrics.find(1, 'Quote "x"')
    assert quoted is not None and quoted.status is KumaStatus.PENDING


def test_run_start_knows_whether_the_history_reaches_the_change() -> None:
    beats = [KumaBeat(status=s, time=at(i * 60)) for i, s in enumerate([1, 0, 0, 0])]
    assert run_start(beats) == (at(60), True)
    assert run_start(beats[1:]) == (at(60), False)
    assert run_start([]) == (None, False)


# --- transitions ---------------------------------------------------------------------------


def test_first_sight_is_recorded_not_announced_and_pending_keeps_the_last_state() -> None:
    records, transitions = fold_transitions({}, snapshot({"kuma:plex": State.DOWN}), flap_window=300)
    assert transitions == [] and records["kuma:plex"].state == "down"
    records, transitions = fold_transitions(records, snapshot({"kuma:plex": State.PENDING}, taken=60), flap_window=300)
    assert transitions == [] and records["kuma:plex"].state == "down"


def test_down_then_up_with_the_outage_length() -> None:
    records, _ = fold_transitions({}, snapshot({"kuma:plex": State.UP}), flap_window=300)
    records, down = fold_transitions(records, snapshot({"kuma:plex": State.DOWN}, taken=60, plex=55), flap_window=300)
    assert [(t.kind, t.state, t.since) for t in down] == [("down", "down", at(55))]
    records, up = fold_transitions(records, snapshot({"kuma:plex": State.UP}, taken=400, plex=355), flap_window=300)
    assert [(t.kind, t.outage_seconds) for t in up] == [("up", 300.0)]


def test_flapping_folds_into_the_last_post_until_it_settles() -> None:
    records, _ = fold_transitions({}, snapshot({"kuma:plex": State.UP}), flap_window=300)
    records, first = fold_transitions(records, snapshot({"kuma:plex": State.DOWN}, taken=60), flap_window=300)
    assert first[0].kind == "down"
    records["kuma:plex"].posts[1] = 111  # the down post in channel 1
    records, up = fold_transitions(records, snapshot({"kuma:plex": State.UP}, taken=120), flap_window=300)
    assert up[0].kind == "up"
    records["kuma:plex"].posts[1] = 222  # the up post
    records, again = fold_transitions(records, snapshot({"kuma:plex": State.DOWN}, taken=180), flap_window=300)
    assert [(t.kind, t.downs, t.posts, t.episode_start) for t in again] == [("flap", 2, {1: 222}, at(60))]
    records, up2 = fold_transitions(records, snapshot({"kuma:plex": State.UP}, taken=200), flap_window=300)
    assert [(t.kind, t.state, t.posts) for t in up2] == [("flap", "up", {1: 222})]
    # quiet for longer than the window: the next outage is news again
    records, later = fold_transitions(records, snapshot({"kuma:plex": State.DOWN}, taken=900), flap_window=300)
    assert [(t.kind, t.downs) for t in later] == [("down", 1)]
    assert records["kuma:plex"].posts == {}


def test_flap_window_zero_never_folds() -> None:
    records: dict[str, AlertRecord] = {}
    kinds = []
    for i, state in enumerate([State.UP, State.DOWN, State.UP, State.DOWN, State.UP]):
        records, transitions = fold_transitions(records, snapshot({"kuma:plex": state}, taken=i), flap_window=0)
        kinds += [t.kind for t in transitions]
    assert kinds == ["down", "up", "down", "up"]


def test_records_of_gone_services_are_dropped_but_kept_while_kuma_is_unavailable() -> None:
    records, _ = fold_transitions({}, snapshot({"kuma:plex": State.UP, "own:redis": State.UP}), flap_window=0)
    kept, _ = fold_transitions(records, snapshot({"own:redis": State.UP}, source=Source.UNAVAILABLE), flap_window=0)
    assert set(kept) == {"kuma:plex", "own:redis"}
    dropped, _ = fold_transitions(records, snapshot({"own:redis": State.UP}), flap_window=0)
    assert set(dropped) == {"own:redis"}


def test_overall_state() -> None:
    assert snapshot({"kuma:a": State.UP}).overall is Overall.OPERATIONAL
    assert snapshot({"kuma:a": State.UP, "kuma:b": State.PENDING}).overall is Overall.DEGRADED
    assert snapshot({"own:a": State.UP}, source=Source.UNAVAILABLE).overall is Overall.DEGRADED
    assert snapshot({"kuma:a": State.DOWN, "kuma:b": State.PENDING}).overall is Overall.OUTAGE
    assert StatusSnapshot(taken_at=T0).overall is Overall.EMPTY


# --- rendering -----------------------------------------------------------------------------


def rich_snapshot(**changes: Any) -> StatusSnapshot:
    plex = ServiceStatus(
        key="kuma:1",
        name="Plex",
        group="Media",
        state=State.UP,
        ping_ms=35.4,
        uptime_24h=0.99996,
        since=T0,
        cert_days=9,
    )
    nas = ServiceStatus(key="kuma:2", name="@everyone **NAS**", group="Media", state=State.DOWN, since=at(60))
    base = StatusSnapshot(
        taken_at=at(120),
        title="Media Services",
        source=Source.OK,
        groups=[StatusGroup(name="Media", services=[plex, nas])],
        incidents=["Router swap tonight"],
    )
    return base.model_copy(update=changes)


def test_status_embed_shows_times_and_escapes_names() -> None:
    embed = status_embed(rich_snapshot(), board=False, poll_seconds=60).to_dict()
    assert embed["color"] == 0xE74C3C and embed["title"] == "⛔ Media Services"
    value = embed["fields"][0]["value"]
    assert (
        f"🟢 **Plex** · 35 ms · 99.99 % (24 h) · certificate expires in 9 d · since <t:{int(T0.timestamp())}:R>"
        in value
    )
    assert "@\u200beveryone \\*\\*NAS\\*\\*" in value and "🔴" in value
    assert "**1 of 2 down:**" in embed["description"] and "📣 Router swap tonight" in embed["description"]


def test_board_leaves_out_what_drifts_so_a_new_ping_changes_nothing() -> None:
    board = status_embed(rich_snapshot(), board=True, poll_seconds=60)
    assert "35 ms" not in str(board.to_dict()) and "% (24 h)" not in str(board.to_dict())
    plex = rich_snapshot().groups[0].services[0].model_copy(update={"ping_ms": 80.0, "uptime_24h": 0.95})
    drifted = rich_snapshot(groups=[StatusGroup(name="Media", services=[plex, rich_snapshot().groups[0].services[1]])])
    assert content_hash(status_embed(drifted, board=True, poll_seconds=60)) == content_hash(board)
    later = rich_snapshot(taken_at=at(999))
    assert content_hash(status_embed(later, board=True, poll_seconds=60)) == content_hash(board)


def test_unavailable_source_is_a_warning_not_an_outage() -> None:
    own = StatusGroup(
        name="MediaNest", services=[ServiceStatus(key="own:redis", name="Redis", group="MediaNest", state=State.UP)]
    )
    dead = StatusSnapshot(taken_at=T0, source=Source.UNAVAILABLE, source_problem="not answering", groups=[own])
    embed = status_embed(dead, board=True, poll_seconds=60).to_dict()
    assert embed["color"] == 0xF1C40F
    assert "**Status source unavailable**: Uptime Kuma is not answering" in embed["description"]


def test_huge_pages_stay_within_discords_embed_limits() -> None:
    services = [
        ServiceStatus(
            key=f"kuma:{i}",
            name=f"Service number {i} with a long name",
            group=f"G{i % 30}",
            state=State.DOWN,
            since=T0,
            detail="not answering",
        )
        for i in range(400)
    ]
    groups = [StatusGroup(name=f"Group {g}", services=[s for s in services if s.group == f"G{g}"]) for g in range(30)]
    embed = status_embed(StatusSnapshot(taken_at=T0, groups=groups), board=False, poll_seconds=60)
    assert len(embed) <= 6000 and len(embed.fields) <= 25
    assert all(len(f.value or "") <= 1024 for f in embed.fields)


def test_transition_texts() -> None:
    from bot.services.status import Transition

    down = Transition(key="k", name="Plex", group="Media", kind="down", state="down", at=at(60), since=at(55))
    assert transition_text(down) == f"🔴 **Plex** (Media) is down since <t:{int(at(55).timestamp())}:t>."
    up = Transition(key="k", name="Plex", group="Media", kind="up", state="up", at=at(400), outage_seconds=250)
    assert transition_text(up) == "🟢 **Plex** (Media) is back up after 4 min 10 s."
    flap = Transition(
        key="k", name="@here", group="Media", kind="flap", state="up", at=at(400), downs=3, episode_start=at(0)
    )
    assert (
        "@\u200bhere" in transition_text(flap)
        and "down 3 times" in transition_text(flap)
        and "up now" in transition_text(flap)
    )


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5 s"), (60, "1 min"), (250, "4 min 10 s"), (3600, "1 h"), (3 * 86400 + 7200, "3 d 2 h")]
)
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


# --- settings ------------------------------------------------------------------------------


def test_status_settings(make_settings: Any) -> None:
    settings: Settings = make_settings(STATUS_POLL_SECONDS="1", STATUS_SILENCE_UP="true", STATUS_PING_ROLE_ID="42")
    assert settings.channels.status_poll_seconds == 1 and settings.channels.status_silence_up
    assert settings.channels.status_ping_role_id == 42 and settings.channels.status_flap_window_seconds == 300
    with pytest.raises(ConfigError) as bad:
        make_settings(STATUS_POLL_SECONDS="0", UPTIME_KUMA_URL="http://kuma.lan:3001")
    names = {name for name, _ in bad.value.problems}
    assert names == {"STATUS_POLL_SECONDS", "UPTIME_KUMA_STATUS_SLUG"}
