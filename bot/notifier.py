"""Delivers Notices to users: a DM, or a mention in the notifications channel when DMs are closed."""

from __future__ import annotations

import logging

import discord

from bot import embeds
from bot.notices import Notice
from bot.services.runtime import RuntimeSettings

log = logging.getLogger(__name__)

_TONES = {
    "success": embeds.Tone.SUCCESS,
    "error": embeds.Tone.ERROR,
    "warning": embeds.Tone.WARNING,
    "info": embeds.Tone.INFO,
}
CANNOT_DM = 50007


def render(notice: Notice) -> discord.Embed:
    embed = embeds.build(_TONES[notice.tone], notice.title, notice.body)
    if notice.url:
        embed.url = notice.url
    if notice.image_url:
        embed.set_thumbnail(url=notice.image_url)
    return embed


class DiscordNotifier:
    def __init__(self, client: discord.Client, runtime: RuntimeSettings) -> None:
        self._client = client
        self._runtime = runtime

    async def notify(self, notice: Notice) -> bool:
        embed = render(notice)
        try:
            channel = await self._client.create_dm(discord.Object(notice.user_id))
            await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
            return True
        except discord.Forbidden as exc:
            if exc.code != CANNOT_DM:
                raise
        except discord.NotFound:
            log.info("user %s is unknown to Discord; notice dropped", notice.user_id)
            return False
        return await self._fallback(notice, embed)

    async def _fallback(self, notice: Notice, embed: discord.Embed) -> bool:
        fallback_channel_id = (await self._runtime.current()).notify_channel_id
        if fallback_channel_id is None:
            log.info("user %s has DMs closed and no NOTIFY_CHANNEL_ID is set", notice.user_id)
            return False
        channel = self._client.get_channel(fallback_channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            channel = await self._client.fetch_channel(fallback_channel_id)
        assert isinstance(channel, discord.abc.Messageable)
        await channel.send(
            content=f"<@{notice.user_id}> (your DMs are closed, so this lands here)",
            embed=embed,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(notice.user_id)]),
        )
        return True
