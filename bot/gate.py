"""The checks every interaction passes before its handler runs: bans and the rate limit."""

from __future__ import annotations

import logging
from typing import Any

import discord
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.errors import AppError, ErrorCode
from bot.ratelimit import RateLimiter
from bot.services.accounts import AccountService
from bot.services.runtime import RuntimeSettings

log = logging.getLogger(__name__)

# What a banned user may still do: see why they are banned.
ALLOWED_WHEN_BANNED = frozenset({"whoami"})


def interaction_name(interaction: discord.Interaction[Any]) -> str:
    command = interaction.command
    return command.qualified_name if command is not None else "component"


class Gate:
    def __init__(self, accounts: AccountService, limiter: RateLimiter, runtime: RuntimeSettings) -> None:
        self._accounts = accounts
        self._limiter = limiter
        self._runtime = runtime

    async def check(self, interaction: discord.Interaction[Any]) -> None:
        """Raise AppError to refuse; remembers the user row in `interaction.extras["user"]`."""
        user = await self._accounts.touch(interaction.user.id)
        interaction.extras["user"] = user
        if user.is_banned and interaction_name(interaction) not in ALLOWED_WHEN_BANNED:
            reason = f" Reason: {user.status_reason}." if user.status_reason else ""
            raise AppError(
                ErrorCode.INSUFFICIENT_PRIVILEGES,
                f"You are banned from MediaNest.{reason} Ask an admin if you think this is a mistake.",
            )
        if interaction.type is discord.InteractionType.autocomplete:
            return  # typing is not a command; autocomplete has its own cache
        limit = (await self._runtime.current()).commands_per_minute
        try:
            await self._limiter.take("commands", user.discord_id, limit=limit, window=60, what="commands per minute")
        except (RedisConnectionError, RedisTimeoutError) as exc:
            # fail open: a Redis outage must not lock everyone out (an admin needs /admin doctor then)
            log.warning(
                "rate limiter unavailable (%s); letting /%s through unlimited",
                type(exc).__name__,
                interaction_name(interaction),
            )
