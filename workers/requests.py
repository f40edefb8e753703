"""The request poll: the fallback that catches what a missed Overseerr webhook would lose."""

from __future__ import annotations

import logging
from typing import Any

from bot.errors import AppError
from bot.services.container import Services

log = logging.getLogger(__name__)


async def sync_requests(ctx: dict[str, Any]) -> int:
    """arq cron: bring every recent and open request in line with Overseerr (each change notified once)."""
    services: Services = ctx["services"]
    if not services.requests.enabled:
        return 0
    try:
        return await services.requests.poll()
    except AppError as exc:
        log.info("request poll skipped: %s", exc.message)
        return 0


def schedule(seconds: int) -> dict[str, Any]:
    """arq cron arguments for "about every `seconds`": cron fields cannot say "every 90 s"."""
    if seconds < 60:
        step = max(1, seconds)
        return {"second": set(range(0, 60, step))}
    return {"minute": set(range(0, 60, max(1, seconds // 60))), "second": 23}
