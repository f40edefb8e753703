"""The fake Uptime Kuma answers like the captured 1.23.17 instance.

The strongest checks rebuild the captured instance (same monitors, same beat
times) and compare whole answers with the sample files, byte for byte where
Express's output is deterministic.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.kuma import (
    LEAKABLE_ADDRESSES,
    FakeUptimeKuma,
    Monitor,
    Status,
    express_etag,
    populate_media_page,
)

SAMPLES = Path("/work/shared/specs/uptime-kuma-samples")
KUMA_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def structure(value: Any) -> Any:
    """Keys (recursively) and JSON types, so two answers can be compared by shape."""
    if isinstance(value, dict):
        return {key: structure(item) for key, item in value.items()}
    if isinstance(value, list):
        return [structure(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def build_captured_instance(kuma: FakeUptimeKuma) -> list[Monitor]:
    """The monitors of the instance the samples were captured from."""
    kuma.config["description"] = "Local test peer for the Discord bot"
    return [
        kuma.add_monitor("Media", "Media Web (UP)", url="http://127.0.0.1:8099/", status=None),
        kuma.add_monitor("Media", "Media Keyword (UP)", "keyword", url="http://127.0.0.1:8099/", status=None),
        kuma.add_monitor("Media", "Media Backend (DOWN)", url="http://127.0.0.1:59999/", status=None),
    ]


def replay(kuma: FakeUptimeKuma, monitors: list[Monitor], answer: dict[str, Any]) -> None:
    """Feed the beats of a captured heartbeat answer into the fake, at their times."""
    for monitor in monitors:
        monitor.heartbeats.clear()
        for beat in answer["heartbeatList"][str(monitor.id)]:
            kuma.set_status(monitor, beat["status"], ping=beat["ping"], at=utc(beat["time"]))


@pytest.fixture
async def kuma() -> AsyncIterator[FakeUptimeKuma]:
    server = FakeUptimeKuma(slug="media")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def test_status_page_is_the_captured_answer(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    build_captured_instance(kuma)
    response = await client.get(kuma.status_page_url)

    expected = (SAMPLES / "status-page_media.json").read_bytes()
    assert response.status_code == 200
    assert response.content == expected
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    # The ETag of the .headers capture: same bytes, same Express weak ETag.
    assert response.headers["etag"] == 'W/"245-w5vyO4aUBNVI/I+JpAUM/DfbnfE"'
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["cache-control"] == "no-cache"

    again = await client.get(kuma.status_page_url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_status_page_structure_with_every_option(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    populate_media_page(kuma)
    kuma.set_incident("Plex is slow", "Transcoder overloaded")
    kuma.config["showCertificateExpiry"] = True
    data = (await client.get(kuma.status_page_url)).json()

    captured = sample("status-page_media.json")
    assert set(data["config"]) == set(captured["config"])
    assert set(data) == set(captured)
    assert set(data["incident"]) == {
        "id",
        "style",
        "title",
        "content",
        "pin",
        "createdDate",
        "lastUpdatedDate",
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", data["incident"]["createdDate"])
    base_keys = set(captured["publicGroupList"][0]["monitorList"][0])
    monitors = {m["name"]: m for g in data["publicGroupList"] for m in g["monitorList"]}
    assert set(monitors) == {"Plex", "Overseerr", "NAS", "Downloads"}  # "Router" is on no page
    assert set(monitors["Plex"]) == base_keys | {"url", "certExpiryDaysRemaining", "validCert"}
    assert monitors["Plex"]["url"] == "https://plex.home.example:32400/identity"
    assert monitors["Plex"]["sendUrl"] == 1
    assert set(monitors["Overseerr"]) == base_keys  # clickable link off: URL withheld
    assert set(monitors["NAS"]) == base_keys  # hostnames never reach the status page
    for group in data["publicGroupList"]:
        assert set(group) == set(captured["publicGroupList"][0])


async def test_heartbeats_match_every_capture(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    monitors = build_captured_instance(kuma)
    for name in (
        "status-page_heartbeat_media.json",
        "status-page_heartbeat_media_after_outage.json",
        "status-page_heartbeat_media_recovered.json",
    ):
        captured = sample(name)
        replay(kuma, monitors, captured)
        last_beat = max(utc(b["time"]) for beats in captured["heartbeatList"].values() for b in beats)
        kuma.set_now(last_beat)
        response = await client.get(kuma.heartbeat_url)
        assert response.content == (SAMPLES / name).read_bytes(), name  # incl. the uptime ratios
        assert structure(response.json()) == structure(captured)


async def test_flipping_a_monitor_shows_as_latest_beat(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    plex = kuma.add_monitor("Media", "Plex", url="https://plex.example", ping=42)
    kuma.advance(20)
    kuma.set_status(plex, Status.DOWN, msg="connect ECONNREFUSED")
    data = (await client.get(kuma.heartbeat_url)).json()

    beats = data["heartbeatList"][str(plex.id)]
    assert [b["status"] for b in beats] == [1, 0]  # oldest first, newest last
    assert beats[-1] == {"status": 0, "time": beats[-1]["time"], "msg": "", "ping": None}
    assert all(KUMA_TIME.match(b["time"]) for b in beats)
    assert data["uptimeList"] == {f"{plex.id}_24": 0}  # the down beat carries the only duration

    kuma.advance(20)
    kuma.set_status(plex, Status.UP)
    data = (await client.get(kuma.heartbeat_url)).json()
    assert data["heartbeatList"][str(plex.id)][-1]["ping"] == 42
    assert data["uptimeList"][f"{plex.id}_24"] == 0.5

    kuma.set_uptime(plex, 0.998)
    assert (await client.get(kuma.heartbeat_url)).json()["uptimeList"][f"{plex.id}_24"] == 0.998


async def test_heartbeat_answer_keeps_only_the_last_50(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    nas = kuma.add_monitor("Infra", "NAS", "ping", hostname="192.168.1.10")
    for _ in range(60):
        kuma.advance(20)
        kuma.set_status(nas, Status.DOWN)
    beats = (await client.get(kuma.heartbeat_url)).json()["heartbeatList"][str(nas.id)]
    assert len(beats) == 50 and len(nas.heartbeats) == 61
    assert beats[-1]["time"] > beats[0]["time"]


async def test_metrics_is_the_captured_text(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    monitors = build_captured_instance(kuma)
    replay(kuma, monitors, sample("status-page_heartbeat_media.json"))
    response = await client.get(kuma.metrics_url, auth=("", kuma.api_key))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.text == (SAMPLES / "metrics.txt").read_text()


async def test_metrics_labels_carry_addresses(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    populate_media_page(kuma)
    text = (await client.get(kuma.metrics_url, headers=kuma.metrics_headers())).text
    assert (
        'monitor_status{monitor_name="Downloads",monitor_type="port",monitor_url="null",'
        'monitor_hostname="nas.lan",monitor_port="8989"} 1'
    ) in text
    assert (
        'monitor_cert_days_remaining{monitor_name="Plex",monitor_type="http",'
        'monitor_url="https://plex.home.example:32400/identity",monitor_hostname="null",'
        'monitor_port="null"} 60'
    ) in text
    assert all(address in text for address in LEAKABLE_ADDRESSES)
    assert 'monitor_name="Router"' in text  # metrics cover monitors on no status page


async def test_metrics_auth(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    kuma.add_monitor("Media", "Plex")
    for auth in (None, ("", "uk1_wrong"), ("admin", "admin-password-1")):
        response = await client.get(kuma.metrics_url, auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Basic"
        assert response.content == b""
    bad_header = await client.get(kuma.metrics_url, headers={"Authorization": "Basic !!!"})
    assert bad_header.status_code == 401
    assert (await client.get(kuma.metrics_url, auth=("anyone", kuma.api_key))).status_code == 200

    kuma.revoke_api_key()
    assert (await client.get(kuma.metrics_url, headers=kuma.metrics_headers())).status_code == 401

    kuma.metrics_auth = "password"
    assert (await client.get(kuma.metrics_url, auth=("admin", "admin-password-1"))).status_code == 200
    kuma.metrics_auth = "none"
    assert (await client.get(kuma.metrics_url)).status_code == 200


async def test_unknown_slug_hangs_like_1_23(kuma: FakeUptimeKuma) -> None:
    async with httpx.AsyncClient(timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{kuma.url}/api/status-page/Media")  # slugs are case-sensitive in 1.23
        heartbeat = await http.get(f"{kuma.url}/api/status-page/heartbeat/nope")
    assert heartbeat.status_code == 200
    assert heartbeat.content == (SAMPLES / "status-page_heartbeat_unknown-slug.json").read_bytes()


async def test_unknown_slug_404_like_2_x(client: httpx.AsyncClient) -> None:
    kuma = FakeUptimeKuma(slug="media", hang_unknown=False)
    await kuma.start()
    try:
        response = await client.get(f"{kuma.url}/api/status-page/nope")
    finally:
        await kuma.stop()
    assert response.status_code == 404
    assert response.json() == {"status": "fail", "msg": "Status Page Not Found"}


async def test_latency_and_outage(kuma: FakeUptimeKuma) -> None:
    kuma.set_latency(2.0)
    async with httpx.AsyncClient(timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(kuma.heartbeat_url)
        kuma.set_latency(0)
        await kuma.go_down()
        with pytest.raises(httpx.ConnectError):
            await http.get(kuma.heartbeat_url)
        await kuma.come_up()
        assert (await http.get(kuma.heartbeat_url)).status_code == 200
    # The refused request never arrived, so only two were recorded.
    assert len(kuma.calls("GET", "/api/status-page/heartbeat/")) == 2


async def test_apicache_serves_stale_answers(client: httpx.AsyncClient) -> None:
    kuma = FakeUptimeKuma(apicache=True)
    plex = kuma.add_monitor("Media", "Plex")
    await kuma.start()
    try:
        await client.get(kuma.heartbeat_url)
        kuma.set_status(plex, Status.DOWN)
        stale = (await client.get(kuma.heartbeat_url)).json()
        kuma.advance(61)
        fresh = (await client.get(kuma.heartbeat_url)).json()
    finally:
        await kuma.stop()
    assert stale["heartbeatList"]["1"][-1]["status"] == 1
    assert fresh["heartbeatList"]["1"][-1]["status"] == 0


async def test_push_badge_and_spa_fallback(kuma: FakeUptimeKuma, client: httpx.AsyncClient) -> None:
    backup = kuma.add_monitor("Infra", "Backup", "push", push_token="tok123", status=None)
    assert (await client.get(f"{kuma.url}/api/push/tok123", params={"status": "up", "ping": "9"})).json() == {
        "ok": True
    }
    assert backup.last is not None and backup.last.status == Status.UP and backup.last.ping == 9
    missing = await client.get(f"{kuma.url}/api/push/nope")
    assert (missing.status_code, missing.json()) == (
        404,
        {"ok": False, "msg": "Monitor not found or not active."},
    )

    badge = await client.get(f"{kuma.url}/api/badge/{backup.id}/status")
    assert badge.headers["content-type"].startswith("image/svg+xml")
    assert 'aria-label="Status: Up"' in badge.text
    kuma.set_status(backup, Status.DOWN)
    assert "Status: Down" in (await client.get(f"{kuma.url}/api/badge/{backup.id}/status")).text
    assert 'aria-label="N/A"' in (await client.get(f"{kuma.url}/api/badge/999/status")).text

    spa = await client.get(f"{kuma.url}/api/status-page/")  # a wrong path: HTML, not 404
    assert spa.status_code == 200 and spa.headers["content-type"].startswith("text/html")


def test_express_etag_matches_capture() -> None:
    body = (SAMPLES / "status-page_media.json").read_bytes()
    assert express_etag(body) == 'W/"245-w5vyO4aUBNVI/I+JpAUM/DfbnfE"'
