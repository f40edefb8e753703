"""Render `/metrics` the way Uptime Kuma 1.23.17 (prom-client) does.

The monitor gauges come first, in the order `server/prometheus.js` registers
them, each family as HELP, TYPE, samples, blank line. A gauge only has samples
for monitors that have produced a heartbeat (Kuma sets it in `Prometheus.update`),
and the certificate gauges only for monitors that have TLS info, which is why the
captured sample shows them empty. The Node.js process metrics that follow are
copied from the capture (`process_metrics.prom`): a bot scraping the endpoint must
skip families it does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .model import Monitor

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_PROCESS_METRICS = (Path(__file__).with_name("process_metrics.prom")).read_text()

_Family = tuple[str, str, Callable[[Monitor], float | None]]


def _cert_days(m: Monitor) -> float | None:
    return m.cert_days if m.has_tls_info() else None


def _cert_valid(m: Monitor) -> float | None:
    return (1 if m.cert_valid else 0) if m.has_tls_info() else None


def _response_time(m: Monitor) -> float | None:
    last = m.last
    if last is None:
        return None
    return -1 if last.ping is None else last.ping


def _status(m: Monitor) -> float | None:
    return int(m.last.status) if m.last else None


# (name, help, value) in prom-client registration order; see prometheus.js in 1.23.17.
_FAMILIES: list[_Family] = [
    (
        "monitor_cert_days_remaining",
        "The number of days remaining until the certificate expires",
        _cert_days,
    ),
    ("monitor_cert_is_valid", "Is the certificate still valid? (1 = Yes, 0= No)", _cert_valid),
    ("monitor_response_time", "Monitor Response Time (ms)", _response_time),
    ("monitor_status", "Monitor Status (1 = UP, 0= DOWN, 2= PENDING, 3= MAINTENANCE)", _status),
]


def _escape(value: object) -> str:
    """prom-client's label escaping; JS `null`/`undefined` print as the string "null"."""
    text = "null" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(m: Monitor) -> str:
    pairs = [
        ("monitor_name", m.name),
        ("monitor_type", m.type),
        ("monitor_url", m.url),
        ("monitor_hostname", m.hostname),
        ("monitor_port", m.port),
    ]
    return ",".join(f'{key}="{_escape(value)}"' for key, value in pairs)


def _number(value: float) -> str:
    """JS `Number.prototype.toString` for the values Kuma exports."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_metrics(monitors: Iterable[Monitor]) -> str:
    active = [m for m in monitors if m.active]
    blocks: list[str] = []
    for name, help_text, value_of in _FAMILIES:
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for monitor in active:
            value = value_of(monitor)
            if value is not None:
                lines.append(f"{name}{{{_labels(monitor)}}} {_number(value)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n" + _PROCESS_METRICS
