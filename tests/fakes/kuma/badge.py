"""A minimal stand-in for Kuma's `/api/badge/{id}/status` SVG.

Real Kuma renders with badge-maker; the bot only ever needs the message
("Up", "Down", "Pending", "Maintenance", "N/A"), which badge-maker puts in the
`aria-label` and `<title>`, so that is all this reproduces faithfully.
"""

from __future__ import annotations

from html import escape

from .model import Monitor, Status

# badgeConstants in src/util.ts
UP_COLOR = "#4c1"
DOWN_COLOR = "#e05d44"
PENDING_COLOR = "#f8a306"
MAINTENANCE_COLOR = "#1747f5"
NA_COLOR = "#999"


def status_badge(monitor: Monitor | None, query: dict[str, str]) -> str:
    """Badge for a monitor; `None` (unknown, or not in a public group) gives "N/A"."""
    label = query.get("label", "Status")
    message, color = "N/A", NA_COLOR
    last = monitor.last if monitor is not None else None
    if last is not None:
        message, color = {
            Status.UP: (query.get("upLabel", "Up"), query.get("upColor", UP_COLOR)),
            Status.DOWN: (query.get("downLabel", "Down"), query.get("downColor", DOWN_COLOR)),
            Status.PENDING: (
                query.get("pendingLabel", "Pending"),
                query.get("pendingColor", PENDING_COLOR),
            ),
            Status.MAINTENANCE: (
                query.get("maintenanceLabel", "Maintenance"),
                query.get("maintenanceColor", MAINTENANCE_COLOR),
            ),
        }[last.status]
    if monitor is None:
        label = ""  # badge-maker draws a message-only badge when no label was set
    text = f"{label}: {message}" if label else message
    width = 6 * (len(label) + len(message)) + 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{escape(text)}"><title>{escape(text)}</title>'
        f'<rect width="{width}" height="20" fill="{escape(color)}"/>'
        f'<text x="10" y="14" fill="#fff" font-size="11">{escape(text)}</text></svg>'
    )
