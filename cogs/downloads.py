"""/download, /downloads, /cancel and /admin downloads, plus the live progress message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies
from bot.events import PROGRESS_CHANNEL, BotEvent, Progress
from bot.progress import ThrottledEditor
from bot.repositories.downloads import Download
from bot.services.downloads import Quality, QueueOverview, human_size

if TYPE_CHECKING:
    from bot.client import MediaNestBot

log = logging.getLogger(__name__)

_ICONS = {"queued": "🕒", "running": "⏳", "completed": "✅", "failed": "⛔", "cancelled": "✖️"}


def _name(download: Download) -> str:
    return embeds.safe(download.title or download.url, 200)


def progress_embed(download: Download, progress: Progress) -> discord.Embed:
    fraction = 0.0
    if progress.count:
        within = progress.downloaded / progress.total if progress.total else 0.0
        fraction = (max(progress.index - 1, 0) + within) / progress.count
    detail = []
    if progress.count:
        detail.append(f"Video {max(progress.index, 1)} of {progress.count}: {embeds.safe(progress.title, 150)}")
    if progress.speed:
        detail.append(f"{human_size(int(progress.speed))}/s")
    if progress.eta is not None:
        detail.append(f"about {int(progress.eta)} s left")
    embed = embeds.progress(f"Downloading #{download.id}", fraction, " · ".join(detail) or None)
    embed.add_field(name="From", value=_name(download), inline=False)
    return embed


def final_embed(download: Download) -> discord.Embed:
    if download.status == "completed":
        body = f"{download.videos_done} video(s), {human_size(download.bytes_done)}"
        if download.videos_failed:
            body += f"; {download.videos_failed} could not be downloaded"
        if download.plex_collection_title:
            body += f"\nPlex collection: **{embeds.safe(download.plex_collection_title, 200)}**"
        elif download.plex_state == "pending":
            body += "\nWaiting for Plex to come back to add it."
        return embeds.success(f"Downloaded #{download.id}: {_name(download)}", body)
    if download.status == "cancelled":
        return embeds.info(f"Cancelled #{download.id}", f"{_name(download)}\nNo partial files were kept.")
    return embeds.build(
        embeds.Tone.ERROR,
        f"Download #{download.id} failed",
        f"{_name(download)}\n{embeds.safe(download.error_message or 'It failed.', 500)}",
    )


def queued_embed(download: Download, position: int) -> discord.Embed:
    return embeds.info(
        f"Queued #{download.id}",
        f"{embeds.safe(download.url, 300)}\nPlace in the queue: **{position}**. This message shows the progress.",
    )


def list_embed(rows: list[Download], page: int) -> discord.Embed:
    if not rows:
        return embeds.info("Your downloads", "Nothing here. Start one with /download.")
    lines = [
        f"{_ICONS[d.status]} **#{d.id}** {_name(d)} · {d.status}"
        + (f" · {d.videos_done}/{d.video_count}" if d.video_count else "")
        + f" · <t:{int(d.created_at.timestamp())}:R>"
        for d in rows
    ]
    embed = embeds.info("Your downloads", "\n".join(lines))
    embed.set_footer(text=f"Page {page}")
    return embed


def overview_embed(overview: QueueOverview) -> discord.Embed:
    worker = "✅ a worker reported in" if overview.worker_alive else "⛔ no worker has reported in"
    lines = [f"{worker}", f"Jobs waiting in the queue: **{overview.queued_jobs}**", ""]
    for d in overview.open[:20]:
        lines.append(f"{_ICONS[d.status]} **#{d.id}** <@{d.user_id}> {_name(d)} · {d.status}")
    if not overview.open:
        lines.append("No open downloads.")
    return embeds.info("Download queue", "\n".join(lines))


class Downloads(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self.service = bot.services.downloads
        self.editor = ThrottledEditor(self._edit)
        self._listener: asyncio.Task[None] | None = None
        self.group = DownloadAdmin(bot)

    async def cog_load(self) -> None:
        self.bot.event_handlers["download_finished"] = self._on_finished
        self.bot.admin_group.add_command(self.group)
        self._listener = asyncio.create_task(self._listen_progress(), name="download-progress")

    async def cog_unload(self) -> None:
        self.bot.event_handlers.pop("download_finished", None)
        self.bot.admin_group.remove_command(self.group.name)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.editor.close()

    async def _edit(self, channel_id: int, message_id: int, embed: object) -> None:
        assert isinstance(embed, discord.Embed)
        message = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        await message.edit(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    async def _listen_progress(self) -> None:
        pubsub = self.bot.deps.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(PROGRESS_CHANNEL)
        try:
            async for message in pubsub.listen():
                try:
                    progress = Progress.model_validate_json(message["data"])
                except ValueError:
                    continue
                if not self.editor.watching(progress.download_id):
                    continue
                download = await self.service.get(progress.download_id)
                if download is not None and download.is_open:
                    self.editor.update(download.id, progress_embed(download, progress))
        finally:
            # redis-py leaves PubSub.aclose unannotated
            aclose = cast(Callable[[], Awaitable[None]], pubsub.aclose)
            await aclose()

    async def _on_finished(self, event: BotEvent) -> None:
        assert event.download_id is not None
        download = await self.service.get(event.download_id)
        if download is None:
            return
        if self.editor.watching(download.id):
            self.editor.finish(download.id, final_embed(download))
        elif download.channel_id and download.message_id:
            try:
                await self._edit(download.channel_id, download.message_id, final_embed(download))
            except discord.HTTPException:
                log.info("could not show the final state of download %s", download.id)
        if download.status != "cancelled":
            await self.bot.notifier.notify(await self.service.finished_notice(download))

    @app_commands.command(name="download", description="Download a YouTube video or playlist into Plex")
    @app_commands.describe(url="A YouTube video or playlist link", quality="Highest video quality to fetch")
    async def download(
        self,
        interaction: discord.Interaction[MediaNestBot],
        url: app_commands.Range[str, 8, 2048],
        quality: Quality = "best",
    ) -> None:
        queued = await self.service.enqueue(interaction.user.id, url, quality)
        await interaction.response.send_message(
            embed=queued_embed(queued.download, queued.position), allowed_mentions=discord.AllowedMentions.none()
        )
        message = await interaction.original_response()
        await self.service.attach_message(queued.download.id, message.channel.id, message.id)
        self.editor.watch(queued.download.id, message.channel.id, message.id)

    @app_commands.command(name="downloads", description="Your downloads, newest first")
    async def downloads(
        self,
        interaction: discord.Interaction[MediaNestBot],
        status: Literal["queued", "running", "completed", "failed", "cancelled"] | None = None,
        page: app_commands.Range[int, 1, 1000] = 1,
    ) -> None:
        rows = await self.service.list_for(interaction.user.id, status, page)
        await replies.send(interaction, embed=list_embed(rows, page))

    @app_commands.command(name="cancel", description="Stop one of your downloads")
    @app_commands.rename(download_id="id")
    @app_commands.describe(download_id="The download number, as shown by /downloads")
    async def cancel(
        self, interaction: discord.Interaction[MediaNestBot], download_id: app_commands.Range[int, 1]
    ) -> None:
        download = await self.service.cancel(interaction.user.id, download_id)
        text = "Stopped." if download.status == "cancelled" else "Stopping it now; partial files will be removed."
        await replies.send(interaction, embed=embeds.success(f"Cancelling #{download.id}", text))


class DownloadAdmin(app_commands.Group):
    def __init__(self, bot: MediaNestBot) -> None:
        super().__init__(name="downloads", description="The download queue")
        self.bot = bot

    @app_commands.command(name="queue", description="What is queued and running, and whether a worker is alive")
    async def queue(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        overview = await self.bot.services.downloads.overview(interaction.user.id)
        await replies.send(interaction, embed=overview_embed(overview))


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(Downloads(bot))
