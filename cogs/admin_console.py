"""/admin audit, /admin export, /admin settings and /admin downloads cancel-all."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies
from bot.repositories.audit import AuditEntry
from bot.services.admin import AUDIT_PAGE
from bot.services.runtime import KEYS, RuntimeValues
from bot.views import BaseView

if TYPE_CHECKING:
    from bot.client import MediaNestBot

DISCORD_DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


def since(days: int | None) -> datetime | None:
    return datetime.now(UTC) - timedelta(days=days) if days is not None else None


def audit_line(entry: AuditEntry) -> str:
    actor = f"<@{entry.actor_id}>" if entry.actor_id else "system"
    target = ""
    if entry.target_type == "user" and entry.target_id:
        target = f" → <@{entry.target_id}>"
    elif entry.target_id:
        target = f" → {entry.target_type} `{entry.target_id.replace('`', '')[:40]}`"
    reason = f": {embeds.safe(entry.reason, 100)}" if entry.reason else ""
    return f"<t:{int(entry.created_at.timestamp())}:f> `{entry.action}` by {actor}{target}{reason}"


def settings_embed(values: RuntimeValues, overridden: dict[str, bool], secrets: dict[str, bool]) -> discord.Embed:
    embed = embeds.info("MediaNest settings")
    lines = []
    for key in KEYS:
        value = getattr(values, key)
        shown = f"<#{value}>" if key.endswith("channel_id") and value else ("none" if value is None else str(value))
        marker = " *(changed here)*" if overridden[key] else ""
        description = RuntimeValues.model_fields[key].description
        lines.append(f"`{key}` = **{shown}**{marker}\n  {description}")
    embed.add_field(name="Changeable from Discord", value="\n".join(lines), inline=False)
    embed.add_field(
        name="Secrets (environment only)",
        value="\n".join(f"`{name}`: {'set' if is_set else 'not set'}" for name, is_set in secrets.items()),
        inline=False,
    )
    return embed


class ConfirmCancelView(BaseView):
    def __init__(self, bot: MediaNestBot, owner_id: int, ids: list[int]) -> None:
        super().__init__(bot, owner_id=owner_id, timeout=120)
        self.ids = ids
        self.confirm.label = f"Cancel {len(ids)} download(s)"

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        done, failed = await self.bot.services.admin.cancel_downloads(interaction.user.id, self.ids)
        text = f"Cancelled {len(done)}."
        if failed:
            text += "\n" + "\n".join(f"#{i}: {embeds.safe(why, 100)}" for i, why in failed[:10])
        await interaction.edit_original_response(embed=embeds.success("Done", text), view=None)
        self.stop()

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(embed=embeds.info("Nothing changed"), view=None)
        self.stop()


class SettingsAdmin(app_commands.Group):
    def __init__(self, bot: MediaNestBot) -> None:
        super().__init__(name="settings", description="View and change MediaNest's settings")
        self.bot = bot

    def _secrets(self) -> dict[str, bool]:
        s = self.bot.settings
        return {
            "DISCORD_TOKEN": True,
            "ENCRYPTION_KEY": True,
            "PLEX_SERVER_TOKEN": s.plex.server_token is not None,
            "OVERSEERR_API_KEY": s.overseerr.api_key is not None,
            "OVERSEERR_WEBHOOK_SECRET": s.overseerr.webhook_secret is not None,
            "UPTIME_KUMA_API_KEY": s.kuma.api_key is not None,
        }

    @app_commands.command(name="view", description="Current settings (secrets are never shown)")
    async def view(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        await self.bot.services.accounts.require_admin(interaction.user.id)
        runtime = self.bot.deps.runtime
        values = await runtime.current()
        await replies.send(interaction, embed=settings_embed(values, runtime.overridden(values), self._secrets()))

    @app_commands.command(name="set", description="Change a setting; it takes effect within seconds")
    @app_commands.describe(key="Which setting", value="The new value; leave empty to go back to the default")
    async def set_(
        self,
        interaction: discord.Interaction[MediaNestBot],
        key: Literal[
            "commands_per_minute", "downloads_per_hour", "requests_per_day", "download_quota_gb", "notify_channel_id"
        ],
        value: app_commands.Range[str, 0, 30] | None = None,
    ) -> None:
        runtime = self.bot.deps.runtime
        values = await runtime.change(interaction.user.id, key, value, self.bot.services.accounts)
        shown = getattr(values, key)
        await replies.send(
            interaction, embed=embeds.success("Saved", f"`{key}` is now **{'none' if shown is None else shown}**.")
        )


class AdminConsole(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self.settings_group = SettingsAdmin(bot)
        self._commands: list[app_commands.Command[Any, ..., None]] = [
            app_commands.Command(name="audit", description="The audit log, newest first", callback=self.audit),
            app_commands.Command(
                name="export",
                description="Requests, downloads or the audit log as a CSV or JSON file",
                callback=self.export,
            ),
        ]

    async def cog_load(self) -> None:
        for command in self._commands:
            self.bot.admin_group.add_command(command)
        self.bot.admin_group.add_command(self.settings_group)
        downloads = self.bot.admin_group.get_command("downloads")
        if isinstance(downloads, app_commands.Group):
            self._cancel_all: app_commands.Command[Any, ..., None] = app_commands.Command(
                name="cancel-all", description="Cancel every queued download of a member", callback=self.cancel_all
            )
            downloads.add_command(self._cancel_all)

    async def cog_unload(self) -> None:
        for command in self._commands:
            self.bot.admin_group.remove_command(command.name)
        self.bot.admin_group.remove_command(self.settings_group.name)
        downloads = self.bot.admin_group.get_command("downloads")
        if isinstance(downloads, app_commands.Group):
            downloads.remove_command("cancel-all")

    @app_commands.describe(
        user="Done by or to this member",
        action="Only this action (or family, like `user`)",
        since_days="Only the last N days",
        page="Page number",
    )
    async def audit(
        self,
        interaction: discord.Interaction[MediaNestBot],
        user: discord.User | None = None,
        action: app_commands.Range[str, 2, 60] | None = None,
        since_days: app_commands.Range[int, 1, 3650] | None = None,
        page: app_commands.Range[int, 1, 1000] = 1,
    ) -> None:
        await replies.defer(interaction)
        entries, total = await self.bot.services.admin.audit_page(
            interaction.user.id, user_id=user.id if user else None, action=action, since=since(since_days), page=page
        )
        if not entries:
            await replies.send(interaction, embed=embeds.info("Audit log", "No entries match."))
            return
        pages = max(1, -(-total // AUDIT_PAGE))
        embed = embeds.info("Audit log", "\n".join(audit_line(e) for e in entries))
        embed.set_footer(text=f"Page {page} of {pages} · {total} entries")
        await replies.send(interaction, embed=embed)

    @app_commands.describe(
        kind="What to export",
        format="csv for spreadsheets, json for scripts",
        since_days="Only the last N days",
        user="Only this member's",
        status="Only this state (requests and downloads)",
    )
    async def export(
        self,
        interaction: discord.Interaction[MediaNestBot],
        kind: Literal["requests", "downloads", "audit"],
        format: Literal["csv", "json"] = "csv",
        since_days: app_commands.Range[int, 1, 3650] | None = None,
        user: discord.User | None = None,
        status: app_commands.Range[str, 3, 30] | None = None,
    ) -> None:
        await replies.defer(interaction)
        limit = interaction.guild.filesize_limit if interaction.guild else DISCORD_DEFAULT_UPLOAD_LIMIT
        with tempfile.TemporaryDirectory(prefix="medianest-export-") as tmp:
            result = await self.bot.services.admin.export(
                interaction.user.id,
                kind,
                format,
                Path(tmp),
                since=since(since_days),
                user_id=user.id if user else None,
                status=status,
                max_bytes=limit,
            )
            await interaction.followup.send(
                embed=embeds.success(f"Export: {kind}", f"{result.rows} row(s), {result.size // 1024 + 1} KB."),
                file=discord.File(result.path, filename=result.filename),
                ephemeral=True,
            )

    async def cancel_all(self, interaction: discord.Interaction[MediaNestBot], user: discord.User) -> None:
        queued = await self.bot.services.admin.queued_downloads(interaction.user.id, user.id)
        if not queued:
            await replies.send(
                interaction, embed=embeds.info("Nothing queued", f"{user.mention} has no queued downloads.")
            )
            return
        sample = "\n".join(f"#{d.id} {embeds.safe(d.title or d.url, 80)}" for d in queued[:10])
        await replies.send(
            interaction,
            embed=embeds.warning(f"Cancel {len(queued)} queued download(s) of {user.name}?", sample),
            view=ConfirmCancelView(self.bot, interaction.user.id, [d.id for d in queued]),
        )


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(AdminConsole(bot))
