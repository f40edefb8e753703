"""/help: what the bot can do, as the caller is allowed to use it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies

if TYPE_CHECKING:
    from bot.client import MediaNestBot


def _walk(command: app_commands.Command | app_commands.Group) -> list[app_commands.Command]:  # type: ignore[type-arg]
    if isinstance(command, app_commands.Group):
        return [leaf for child in command.commands for leaf in _walk(child)]
    return [command]


class Meta(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What MediaNest can do for you")
    async def help(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        lines: list[str] = []
        admin_lines: list[str] = []
        # with DISCORD_GUILD_IDS set, the commands live as guild copies, not globally
        scope = discord.Object(interaction.guild_id) if interaction.guild_id else None
        available = self.bot.tree.get_commands(guild=scope) or self.bot.tree.get_commands()
        for top in sorted(available, key=lambda c: c.name):
            if not isinstance(top, app_commands.Command | app_commands.Group):
                continue
            admin_only = top.default_permissions is not None and top.default_permissions.value != 0
            for command in _walk(top):
                line = f"`/{command.qualified_name}` — {command.description}"
                (admin_lines if admin_only else lines).append(line)
        embed = embeds.info("MediaNest", "\n".join(lines) or "No commands yet.")
        if admin_lines:
            embed.add_field(name="Admins", value=embeds.truncate("\n".join(admin_lines), 1024), inline=False)
        await replies.send(interaction, embed=embed)


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(Meta(bot))
