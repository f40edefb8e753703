"""Base classes for buttons, selects and modals: same gate, same error path as commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.correlation import correlation_id
from bot.errors import AppError, ErrorCode
from bot.tree import report

if TYPE_CHECKING:
    from bot.client import MediaNestBot


class BaseView(discord.ui.View):
    """A view that only its owner (when given) may use, checked by the bot's gate."""

    def __init__(self, bot: MediaNestBot, *, owner_id: int | None = None, timeout: float | None = 600) -> None:
        super().__init__(timeout=timeout)
        self.bot = bot
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        correlation_id.set(str(interaction.id))
        try:
            if self.owner_id is not None and interaction.user.id != self.owner_id:
                raise AppError(ErrorCode.INSUFFICIENT_PRIVILEGES, "These buttons belong to someone else.")
            await self.bot.gate.check(interaction)
        except AppError as exc:
            await report(interaction, exc, where=f"view {type(self).__name__}")
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report(interaction, error, where=f"view {type(self).__name__}")


class BaseModal(discord.ui.Modal):
    # discord.py's own Modal narrows BaseView.on_error to (interaction, error); this matches Modal, which calls it
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:  # type: ignore[override]
        await report(interaction, error, where=f"modal {type(self).__name__}")
