"""The gate fails open when Redis is down, so /admin doctor (and everything else) still runs."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.errors import AppError, ErrorCode
from bot.gate import Gate
from bot.ratelimit import RateLimiter
from bot.repositories.users import User


class Accounts:
    async def touch(self, discord_id: int) -> User:
        return User(
            discord_id=discord_id,
            role="user",
            status="active",
            status_reason=None,
            plex_id=None,
            plex_uuid=None,
            plex_username=None,
            plex_email=None,
            plex_token_encrypted=None,
            plex_token_stale=False,
            linked_at=None,
            overseerr_user_id=None,
            created_at=datetime.now(UTC),
        )


class Runtime:
    async def current(self) -> Any:
        return SimpleNamespace(commands_per_minute=100)


class Limiter:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def take(self, *args: Any, **kwargs: Any) -> None:
        raise self.error


def interaction() -> Any:
    return SimpleNamespace(
        user=SimpleNamespace(id=42),
        extras={},
        type=discord.InteractionType.application_command,
        command=SimpleNamespace(qualified_name="admin doctor"),
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_stopped_redis_lets_the_command_through_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    dead = aioredis.from_url(f"redis://127.0.0.1:{closed_port()}/0", decode_responses=True)
    try:
        gate = Gate(Accounts(), RateLimiter(dead), Runtime())  # type: ignore[arg-type]
        seen = interaction()
        with caplog.at_level(logging.WARNING, logger="bot.gate"):
            await gate.check(seen)
    finally:
        await dead.aclose()
    assert seen.extras["user"].discord_id == 42
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.gate"]
    assert warnings == ["rate limiter unavailable (ConnectionError); letting /admin doctor through unlimited"]


async def test_the_limit_itself_and_other_redis_errors_still_refuse() -> None:
    over = AppError(ErrorCode.RATE_LIMIT_EXCEEDED, "You have used your 100 commands per minute.")
    with pytest.raises(AppError) as refused:
        await Gate(Accounts(), Limiter(over), Runtime()).check(interaction())  # type: ignore[arg-type]
    assert refused.value.code is ErrorCode.RATE_LIMIT_EXCEEDED
    # a script error is a bug to see, not an outage to ride out
    with pytest.raises(ResponseError):
        await Gate(Accounts(), Limiter(ResponseError("NOSCRIPT")), Runtime()).check(interaction())  # type: ignore[arg-type]
