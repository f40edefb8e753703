"""The worker's dependencies, opened in arq's on_startup and closed in on_shutdown."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.deps import Dependencies, register_settings_secrets
from bot.events import RedisNotifier
from bot.services.container import Services


async def open_deps(ctx: dict[str, Any], settings: Settings) -> None:
    """Dependencies and services as the bot has them; notices go to the bot through Redis."""
    register_settings_secrets(settings)
    deps = await Dependencies.open(settings)
    ctx["deps"] = deps
    ctx["services"] = Services.build(deps, RedisNotifier(deps.redis))


async def close_deps(ctx: dict[str, Any]) -> None:
    deps: Dependencies | None = ctx.get("deps")
    if deps is not None:
        await deps.close()
