"""The command tree: the one place where every app command's errors become replies.

`interaction_check` runs before every command: it sets the correlation id (the
interaction id) for the task that runs the command and asks the bot's gate
(bans, rate limits) whether the user may go on. `on_error` unwraps what
discord.py wraps, renders an AppError for the user as an ephemeral embed, and
logs anything else with its traceback, shown to the user as INTERNAL_ERROR with
the correlation id to quote.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import asyncpg
import discord
from discord import app_commands
from redis import exceptions as redis_errors

from bot import embeds, replies
from bot.correlation import correlation_id, current
from bot.errors import AppError, ErrorCode

if TYPE_CHECKING:
    from bot.client import MediaNestBot

log = logging.getLogger(__name__)

INTERNAL = AppError(
    ErrorCode.INTERNAL_ERROR,
    "Something broke on our side. It has been logged; if it keeps happening, "
    "tell an admin and quote the reference below.",
)


class Refused(app_commands.CheckFailure):
    """Carries an AppError out of `interaction_check`, which may only raise AppCommandErrors."""

    def __init__(self, error: AppError) -> None:
        super().__init__(error.message)
        self.error = error


def command_name(interaction: discord.Interaction[Any]) -> str:
    command = interaction.command
    return command.qualified_name if command is not None else "unknown"


def classify(error: BaseException) -> AppError | None:
    """The AppError inside whatever discord.py wrapped around it, or None for a bug."""
    if isinstance(error, Refused):
        return error.error
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ or getattr(error, "original", None)
        if isinstance(inner, AppError):
            return inner
        if isinstance(error, app_commands.TransformerError):
            return AppError(ErrorCode.INVALID_INPUT, f"`{error.value}` is not a valid value here.")
        return outage(inner) if inner is not None else None
    if (down := outage(error)) is not None:
        return down
    if isinstance(error, AppError):
        return error
    if isinstance(error, app_commands.CommandOnCooldown):
        return AppError(
            ErrorCode.RATE_LIMIT_EXCEEDED,
            f"Try again in {error.retry_after:.0f} s.",
            details={"retry_after": error.retry_after},
        )
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingRole | app_commands.MissingAnyRole):
        return AppError(ErrorCode.INSUFFICIENT_PRIVILEGES, "You are not allowed to use this command.")
    if isinstance(error, app_commands.NoPrivateMessage):
        return AppError(ErrorCode.INVALID_INPUT, "This command only works in a server, not in DMs.")
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return AppError(
            ErrorCode.OPERATION_FAILED,
            "This command changed since Discord last loaded it. Wait a minute or restart Discord, then try again.",
        )
    return None


def outage(error: BaseException) -> AppError | None:
    """Our own database or Redis unreachable: not a bug, and the user should hear so plainly."""
    if isinstance(error, redis_errors.ConnectionError | redis_errors.TimeoutError):
        return AppError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "MediaNest's queue and cache (Redis) are not answering. Try again in a minute; if it lasts, tell an admin.",
        )
    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | ConnectionError):
        return AppError(
            ErrorCode.DATABASE_ERROR,
            "MediaNest's database is not answering. Try again in a minute; if it lasts, tell an admin.",
        )
    return None


def unwrap(error: BaseException) -> BaseException:
    original = getattr(error, "original", None)
    return original if isinstance(original, BaseException) else error


async def report(interaction: discord.Interaction[Any], error: BaseException, *, where: str) -> AppError:
    """Log `error` as it deserves and answer the user ephemerally; returns what was shown."""
    app_error = classify(error)
    if app_error is None:
        log.error(
            "unexpected error in %s",
            where,
            exc_info=(type(unwrap(error)), unwrap(error), unwrap(error).__traceback__),
        )
        app_error = INTERNAL
    elif app_error.code in (ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.DATABASE_ERROR) and not isinstance(
        unwrap(error), AppError
    ):
        log.warning("%s failed: %s (%s)", where, app_error.code.value, type(unwrap(error)).__name__)
    else:
        log.info("%s refused: %s %s", where, app_error.code.value, app_error.message)
    try:
        await replies.send(interaction, embed=embeds.error(app_error, current()), ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver the error reply for %s", where, exc_info=True)
    return app_error


class MediaNestTree(app_commands.CommandTree["MediaNestBot"]):
    async def interaction_check(self, interaction: discord.Interaction[MediaNestBot]) -> bool:
        correlation_id.set(str(interaction.id))
        interaction.extras["started"] = time.monotonic()
        try:
            await self.client.gate.check(interaction)
        except AppError as exc:
            if interaction.type is discord.InteractionType.autocomplete:
                return False  # an autocomplete cannot show an error; it just offers nothing
            raise Refused(exc) from exc
        return True

    async def on_error(
        self, interaction: discord.Interaction[MediaNestBot], error: app_commands.AppCommandError
    ) -> None:
        name = command_name(interaction)
        shown = await report(interaction, error, where=f"/{name}")
        outcome = "internal_error" if shown is INTERNAL else "error"
        self.client.metrics.commands.labels(name, outcome).inc()
        self.client.metrics.errors.labels(shown.code.value).inc()
        self._observe(interaction, name)

    def observe_success(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        name = command_name(interaction)
        self.client.metrics.commands.labels(name, "ok").inc()
        elapsed = self._observe(interaction, name)
        log.info("/%s by %s done in %.0f ms", name, interaction.user.id, elapsed * 1000)

    def _observe(self, interaction: discord.Interaction[MediaNestBot], name: str) -> float:
        started = interaction.extras.get("started")
        if started is None:
            return 0.0
        elapsed: float = time.monotonic() - started
        self.client.metrics.command_latency.labels(name).observe(elapsed)
        return elapsed
