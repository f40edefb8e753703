"""The checks every interaction passes before its handler runs."""

from __future__ import annotations

from typing import Any

import discord


class Gate:
    """Decides whether a user may go on; raises AppError to refuse."""

    async def check(self, interaction: discord.Interaction[Any]) -> None:
        return None
