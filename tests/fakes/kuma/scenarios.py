"""Ready-made monitor sets, so bot tests don't each rebuild the same page.

`populate_media_page` mirrors what a family media server watches, and makes sure
addresses exist in every place Kuma can expose them: a published `url`
(clickable link on), an unpublished URL with a LAN IP, a ping monitor with a
hostname, a port monitor with hostname+port, and a monitor that is not on the
page at all. A bot rendering this page must show none of those addresses.
"""

from __future__ import annotations

from .model import Monitor
from .server import FakeUptimeKuma

#: Every address placed in the scenario, for "nothing leaked" assertions.
LEAKABLE_ADDRESSES = (
    "plex.home.example",
    "192.168.1.20",
    "192.168.1.10",
    "nas.lan",
    "10.0.0.5",
)


def populate_media_page(kuma: FakeUptimeKuma) -> dict[str, Monitor]:
    """Add a "Media" and a "Infrastructure" group; return the monitors by short name."""
    return {
        "plex": kuma.add_monitor(
            "Media",
            "Plex",
            "http",
            url="https://plex.home.example:32400/identity",
            send_url=True,
            ping=35,
            cert_days=60,
        ),
        "overseerr": kuma.add_monitor("Media", "Overseerr", "keyword", url="http://192.168.1.20:5055/", ping=12),
        "nas": kuma.add_monitor("Infrastructure", "NAS", "ping", hostname="192.168.1.10", ping=1),
        "downloads": kuma.add_monitor("Infrastructure", "Downloads", "port", hostname="nas.lan", port=8989, ping=3),
        "hidden": kuma.add_monitor(None, "Router", "ping", hostname="10.0.0.5", ping=2),
    }
