"""FakeUptimeKuma: the public HTTP surface of Uptime Kuma 1.23.17 on 127.0.0.1.

Shapes, headers and quirks follow the captures in
/work/shared/specs/uptime-kuma-samples/ and the spec next to them:

* `GET /api/status-page/{slug}`: config / incident / publicGroupList / maintenanceList.
  An unknown slug never gets an answer in 1.23 (the handler returns without
  responding); `hang_unknown=False` gives the 2.x answer, 404 "Status Page Not Found".
* `GET /api/status-page/heartbeat/{slug}`: last 50 beats per public monitor, oldest
  first, and the 24 h uptime ratio. Unknown slug: 200 with empty maps.
* `GET /metrics`: HTTP Basic auth with an API key (`uk<id>_<key>`) as password,
  or username/password, or none; 401 + `WWW-Authenticate: Basic`, empty body.
* `GET /api/badge/{id}/status` and `GET /api/push/{token}` (1.23 accepts GET only).
* Any other GET answers 200 with the SPA's index.html, as Kuma's catch-all route does,
  so a wrong path shows up as "HTML where JSON was expected", not as a 404.

Kuma caches the JSON routes (apicache, 5 min / 1 min); that is off by default so a
test sees a flip at once, and on with `apicache=True` to test staleness (use `advance`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web

from ..base import FakeServer
from .badge import status_badge
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import render_metrics
from .model import Group, Heartbeat, Incident, Maintenance, Monitor, Status

MetricsAuth = Literal["api_key", "password", "none"]

#: A syntactically real key: `uk<row id>_<40-char nanoid>`.
DEFAULT_API_KEY = "uk1_fakeKumaKey0123456789abcdefghijklmnopqr"

_INDEX_HTML = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>Uptime Kuma</title>'
    '</head><body><div id="app"></div></body></html>'
)


def express_etag(body: bytes) -> str:
    """Express's default weak ETag: `W/"<len hex>-<sha1 base64, 27 chars>"`."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


class FakeUptimeKuma(FakeServer):
    """One Kuma instance serving one status page (`slug`).

    Typical use::

        kuma = FakeUptimeKuma(slug="media")
        plex = kuma.add_monitor("Media", "Plex", url="https://plex.example:32400", send_url=True)
        await kuma.start()
        kuma.set_status(plex, 0)          # Plex goes DOWN; the next heartbeat answer shows it
    """

    def __init__(
        self,
        slug: str = "media",
        *,
        title: str = "Media Services",
        description: str | None = None,
        hang_unknown: bool = True,
        metrics_auth: MetricsAuth = "api_key",
        api_key: str = DEFAULT_API_KEY,
        username: str = "admin",
        password: str = "admin-password-1",
        show_cert_expiry: bool = False,
        apicache: bool = False,
        max_beats: int = 50,
    ) -> None:
        self.slug = slug
        self.config: dict[str, Any] = {
            "slug": slug,
            "title": title,
            "description": description,
            "icon": "/icon.svg",
            "theme": "auto",
            "published": True,
            "showTags": False,
            "customCSS": None,
            "footerText": None,
            "showPoweredBy": True,
            "googleAnalyticsId": None,
            "showCertificateExpiry": show_cert_expiry,
        }
        self.hang_unknown = hang_unknown
        self.metrics_auth: MetricsAuth = metrics_auth
        self.api_key = api_key
        self.api_key_active = True
        self.username = username
        self.password = password
        self.apicache = apicache
        self.max_beats = max_beats
        self.latency = 0.0
        self.groups: list[Group] = []
        self.monitors: list[Monitor] = []
        self.incident: Incident | None = None
        self.maintenances: list[Maintenance] = []
        self._clock_offset = timedelta()
        self._next_id = {"group": 1, "monitor": 1, "incident": 1, "maintenance": 1}
        self._cache: dict[str, tuple[datetime, Any]] = {}
        self._closing = asyncio.Event()
        super().__init__()
        self.app.on_response_prepare.append(self._frame_options)

    # ------------------------------------------------------------------ test API

    def now(self) -> datetime:
        """The fake's clock: real UTC time, shifted by `advance`."""
        return datetime.now(UTC) + self._clock_offset

    def set_now(self, moment: datetime) -> None:
        """Pin the clock near `moment` (it keeps ticking), e.g. to replay captured beats."""
        self._clock_offset = moment - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (beat spacing, uptime windows, cache expiry)."""
        self._clock_offset += timedelta(seconds=seconds)

    def add_group(self, name: str) -> Group:
        group = Group(id=self._take_id("group"), name=name, weight=len(self.groups) + 1)
        self.groups.append(group)
        return group

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)

    def add_monitor(
        self,
        group: Group | str | None,
        name: str,
        type: str = "http",
        *,
        url: str | None = None,
        hostname: str | None = None,
        port: int | None = None,
        send_url: bool = False,
        status: int | None = 1,
        ping: float | None = 42,
        cert_days: int | None = None,
        cert_valid: bool = True,
        push_token: str | None = None,
    ) -> Monitor:
        """Add a monitor; it gets a first heartbeat unless `status` is None.

        `group` may be a Group, a group name (created if missing) or None for a
        monitor that exists in Kuma but is not on the status page (it still shows
        in /metrics). `send_url` is the status page's "clickable link" toggle: only
        then is `url` published. `cert_days` gives the monitor TLS info (https).
        """
        if isinstance(group, str):
            group = next((g for g in self.groups if g.name == group), None) or self.add_group(group)
        monitor = Monitor(
            id=self._take_id("monitor"),
            name=name,
            type=type,
            group=group,
            url=url,
            hostname=hostname,
            port=port,
            send_url=send_url,
            default_ping=ping,
            cert_days=cert_days,
            cert_valid=cert_valid,
            push_token=push_token,
        )
        self.monitors.append(monitor)
        if group is not None:
            group.monitors.append(monitor)
        if status is not None:
            self.set_status(monitor, status)
        return monitor

    def monitor(self, name: str) -> Monitor:
        return next(m for m in self.monitors if m.name == name)

    def set_status(
        self,
        monitor: Monitor,
        status: int,
        msg: str = "",
        ping: float | Literal["auto"] | None = "auto",
        at: datetime | None = None,
    ) -> Heartbeat:
        """Append a heartbeat (history is kept; the answer shows the last `max_beats`).

        `ping="auto"` uses the monitor's ping for UP and null otherwise, as Kuma
        records no response time for a failed check. `msg` is stored but, as in
        Kuma, the public answer always has `"msg": ""`.
        """
        if ping == "auto":
            ping = monitor.default_ping if status == Status.UP else None
        assert not isinstance(ping, str)
        return monitor.add_beat(Status(status), at or self.now(), msg, ping)

    def set_uptime(self, monitor: Monitor, ratio: float | None) -> None:
        """Pin the 24 h uptime ratio (0.0-1.0); None goes back to computing it from beats."""
        monitor.uptime_override = ratio

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by `seconds` (a slow or overloaded Kuma)."""
        self.latency = seconds

    def set_incident(self, title: str, content: str, style: str = "warning") -> Incident:
        self.incident = Incident(
            id=self._take_id("incident"),
            title=title,
            content=content,
            style=style,
            created=self.now(),
        )
        return self.incident

    def clear_incident(self) -> None:
        self.incident = None

    def add_maintenance(self, title: str, description: str = "") -> Maintenance:
        maintenance = Maintenance(id=self._take_id("maintenance"), title=title, description=description)
        self.maintenances.append(maintenance)
        return maintenance

    def clear_maintenance(self) -> None:
        self.maintenances.clear()

    def revoke_api_key(self) -> None:
        """Deactivate the API key: /metrics then answers 401 as for a wrong key."""
        self.api_key_active = False

    def metrics_headers(self) -> dict[str, str]:
        """The Authorization header a correctly configured scraper sends (empty username)."""
        token = base64.b64encode(f":{self.api_key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    @property
    def status_page_url(self) -> str:
        return f"{self.url}/api/status-page/{self.slug}"

    @property
    def heartbeat_url(self) -> str:
        return f"{self.url}/api/status-page/heartbeat/{self.slug}"

    @property
    def metrics_url(self) -> str:
        return f"{self.url}/metrics"

    # ------------------------------------------------------------------ lifecycle

    async def start(self, port: int = 0) -> None:
        self._closing = asyncio.Event()
        await super().start(port)

    async def stop(self) -> None:
        # Release hanging / delayed handlers first, or shutdown would wait on them.
        self._closing.set()
        await super().stop()

    # ------------------------------------------------------------------ routes

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/status-page/heartbeat/{slug}", self._heartbeat)
        router.add_get("/api/status-page/{slug}", self._status_page)
        router.add_get("/metrics", self._metrics)
        router.add_get("/api/badge/{id}/status", self._badge_status)
        router.add_get("/api/push/{token}", self._push)
        router.add_get("/{tail:.*}", self._spa_fallback)

    async def _status_page(self, request: web.Request) -> web.StreamResponse:
        await self._delay()
        if request.match_info["slug"] != self.slug:  # 1.23 compares case-sensitively
            if self.hang_unknown:
                await self._closing.wait()
                raise web.HTTPServiceUnavailable()
            return self._express_json(request, {"status": "fail", "msg": "Status Page Not Found"}, 404)
        return self._cached(request, 300, self._status_page_data)

    async def _heartbeat(self, request: web.Request) -> web.StreamResponse:
        await self._delay()
        known = request.match_info["slug"] == self.slug
        return self._cached(request, 60, lambda: self._heartbeat_data(known))

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        await self._delay()
        if not self._metrics_authorized(request.headers.get("Authorization", "")):
            return web.Response(status=401, headers={"WWW-Authenticate": "Basic"})
        return web.Response(
            body=render_metrics(self.monitors).encode(),
            headers={"Content-Type": METRICS_CONTENT_TYPE},
        )

    async def _badge_status(self, request: web.Request) -> web.StreamResponse:
        await self._delay()
        match = re.match(r"\s*[+-]?\d+", request.match_info["id"])  # JS parseInt
        wanted = int(match.group()) if match else None
        monitor = next((m for m in self._public_monitors() if m.id == wanted), None)
        svg = status_badge(monitor, dict(request.query))
        return web.Response(
            text=svg,
            headers={
                "Content-Type": "image/svg+xml; charset=utf-8",
                "Access-Control-Allow-Origin": "*",
            },
        )

    async def _push(self, request: web.Request) -> web.StreamResponse:
        await self._delay()
        token = request.match_info["token"]
        monitor = next((m for m in self.monitors if m.push_token == token and m.active), None)
        if monitor is None:
            return self._express_json(request, {"ok": False, "msg": "Monitor not found or not active."}, 404, False)
        status = Status.UP if request.query.get("status", "up") == "up" else Status.DOWN
        if self.maintenances:
            status = Status.MAINTENANCE
        try:
            ping: float | None = float(request.query.get("ping", "")) or None
        except ValueError:
            ping = None
        self.set_status(monitor, status, msg=request.query.get("msg") or "OK", ping=ping)
        return self._express_json(request, {"ok": True}, apicache_route=False)

    async def _spa_fallback(self, request: web.Request) -> web.StreamResponse:
        await self._delay()
        return web.Response(text=_INDEX_HTML, content_type="text/html", charset="utf-8")

    # ------------------------------------------------------------------ answers

    def _status_page_data(self) -> dict[str, Any]:
        show_cert = bool(self.config["showCertificateExpiry"])
        return {
            "config": dict(self.config),
            "incident": self.incident.to_public_json() if self.incident else None,
            "publicGroupList": [g.to_public_json(show_cert) for g in self.groups],
            "maintenanceList": [m.to_public_json() for m in self.maintenances],
        }

    def _heartbeat_data(self, known_slug: bool) -> dict[str, Any]:
        heartbeats: dict[str, Any] = {}
        uptimes: dict[str, Any] = {}
        if known_slug:
            now = self.now()
            for monitor in self._public_monitors():
                heartbeats[str(monitor.id)] = monitor.recent_public_beats(self.max_beats)
                uptimes[f"{monitor.id}_24"] = monitor.uptime_24h(now)
        return {"heartbeatList": heartbeats, "uptimeList": uptimes}

    def _public_monitors(self) -> list[Monitor]:
        return [m for g in self.groups for m in g.monitors]

    def _metrics_authorized(self, header: str) -> bool:
        if self.metrics_auth == "none":
            return True
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, secret = decoded.partition(":")
        if not sep:
            return False
        if self.metrics_auth == "api_key":
            return self.api_key_active and secret == self.api_key  # any username is accepted
        return user == self.username and secret == self.password

    def _cached(self, request: web.Request, ttl: float, build: Callable[[], Any]) -> web.Response:
        """Answer from the apicache emulation when enabled, else build afresh."""
        key = request.path_qs
        now = self.now()
        hit = self._cache.get(key) if self.apicache else None
        if hit is not None and hit[0] > now:
            return self._express_json(request, hit[1])
        data = build()
        if self.apicache:
            self._cache[key] = (now + timedelta(seconds=ttl), data)
        return self._express_json(request, data)

    def _express_json(
        self, request: web.Request, data: Any, status: int = 200, apicache_route: bool = True
    ) -> web.Response:
        """`res.json()` as Express sends it: compact JSON, charset, weak ETag, 304 when fresh.

        Routes behind apicache also carry the `cache-control: no-cache` Kuma configures.
        """
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        etag = express_etag(body)
        headers = {"ETag": etag}
        if apicache_route:
            headers["cache-control"] = "no-cache"
        if status == 200 and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = "application/json; charset=utf-8"
        return web.Response(body=body, status=status, headers=headers)

    async def _delay(self) -> None:
        """Sleep `latency` seconds, cut short if the server is shutting down."""
        if self.latency > 0:
            try:
                await asyncio.wait_for(self._closing.wait(), self.latency)
            except TimeoutError:
                pass

    @staticmethod
    async def _frame_options(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")

    def _take_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return value
