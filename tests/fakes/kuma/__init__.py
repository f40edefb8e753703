"""A fake Uptime Kuma 1.23.17 (status page JSON, heartbeats, /metrics, badges, push)."""

from .model import Group, Heartbeat, Incident, Maintenance, Monitor, Status, kuma_time
from .scenarios import LEAKABLE_ADDRESSES, populate_media_page
from .server import DEFAULT_API_KEY, FakeUptimeKuma, express_etag

__all__ = [
    "DEFAULT_API_KEY",
    "LEAKABLE_ADDRESSES",
    "FakeUptimeKuma",
    "Group",
    "Heartbeat",
    "Incident",
    "Maintenance",
    "Monitor",
    "Status",
    "express_etag",
    "kuma_time",
    "populate_media_page",
]
