"""Settings admins change from Discord: limits, quotas and the notifications channel.

Defaults come from the environment (bot/config.py); an admin's value, stored in
app_settings, wins. Each process re-reads at most every few seconds, so a change
takes effect everywhere without a restart. Values are validated by the same
pydantic field types as the model below; every change is audited.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import asyncpg
from pydantic import BaseModel, Field, ValidationError

from bot.config import Settings
from bot.errors import AppError, ErrorCode
from bot.repositories import app_settings, audit

if TYPE_CHECKING:
    from bot.services.accounts import AccountService

CACHE_SECONDS = 5.0
PREFIX = "runtime."


class RuntimeValues(BaseModel):
    model_config = {"frozen": True, "extra": "ignore"}

    # the same bounds as the environment settings (bot/config.py), so every default is valid here
    commands_per_minute: int = Field(ge=1, description="Commands per member per minute")
    downloads_per_hour: int = Field(ge=1, description="Downloads per member per hour")
    requests_per_day: int = Field(ge=1, description="Media requests per member per day")
    download_quota_gb: float | None = Field(default=None, gt=0, description="Disk space per member (GB); empty = none")
    notify_channel_id: int | None = Field(default=None, description="Channel for notices when DMs are closed")


KEYS = tuple(RuntimeValues.model_fields)


def defaults(settings: Settings) -> dict[str, Any]:
    return {
        "commands_per_minute": settings.limits.commands_per_minute,
        "downloads_per_hour": settings.limits.downloads_per_hour,
        "requests_per_day": settings.limits.requests_per_day,
        "download_quota_gb": settings.downloads.user_quota_gb,
        "notify_channel_id": settings.channels.notify_channel_id,
    }


class RuntimeSettings:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._defaults = defaults(settings)
        self._cached: RuntimeValues | None = None
        self._read_at = 0.0

    async def current(self) -> RuntimeValues:
        if self._cached is None or time.monotonic() - self._read_at > CACHE_SECONDS:
            rows = await self._pool.fetch("SELECT key, value FROM app_settings WHERE key LIKE 'runtime.%'")
            stored = {r["key"].removeprefix(PREFIX): r["value"] for r in rows}
            self._cached = RuntimeValues(**{**self._defaults, **stored})
            self._read_at = time.monotonic()
        return self._cached

    def overridden(self, values: RuntimeValues) -> dict[str, bool]:
        return {key: getattr(values, key) != self._defaults[key] for key in KEYS}

    async def change(self, actor_id: int, key: str, raw: str | None, accounts: AccountService) -> RuntimeValues:
        """Validate and store one value (None or "" resets it to the environment's default)."""
        await accounts.require_admin(actor_id)
        if key not in KEYS:
            raise AppError(ErrorCode.INVALID_INPUT, f"Unknown setting `{key}`. Pick one from the list.")
        before = await self.current()
        value: Any = None if raw is None or raw.strip() == "" else raw.strip()
        try:
            candidate = RuntimeValues(
                **{**before.model_dump(), key: value if value is not None else self._defaults[key]}
            )
        except ValidationError as exc:
            why = exc.errors(include_input=False, include_url=False)[0]["msg"]
            raise AppError(ErrorCode.VALIDATION_ERROR, f"`{key}`: {why}.") from None
        async with self._pool.acquire() as conn, conn.transaction():
            if value is None:
                await conn.execute("DELETE FROM app_settings WHERE key = $1", PREFIX + key)
            else:
                await app_settings.put(conn, PREFIX + key, getattr(candidate, key), actor_id=actor_id)
            await audit.record(
                conn,
                actor_id=actor_id,
                action="settings.change",
                target_type="setting",
                target_id=key,
                details={"from": getattr(before, key), "to": getattr(candidate, key)},
            )
        self._cached = None
        return await self.current()
