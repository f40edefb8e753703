"""The fake Uptime Kuma's state: groups, monitors and their heartbeats.

Kept apart from the HTTP layer so the rules that decide *what* Kuma 1.23.17 would
answer (which beats are public, how the 24 h uptime ratio is computed, how a
monitor renders on a status page) can be read and changed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any


class Status(IntEnum):
    """Heartbeat status codes, as stored in Kuma's `heartbeat.status` column."""

    DOWN = 0
    UP = 1
    PENDING = 2
    MAINTENANCE = 3


def kuma_time(moment: datetime) -> str:
    """Format like `R.isoDateTimeMillis(dayjs.utc())`: UTC, milliseconds, *no* zone suffix.

    The missing suffix is the trap the bot has to handle (parse as UTC, not local time).
    """
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


def kuma_time_seconds(moment: datetime) -> str:
    """`R.isoDateTime(...)`, used for incident dates: like `kuma_time` without milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def js_number(value: float) -> float | int:
    """Render a number the way `JSON.stringify` would: integral floats lose their `.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Heartbeat:
    """One check result. `msg` is kept but, as in Kuma, never published (always "")."""

    status: Status
    time: datetime
    msg: str = ""
    ping: float | None = None
    #: Whole seconds since the monitor's previous beat (Kuma's `heartbeat.duration`).
    duration: int = 0

    def to_public_json(self) -> dict[str, Any]:
        """`Heartbeat.toPublicJSON()` in 1.23: msg is blanked so error texts don't leak."""
        return {
            "status": int(self.status),
            "time": kuma_time(self.time),
            "msg": "",
            "ping": None if self.ping is None else js_number(self.ping),
        }


@dataclass(eq=False)
class Group:
    """A public group on the status page (`publicGroupList` item)."""

    id: int
    name: str
    weight: int
    monitors: list[Monitor] = field(default_factory=list)

    def to_public_json(self, show_cert_expiry: bool) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "weight": self.weight,
            "monitorList": [m.to_public_json(show_cert_expiry) for m in self.monitors],
        }


@dataclass(eq=False)
class Monitor:
    """A monitor and its history.

    `url`, `hostname` and `port` are private configuration: they reach the status
    page only as `url`, and only when `send_url` is set (the "clickable link"
    toggle), but they always reach `/metrics` as labels. A bot that must never
    leak addresses has to cope with both.
    """

    id: int
    name: str
    type: str
    group: Group | None
    url: str | None = None
    hostname: str | None = None
    port: int | None = None
    send_url: bool = False
    default_ping: float | None = 42
    #: Days left on the TLS certificate; None means Kuma has no TLS info (plain http, ping...).
    cert_days: int | None = None
    cert_valid: bool = True
    push_token: str | None = None
    active: bool = True
    heartbeats: list[Heartbeat] = field(default_factory=list)
    #: A fixed 24 h uptime ratio set by the test; None means compute it from the beats.
    uptime_override: float | None = None

    @property
    def last(self) -> Heartbeat | None:
        return self.heartbeats[-1] if self.heartbeats else None

    def add_beat(self, status: Status, at: datetime, msg: str, ping: float | None) -> Heartbeat:
        previous = self.last
        duration = int((at - previous.time).total_seconds()) if previous else 0
        beat = Heartbeat(status=status, time=at, msg=msg, ping=ping, duration=max(duration, 0))
        self.heartbeats.append(beat)
        return beat

    def has_tls_info(self) -> bool:
        return self.cert_days is not None

    def to_public_json(self, show_cert_expiry: bool) -> dict[str, Any]:
        """`Monitor.toPublicJSON(showTags, certExpiry)` from 1.23 (tags are not modelled)."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "sendUrl": int(self.send_url),  # SQLite booleans come back as 0/1
            "type": self.type,
        }
        if self.send_url:
            data["url"] = self.url
        is_https_check = self.type in ("http", "keyword", "json-query") and (self.url or "").startswith("https:")
        if show_cert_expiry and is_https_check:
            if self.cert_valid and self.cert_days:
                data["certExpiryDaysRemaining"] = self.cert_days
                data["validCert"] = True
            else:
                data["certExpiryDaysRemaining"] = ""
                data["validCert"] = False
        return data

    def recent_public_beats(self, limit: int) -> list[dict[str, Any]]:
        """The last `limit` beats, oldest first, as the heartbeat route lists them."""
        return [b.to_public_json() for b in self.heartbeats[-limit:]]

    def uptime_24h(self, now: datetime) -> float | int:
        """`Monitor.calcUptime(24, id)` from 1.23: a *time-weighted* ratio.

        Each beat weighs its `duration` (seconds since the previous beat), clipped to
        the window; UP and MAINTENANCE count as up. When the total is 0 (a single
        beat, or beats within the same second) Kuma falls back to the status of the
        first stored beat: 1 if UP, else 0.
        """
        if self.uptime_override is not None:
            return js_number(self.uptime_override)
        start = now - timedelta(hours=24)
        total = 0.0
        up = 0.0
        for beat in self.heartbeats:
            if beat.time <= start:
                continue
            weight = min(float(beat.duration), (beat.time - start).total_seconds())
            total += weight
            if beat.status in (Status.UP, Status.MAINTENANCE):
                up += weight
        if total > 0:
            return js_number(max(up / total, 0.0))
        first = self.heartbeats[0] if self.heartbeats else None
        return 1 if first is not None and first.status == Status.UP else 0


@dataclass
class Incident:
    """The pinned incident (1.23 shows at most one, as `incident`)."""

    id: int
    title: str
    content: str
    style: str
    created: datetime
    last_updated: datetime | None = None

    def to_public_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "style": self.style,
            "title": self.title,
            "content": self.content,
            "pin": 1,  # a SQLite boolean, read back as an integer
            "createdDate": kuma_time_seconds(self.created),
            "lastUpdatedDate": kuma_time_seconds(self.last_updated) if self.last_updated else None,
        }


@dataclass
class Maintenance:
    """An active manual maintenance window (`maintenanceList` item).

    No capture of this shape exists in the samples; the fields follow the spec's
    list for `Maintenance.toPublicJSON()` with the values a "manual" window has.
    """

    id: int
    title: str
    description: str

    def to_public_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "strategy": "manual",
            "intervalDay": 1,
            "active": True,
            "dateRange": [None],
            "timeRange": [{"hours": 2, "minutes": 0}, {"hours": 3, "minutes": 0}],
            "weekdays": [],
            "daysOfMonth": [],
            "timeslotList": [],
            "cron": "30 3 * * *",
            "duration": None,
            "durationMinutes": 0,
            "timezone": "UTC",
            "timezoneOption": None,
            "timezoneOffset": "+00:00",
            "status": "under-maintenance",
        }
