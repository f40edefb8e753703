"""Uptime Kuma's public status page (and, with an API key, its /metrics), plus a plain HTTP probe.

What Kuma publishes about a monitor can include where it lives: the status page
sends `url` when the "clickable link" toggle is on, and /metrics labels every
sample with `monitor_url`, `monitor_hostname` and `monitor_port`. The models and
the metrics parser here keep only ids, names, states, times and numbers, so an
address never gets past this module and can never reach a message.

Kuma's quirks handled here (see specs/uptime-kuma-endpoints.md): times are UTC
without a zone suffix; 1.23 has one `incident`, 2.x an `incidents` list; an
unknown slug hangs on 1.23 (the timeout and the breaker deal with it) and is a
404 on 2.x; a wrong path answers the web app's HTML, not JSON.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.errors import AppError, ErrorCode
from bot.integrations.breaker import CircuitBreaker
from bot.integrations.http import ServiceClient

log = logging.getLogger(__name__)


class KumaStatus(IntEnum):
    """Heartbeat status codes as Kuma stores them."""

    DOWN = 0
    UP = 1
    PENDING = 2
    MAINTENANCE = 3


def parse_kuma_time(value: str) -> datetime:
    """`2025-05-01 12:34:56.789` is UTC although it says nothing about a zone."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class KumaMonitor(_Model):
    """A monitor on the page: deliberately without `url` (extra fields are dropped)."""

    id: int
    name: str
    type: str = ""
    cert_days: int | None = Field(default=None, alias="certExpiryDaysRemaining")

    @field_validator("cert_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None  # "" when unknown


class KumaGroup(_Model):
    id: int = 0
    name: str
    weight: int = 0
    monitors: list[KumaMonitor] = Field(default_factory=list, alias="monitorList")


class KumaPage(_Model):
    title: str | None = None
    groups: list[KumaGroup] = Field(default_factory=list)
    incidents: list[str] = Field(default_factory=list)  # titles only
    maintenance: list[str] = Field(default_factory=list)  # titles only


class KumaBeat(_Model):
    status: KumaStatus
    time: datetime
    ping: float | None = None

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return parse_kuma_time(value) if isinstance(value, str) else value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return value if value in (0, 1, 2, 3) else KumaStatus.PENDING


@dataclass(frozen=True, slots=True)
class KumaHeartbeats:
    beats: dict[int, list[KumaBeat]]  # oldest first
    uptime_24h: dict[int, float]  # ratio 0.0-1.0


@dataclass(frozen=True, slots=True)
class KumaSample:
    """What /metrics says about one monitor, addresses already dropped."""

    status: KumaStatus | None = None
    response_ms: float | None = None
    cert_days: int | None = None


@dataclass(slots=True)
class KumaMetrics:
    by_id: dict[int, KumaSample] = field(default_factory=dict)
    by_name: dict[str, KumaSample | None] = field(default_factory=dict)  # None: two monitors share the name

    def find(self, monitor_id: int, name: str) -> KumaSample | None:
        """By id (Kuma 2.x labels it) or else by name when the name is unique (1.23)."""
        return self.by_id.get(monitor_id) or self.by_name.get(name)


# --- /metrics -------------------------------------------------------------------

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_WANTED = {"monitor_status", "monitor_response_time", "monitor_cert_days_remaining"}


def _unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def parse_metrics(text: str) -> KumaMetrics:
    """Kuma's monitor gauges by monitor; every other family and every address label is ignored."""
    raw: dict[tuple[int | None, str], dict[str, float]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None or match["name"] not in _WANTED:
            continue
        labels = {
            k: _unescape(v) for k, v in _LABEL.findall(match["labels"] or "") if k in ("monitor_id", "monitor_name")
        }
        if "monitor_name" not in labels:
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        monitor_id = int(labels["monitor_id"]) if labels.get("monitor_id", "").isdigit() else None
        raw.setdefault((monitor_id, labels["monitor_name"]), {})[match["name"]] = value
    found = KumaMetrics()
    for (monitor_id, name), values in raw.items():
        status = values.get("monitor_status")
        response = values.get("monitor_response_time")
        days = values.get("monitor_cert_days_remaining")
        sample = KumaSample(
            status=KumaStatus(int(status)) if status is not None and int(status) in (0, 1, 2, 3) else None,
            response_ms=response if response is not None and response >= 0 and math.isfinite(response) else None,
            cert_days=int(days) if days is not None and math.isfinite(days) else None,
        )
        if monitor_id is not None:
            found.by_id[monitor_id] = sample
        found.by_name[name] = None if name in found.by_name else sample
    return found


# --- the client -----------------------------------------------------------------


class KumaClient(ServiceClient):
    """One Kuma instance and the one status page the bot shows."""

    def __init__(
        self,
        *,
        base_url: str,
        slug: str,
        api_key: str | None,
        timeout: float,
        breaker: CircuitBreaker,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            "Uptime Kuma",
            base_url=base_url,
            timeout=timeout,
            breaker=breaker,
            headers={"Accept": "application/json"},
            transport=transport,
        )
        self.slug = slug
        self._auth = httpx.BasicAuth("", api_key) if api_key else None
        self._metrics_refused = False

    @property
    def has_metrics(self) -> bool:
        return self._auth is not None

    async def _json(self, path: str) -> Any:
        response = await self.request("GET", path)
        if response.status_code == 404:
            raise AppError(
                ErrorCode.RESOURCE_NOT_FOUND,
                "Uptime Kuma has no such status page; an admin should check UPTIME_KUMA_STATUS_SLUG.",
            )
        if response.status_code != 200:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, f"Uptime Kuma answered {response.status_code}.")
        if "json" not in response.headers.get("content-type", ""):
            # Kuma's catch-all route answers any unknown path with its web app
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR,
                "Uptime Kuma sent a web page instead of data; an admin should check UPTIME_KUMA_URL.",
            )
        return self.json(response)

    async def status_page(self) -> KumaPage:
        body = await self._json(f"/api/status-page/{self.slug}")
        if not isinstance(body, dict):
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "Uptime Kuma sent a status page we could not read.")
        config: dict[str, Any] = body["config"] if isinstance(body.get("config"), dict) else {}
        incidents = body.get("incidents")
        if incidents is None:
            incidents = [body["incident"]] if isinstance(body.get("incident"), dict) else []  # 1.23
        try:
            return KumaPage(
                title=str(config.get("title") or "") or None,
                groups=[KumaGroup.model_validate(g) for g in body.get("publicGroupList") or []],
                incidents=[str(i.get("title") or "") for i in incidents if isinstance(i, dict) and i.get("title")],
                maintenance=[
                    str(m.get("title") or "")
                    for m in body.get("maintenanceList") or []
                    if isinstance(m, dict) and m.get("title")
                ],
            )
        except ValueError as exc:
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR, "Uptime Kuma sent a status page we could not read."
            ) from exc

    async def heartbeats(self) -> KumaHeartbeats:
        body = await self._json(f"/api/status-page/heartbeat/{self.slug}")
        if not isinstance(body, dict):
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "Uptime Kuma sent heartbeats we could not read.")
        beats: dict[int, list[KumaBeat]] = {}
        uptime: dict[int, float] = {}
        try:
            for key, items in (body.get("heartbeatList") or {}).items():
                beats[int(key)] = [KumaBeat.model_validate(item) for item in items or []]
            for key, ratio in (body.get("uptimeList") or {}).items():
                monitor, _, window = str(key).partition("_")
                if window == "24" and isinstance(ratio, int | float):
                    uptime[int(monitor)] = min(max(float(ratio), 0.0), 1.0)
        except ValueError as exc:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "Uptime Kuma sent heartbeats we could not read.") from exc
        return KumaHeartbeats(beats=beats, uptime_24h=uptime)

    async def metrics(self) -> KumaMetrics | None:
        """The fresher, uncached gauges; None without an API key or when Kuma refuses it."""
        if self._auth is None:
            return None
        response = await self.request("GET", "/metrics", auth=self._auth, headers={"Accept": "text/plain"})
        if response.status_code in (401, 403):
            if not self._metrics_refused:
                log.warning("Uptime Kuma refused the API key for /metrics; check UPTIME_KUMA_API_KEY")
            self._metrics_refused = True
            return None
        self._metrics_refused = False
        if response.status_code != 200:
            return None
        return parse_metrics(response.text)


# --- a plain probe --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    elapsed_ms: float | None
    detail: str | None = None  # in our own words, never an upstream text or an address


async def probe(client: ServiceClient, path: str) -> ProbeResult:
    """GET `path` through the client (and so its breaker): up on 200, with the time it took."""
    started = time.perf_counter()
    try:
        response = await client.request("GET", path)
    except AppError as exc:
        if exc.code is ErrorCode.SERVICE_UNAVAILABLE:
            return ProbeResult(False, None, "not answering")
        status = exc.details.get("status")
        return ProbeResult(False, None, f"answered {status}" if status else "answered with an error")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code in (401, 403):
        return ProbeResult(False, elapsed, "refuses the bot's credentials")
    if response.status_code != 200:
        return ProbeResult(False, elapsed, f"answered {response.status_code}")
    return ProbeResult(True, elapsed)


class HttpProbe(ServiceClient):
    """A service the bot only checks for life (Overseerr's public /api/v1/status)."""

    def __init__(self, display_name: str, *, base_url: str, path: str, timeout: float, breaker: CircuitBreaker) -> None:
        super().__init__(display_name, base_url=base_url, timeout=timeout, breaker=breaker)
        self.path = path

    async def probe(self) -> ProbeResult:
        return await probe(self, self.path)
