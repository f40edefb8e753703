"""/link, /unlink and /whoami: the Discord side of the account service."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies
from bot.correlation import current
from bot.errors import AppError
from bot.services.accounts import LinkEnd, LinkOutcome, PendingLink, Profile
from bot.tree import INTERNAL
from bot.views import BaseView

if TYPE_CHECKING:
    from bot.client import MediaNestBot

log = logging.getLogger(__name__)


class LinkView(BaseView):
    def __init__(self, bot: MediaNestBot, pending: PendingLink) -> None:
        super().__init__(bot, owner_id=pending.discord_id, timeout=None)
        self.add_item(discord.ui.Button(label="Sign in with Plex", url=pending.auth_url, emoji="🔑"))

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id="link:cancel")
    async def cancel(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        self.bot.services.accounts.cancel_link(interaction.user.id)
        await interaction.response.defer()  # the watcher edits the message when polling stops


class ConfirmView(BaseView):
    """Two buttons; `choice` is set when one is pressed."""

    def __init__(self, bot: MediaNestBot, owner_id: int, confirm_label: str) -> None:
        super().__init__(bot, owner_id=owner_id, timeout=120)
        self.choice: bool | None = None
        self.clicked: discord.Interaction[MediaNestBot] | None = None
        self.confirm.label = confirm_label

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await self._decide(interaction, True)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await self._decide(interaction, False)

    async def _decide(self, interaction: discord.Interaction[MediaNestBot], choice: bool) -> None:
        self.choice = choice
        self.clicked = interaction
        self.stop()


def _link_pending_embed(pending: PendingLink) -> discord.Embed:
    return embeds.info(
        "Link your Plex account",
        "1. Press **Sign in with Plex** and sign in.\n"
        "2. Come back here: this message updates by itself.\n\n"
        f"The sign-in link expires <t:{pending.expires_unix}:R>.",
    )


def _outcome_embed(outcome: LinkOutcome) -> discord.Embed:
    if outcome.end is LinkEnd.LINKED and outcome.user is not None:
        admin = "\nYou are a MediaNest admin." if outcome.user.is_admin else ""
        return embeds.success(
            f"Linked as {embeds.safe(outcome.user.plex_username, 200)}",
            f"Your Discord account is now linked to Plex.{admin}\nSee /whoami, or /help for what you can do.",
        )
    if outcome.end is LinkEnd.EXPIRED:
        return embeds.warning("Sign-in expired", "The Plex sign-in link ran out before it was used. Run /link again.")
    if outcome.end is LinkEnd.REPLACED:
        return embeds.info("Replaced", "A newer /link took over from this one.")
    return embeds.info("Cancelled", "Nothing was linked. Run /link whenever you are ready.")


def profile_embed(profile: Profile) -> discord.Embed:
    user = profile.user
    if user.is_linked:
        state = "⚠️ needs /link again" if user.plex_token_stale else "linked"
        plex = f"**{embeds.safe(user.plex_username, 100)}** ({state})"
        if user.linked_at is not None:
            plex += f"\nsince <t:{int(user.linked_at.timestamp())}:D>"
    else:
        plex = "not linked: run /link"
    embed = embeds.info("Your MediaNest account")
    embed.add_field(name="Plex", value=plex, inline=False)
    status = "active" if not user.is_banned else f"banned ({embeds.safe(user.status_reason or 'no reason', 200)})"
    embed.add_field(name="Role", value=user.role)
    embed.add_field(name="Status", value=status)
    embed.add_field(
        name="Commands this minute",
        value=f"{profile.commands.used}/{profile.commands.limit}",
    )
    downloads = f"{profile.downloads.used}/{profile.downloads.limit}"
    if profile.downloads.used:
        downloads += f", resets <t:{profile.downloads.resets_at}:R>"
    embed.add_field(name="Downloads this hour", value=downloads)
    embed.add_field(name="Requests / downloads in total", value=f"{profile.total_requests} / {profile.total_downloads}")
    return embed


class Account(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self._watchers: set[asyncio.Task[None]] = set()

    async def cog_unload(self) -> None:
        for task in self._watchers:
            task.cancel()

    @app_commands.command(name="link", description="Link your Plex account to Discord")
    async def link(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        await replies.defer(interaction)
        pending = await self.bot.services.accounts.start_link(interaction.user.id)
        await interaction.edit_original_response(embed=_link_pending_embed(pending), view=LinkView(self.bot, pending))
        task = asyncio.create_task(self._watch(interaction, pending), name=f"link-{interaction.user.id}")
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, interaction: discord.Interaction[MediaNestBot], pending: PendingLink) -> None:
        """Wait for the PIN in the background and show how it ended in the same message."""
        try:
            embed = _outcome_embed(await self.bot.services.accounts.wait_for_link(pending))
        except AppError as exc:
            embed = embeds.error(exc, current())
        except Exception:
            log.exception("linking failed for %s", pending.discord_id)
            embed = embeds.error(INTERNAL, current())
        try:
            await interaction.edit_original_response(embed=embed, view=None)
        except discord.HTTPException:
            log.warning("could not update the /link message", exc_info=True)

    @app_commands.command(name="unlink", description="Remove the link to your Plex account")
    async def unlink(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        user = await self.bot.services.accounts.require_linked_or_stale(interaction.user.id)
        view = ConfirmView(self.bot, interaction.user.id, "Unlink")
        await replies.send(
            interaction,
            embed=embeds.warning(
                "Unlink Plex?",
                f"This removes the link to **{embeds.safe(user.plex_username, 100)}** and deletes the stored "
                "sign-in. Your requests and downloads stay.",
            ),
            view=view,
        )
        await view.wait()
        if view.clicked is None:
            await interaction.edit_original_response(
                embed=embeds.info("Still linked", "Nothing changed (no answer in time)."), view=None
            )
            return
        if view.choice:
            await self.bot.services.accounts.unlink(interaction.user.id)
            embed = embeds.success("Unlinked", "Your Plex sign-in was deleted. Run /link to link again.")
        else:
            embed = embeds.info("Still linked", "Nothing changed.")
        await view.clicked.response.edit_message(embed=embed, view=None)

    @app_commands.command(name="whoami", description="Your linked Plex account, role and limits")
    async def whoami(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        await replies.defer(interaction)
        profile = await self.bot.services.accounts.profile(interaction.user.id)
        await replies.send(interaction, embed=profile_embed(profile))


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(Account(bot))
