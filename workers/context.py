"""The worker's dependencies, opened in arq's on_startup and closed in on_shutdown."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.deps import Dependencies, register_settings_secrets


async def open_deps(ctx: dict[str, Any], settings: Settings) -> None:
    register_settings_secrets(settings)
    ctx["deps"] = await Dependencies.open(settings)


async def close_deps(ctx: dict[str, Any]) -> None:
    deps: Dependencies | None = ctx.get("deps")
    if deps is not None:
        await deps.close()
