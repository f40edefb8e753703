"""/admin user info|ban|unban|role. The service checks the caller's role itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies
from bot.repositories.audit import AuditEntry
from bot.repositories.users import User

if TYPE_CHECKING:
    from bot.client import MediaNestBot


def user_embed(member: discord.abc.User, user: User | None, history: list[AuditEntry]) -> discord.Embed:
    embed = embeds.info(f"{embeds.safe(member.name, 100)}")
    if user is None:
        embed.description = "Has never used MediaNest."
        return embed
    plex = embeds.safe(user.plex_username, 100) if user.is_linked else "not linked"
    if user.plex_token_stale:
        plex += " (sign-in expired)"
    embed.add_field(name="Plex", value=plex)
    embed.add_field(name="Role", value=user.role)
    status = user.status if not user.is_banned else f"banned: {embeds.safe(user.status_reason or '-', 200)}"
    embed.add_field(name="Status", value=status)
    embed.add_field(name="First seen", value=f"<t:{int(user.created_at.timestamp())}:D>")
    if history:
        lines = [
            f"<t:{int(e.created_at.timestamp())}:R> `{e.action}` by <@{e.actor_id}>"
            + (f": {embeds.safe(e.reason, 80)}" if e.reason else "")
            for e in history
        ]
        embed.add_field(name="Recent actions", value=embeds.truncate("\n".join(lines), 1024), inline=False)
    return embed


class UserAdmin(app_commands.Group):
    def __init__(self, bot: MediaNestBot) -> None:
        super().__init__(name="user", description="Look up and moderate members")
        self.bot = bot

    @app_commands.command(name="info", description="A member's MediaNest account and recent moderation")
    async def info(self, interaction: discord.Interaction[MediaNestBot], user: discord.User) -> None:
        found, history = await self.bot.services.accounts.info(interaction.user.id, user.id)
        await replies.send(interaction, embed=user_embed(user, found, history))

    @app_commands.command(name="ban", description="Stop a member from using MediaNest")
    @app_commands.describe(reason="Shown to the member and kept in the audit log")
    async def ban(
        self,
        interaction: discord.Interaction[MediaNestBot],
        user: discord.User,
        reason: app_commands.Range[str, 3, 500],
    ) -> None:
        await self.bot.services.accounts.set_banned(interaction.user.id, user.id, banned=True, reason=reason)
        await replies.send(interaction, embed=embeds.success("Banned", f"{user.mention} can no longer use MediaNest."))

    @app_commands.command(name="unban", description="Let a banned member use MediaNest again")
    async def unban(
        self,
        interaction: discord.Interaction[MediaNestBot],
        user: discord.User,
        reason: app_commands.Range[str, 3, 500],
    ) -> None:
        await self.bot.services.accounts.set_banned(interaction.user.id, user.id, banned=False, reason=reason)
        await replies.send(interaction, embed=embeds.success("Unbanned", f"{user.mention} can use MediaNest again."))

    @app_commands.command(name="role", description="Make a member an admin, or a user again")
    async def role(
        self,
        interaction: discord.Interaction[MediaNestBot],
        user: discord.User,
        role: Literal["user", "admin"],
        reason: app_commands.Range[str, 3, 500],
    ) -> None:
        await self.bot.services.accounts.set_role(interaction.user.id, user.id, role=role, reason=reason)
        await replies.send(interaction, embed=embeds.success("Role changed", f"{user.mention} is now **{role}**."))


class Moderation(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self.group = UserAdmin(bot)

    async def cog_load(self) -> None:
        self.bot.admin_group.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.admin_group.remove_command(self.group.name)


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(Moderation(bot))
