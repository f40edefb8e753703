"""/status, the live status board, transition posts and /admin status.

The board loop runs in every bot process, but only the one holding the Redis
lease ticks (see StatusService.lead), so two processes never both post. Each
tick renders the board for every channel and compares it with the hash stored
with the message: unchanged means no Discord call at all. A board message that
is gone (deleted, 10008 Unknown Message) is posted again; its id lives in the
database, so a restarted bot edits the same message. Every board message is
checked for existence once at start and then every STATUS_BOARD_CHECK_SECONDS.

The board shows states and since when, which change rarely; response times and
uptime figures, which drift every minute, are in /status, so a quiet tick stays
quiet. Everything is built from names, states and numbers: a monitor's URL,
host name or IP never reaches this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
import weakref
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from prometheus_client import CollectorRegistry, Counter, Gauge

from bot import embeds, replies
from bot.services.status import (
    Board,
    Overall,
    ServiceStatus,
    Source,
    State,
    StatusService,
    StatusSnapshot,
    Transition,
)

if TYPE_CHECKING:
    from bot.client import MediaNestBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
UNKNOWN_MESSAGE = 10008
ICONS = {
    State.UP: "🟢",
    State.DOWN: "🔴",
    State.PENDING: "🟡",
    State.MAINTENANCE: "🔧",
    State.UNKNOWN: "⚪",
}
TONES = {
    Overall.OPERATIONAL: embeds.Tone.SUCCESS,
    Overall.DEGRADED: embeds.Tone.WARNING,
    Overall.OUTAGE: embeds.Tone.ERROR,
    Overall.EMPTY: embeds.Tone.INFO,
}
EMBED_BUDGET = 5800  # Discord refuses embeds over 6000 characters in all


# --- rendering -----------------------------------------------------------------------


def _ts(moment: datetime, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def human_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {sec} s" if sec else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def _ping(ms: float) -> str:
    return "<1 ms" if ms < 1 else f"{round(ms)} ms"


def _uptime(ratio: float) -> str:
    """Rounded down, so 99.996 % never shows as 100 %."""
    return f"{math.floor(ratio * 10000) / 100:.2f} % (24 h)"


def service_line(service: ServiceStatus, *, board: bool, compact: bool = False) -> str:
    parts = [f"{ICONS[service.state]} **{embeds.safe(service.name, 80)}**"]
    if service.state is not State.UP:
        parts.append(service.state.value)
    if service.detail and (service.state is not State.UP or not board):
        parts.append(embeds.safe(service.detail, 80))
    if compact:
        return " · ".join(parts)
    if not board:
        if service.ping_ms is not None:
            parts.append(_ping(service.ping_ms))
        if service.uptime_24h is not None:
            parts.append(_uptime(service.uptime_24h))
    if service.cert_days is not None and service.cert_days <= 14:
        parts.append(f"certificate expires in {service.cert_days} d")
    if service.since is not None:
        parts.append(f"since {_ts(service.since)}")
    return " · ".join(parts)


def _field_value(lines: list[str], limit: int) -> str:
    """As many lines as fit in `limit` characters, then how many were left out."""
    value = ""
    for index, line in enumerate(lines):
        candidate = f"{value}\n{line}" if value else line
        if len(candidate) > limit - 20:
            more = f"… and {len(lines) - index} more"
            return f"{value}\n{more}" if value else more
        value = candidate
    return value or "—"


def _summary(snapshot: StatusSnapshot) -> str:
    overall = snapshot.overall
    services = list(snapshot.services())
    if overall is Overall.OUTAGE:
        down = snapshot.down
        names = ", ".join(embeds.safe(s.name, 60) for s in down[:10]) + (" …" if len(down) > 10 else "")
        return f"**{len(down)} of {len(services)} down:** {names}"
    if overall is Overall.OPERATIONAL:
        return "**All systems operational.**"
    if overall is Overall.EMPTY:
        return "Nothing is being watched yet."
    if all(s.state is State.UP for s in services):
        return "**Everything the bot can see is up.**"
    return "**Some services need attention.**"


def status_embed(snapshot: StatusSnapshot, *, board: bool, poll_seconds: int) -> discord.Embed:
    """The one status embed: `board` leaves out what drifts every minute (response time, uptime)."""
    lines = [_summary(snapshot)]
    if snapshot.source is Source.UNAVAILABLE:
        problem = snapshot.source_problem or "not answering"
        lines.append(
            f"⚠️ **Status source unavailable**: Uptime Kuma is {problem}, so only the bot's own checks are shown."
        )
    lines += [f"📣 {embeds.safe(title, 200)}" for title in snapshot.incidents[:3]]
    if snapshot.maintenance:
        lines.append("🔧 Maintenance: " + ", ".join(embeds.safe(t, 100) for t in snapshot.maintenance[:5]))
    title = embeds.safe(snapshot.title, 200) if snapshot.title else "Service status"
    if board:
        footer = f"Refreshed every {poll_seconds} s · /status for response times and uptime"
    else:
        footer = "Checked"
    embed = embeds.build(TONES[snapshot.overall], title, "\n".join(lines), footer=footer)
    if not board:
        embed.timestamp = snapshot.taken_at
    groups = snapshot.groups[:25]
    names = [embeds.safe(group.name, 200) or "—" for group in groups]
    share = (EMBED_BUDGET - len(embed) - sum(len(n) for n in names)) // max(len(groups), 1)
    for compact in (False, True):
        embed.clear_fields()
        for name, group in zip(names, groups, strict=True):
            lines = [service_line(s, board=board, compact=compact) for s in group.services]
            limit = embeds.FIELD_VALUE_LIMIT if not compact else max(min(embeds.FIELD_VALUE_LIMIT, share), 40)
            embed.add_field(name=name, value=_field_value(lines, limit), inline=False)
        if len(embed) <= EMBED_BUDGET:
            break
    return embed


def content_hash(embed: discord.Embed) -> str:
    return hashlib.sha256(json.dumps(embed.to_dict(), sort_keys=True).encode()).hexdigest()


def transition_text(t: Transition) -> str:
    name = f"**{embeds.safe(t.name, 100)}** ({embeds.safe(t.group, 100)})"
    if t.kind == "down":
        return f"🔴 {name} is down" + (f" since {_ts(t.since, 't')}." if t.since else ".")
    if t.kind == "up":
        after = f" after {human_duration(t.outage_seconds)}" if t.outage_seconds is not None else ""
        return f"🟢 {name} is back up{after}."
    start = f" since {_ts(t.episode_start, 't')}" if t.episode_start else ""
    now = "down" if t.state == "down" else "up"
    return f"🟠 {name} is flapping: down {t.downs} times{start}; {now} now ({_ts(t.at)})."


# --- metrics -------------------------------------------------------------------------


class StatusMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.ticks = Counter(
            "medianest_status_ticks_total",
            "Status loop ticks, by role (leader: did the work; standby: another process holds the lease).",
            ["role"],
            registry=registry,
        )
        self.board_calls = Counter(
            "medianest_status_board_calls_total",
            "Discord calls made for status boards, by kind (post, edit, check).",
            ["kind"],
            registry=registry,
        )
        self.source_up = Gauge(
            "medianest_status_source_up", "1 while Uptime Kuma answers, 0 while it does not.", registry=registry
        )


_metrics: weakref.WeakKeyDictionary[CollectorRegistry, StatusMetrics] = weakref.WeakKeyDictionary()


def status_metrics(registry: CollectorRegistry) -> StatusMetrics:
    """Once per registry, so reloading the cog does not register the metrics twice."""
    if registry not in _metrics:
        _metrics[registry] = StatusMetrics(registry)
    return _metrics[registry]


# --- the cog -----------------------------------------------------------------------------


class Status(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self.service: StatusService = bot.services.status
        self.poll_seconds = bot.settings.channels.status_poll_seconds
        self.check_seconds = bot.settings.channels.status_board_check_seconds
        self.metrics = status_metrics(bot.metrics.registry)
        self.group = StatusAdmin(self)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._checked: dict[int, float] = {}  # channel -> when its board message was last seen to exist
        self._failing: set[int] = set()

    async def cog_load(self) -> None:
        self.bot.admin_group.add_command(self.group)
        self._task = asyncio.create_task(self._run(), name="status-board")

    async def cog_unload(self) -> None:
        self.bot.admin_group.remove_command(self.group.name)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.service.step_down()
        except Exception:  # shutting down: Redis may already be gone; the lease then simply expires
            log.info("could not release the status lease", exc_info=True)

    def wake(self) -> None:
        """Tick now rather than at the end of the interval (an admin changed something)."""
        self._wake.set()

    # -- the loop -------------------------------------------------------------------

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except Exception:
                log.exception("status tick failed")
            remaining = self.poll_seconds - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(remaining, 0.05))
            self._wake.clear()

    async def tick(self) -> None:
        if not await self.service.lead():
            self._checked.clear()  # when this process leads again, it checks the boards first
            self.metrics.ticks.labels("standby").inc()
            return
        result = await self.service.refresh()
        self.metrics.source_up.set(0 if result.snapshot.source is Source.UNAVAILABLE else 1)
        boards = await self.service.boards()
        embed = status_embed(result.snapshot, board=True, poll_seconds=self.poll_seconds)
        for board in boards:
            try:
                await self._update_board(board, embed)
            except discord.HTTPException as exc:
                self._warn(board.channel_id, f"could not update the status board in channel {board.channel_id}", exc)
        for transition in result.transitions:
            await self._announce(transition, boards)
        self.metrics.ticks.labels("leader").inc()

    def _warn(self, channel_id: int, what: str, exc: discord.HTTPException) -> None:
        """Once per channel until it works again; a missing permission would otherwise log every minute."""
        if channel_id not in self._failing:
            log.warning("%s: %s %s", what, exc.status, exc.code)
        self._failing.add(channel_id)

    def _check_due(self, channel_id: int) -> bool:
        return time.monotonic() - self._checked.get(channel_id, -math.inf) >= self.check_seconds

    async def _update_board(self, board: Board, embed: discord.Embed) -> None:
        digest = content_hash(embed)
        channel = self.bot.get_partial_messageable(board.channel_id, guild_id=board.guild_id)
        if board.message_id is not None:
            message = channel.get_partial_message(board.message_id)
            try:
                if digest != board.content_hash:
                    self.metrics.board_calls.labels("edit").inc()
                    await message.edit(embed=embed, allowed_mentions=NO_MENTIONS)
                    guild_id = board.guild_id or await self._guild_of(board.channel_id)
                    await self.service.save_board(board.channel_id, guild_id, board.message_id, digest)
                elif self._check_due(board.channel_id):
                    self.metrics.board_calls.labels("check").inc()
                    await message.fetch()
                else:
                    return  # a quiet tick: nothing changed, nothing sent
                self._checked[board.channel_id] = time.monotonic()
                self._failing.discard(board.channel_id)
                return
            except discord.NotFound as exc:
                if exc.code != UNKNOWN_MESSAGE:
                    raise
                log.info("the status board in channel %s was deleted; posting it again", board.channel_id)
        self.metrics.board_calls.labels("post").inc()
        posted = await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
        guild_id = board.guild_id or await self._guild_of(board.channel_id)
        await self.service.save_board(board.channel_id, guild_id, posted.id, digest)
        self._checked[board.channel_id] = time.monotonic()
        self._failing.discard(board.channel_id)

    async def _guild_of(self, channel_id: int) -> int | None:
        """The server of a configured channel, for its alert settings (once, on the first post)."""
        found = self.bot.get_channel(channel_id)
        if found is None:
            try:
                found = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        guild = getattr(found, "guild", None)
        return guild.id if guild is not None else None

    async def _announce(self, transition: Transition, boards: list[Board]) -> None:
        text = transition_text(transition)
        for board in boards:
            channel = self.bot.get_partial_messageable(board.channel_id, guild_id=board.guild_id)
            try:
                if transition.kind == "flap":
                    post_id = transition.posts.get(board.channel_id)
                    if post_id is not None:  # the spell's post, edited: a flapping service posts once
                        await channel.get_partial_message(post_id).edit(content=text, allowed_mentions=NO_MENTIONS)
                    continue
                if transition.kind == "up" and board.silence_up:
                    continue
                content, mentions = text, NO_MENTIONS
                if transition.kind == "down" and board.ping_role_id is not None:
                    content = f"<@&{board.ping_role_id}> {text}"
                    mentions = discord.AllowedMentions(
                        everyone=False, users=False, roles=[discord.Object(board.ping_role_id)], replied_user=False
                    )
                posted = await channel.send(content=content, allowed_mentions=mentions)
                await self.service.remember_post(transition.key, board.channel_id, posted.id)
            except discord.HTTPException as exc:
                self._warn(board.channel_id, f"could not post a status change in channel {board.channel_id}", exc)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A board deleted by someone is posted again at once (needs the GUILD_MESSAGES intent;
        without it the next check finds it gone)."""
        if await self.service.forget_board_message(payload.channel_id, payload.message_id):
            self.wake()

    # -- /status ------------------------------------------------------------------------

    @app_commands.command(name="status", description="Is everything up? Plex, requests, downloads and the rest")
    @app_commands.describe(share="Post it for everyone in the channel (otherwise only you see it)")
    async def status(self, interaction: discord.Interaction[MediaNestBot], share: bool = False) -> None:
        snapshot = await self.service.cached()
        if snapshot is None:
            await replies.defer(interaction, ephemeral=not share)
            snapshot = await self.service.collect_now()
        embed = status_embed(snapshot, board=False, poll_seconds=self.poll_seconds)
        await replies.send(interaction, embed=embed, ephemeral=not share)


class StatusAdmin(app_commands.Group):
    def __init__(self, cog: Status) -> None:
        super().__init__(name="status", description="The live status board and its alerts")
        self.cog = cog

    @property
    def service(self) -> StatusService:
        return self.cog.service

    @app_commands.command(name="add-channel", description="Keep a live status board in a channel")
    async def add_channel(self, interaction: discord.Interaction[MediaNestBot], channel: discord.TextChannel) -> None:
        assert interaction.guild_id is not None  # the admin group is guild-only
        added = await self.service.add_channel(interaction.user.id, interaction.guild_id, channel.id)
        self.cog.wake()
        if added:
            body = f"{channel.mention} gets a status board within {self.service.poll_seconds} s."
            await replies.send(interaction, embed=embeds.success("Status board added", body))
        else:
            await replies.send(interaction, embed=embeds.info("Already there", f"{channel.mention} has a board."))

    @app_commands.command(name="remove-channel", description="Stop the status board in a channel")
    async def remove_channel(
        self, interaction: discord.Interaction[MediaNestBot], channel: discord.TextChannel
    ) -> None:
        assert interaction.guild_id is not None
        message_id = await self.service.remove_channel(interaction.user.id, interaction.guild_id, channel.id)
        if message_id is not None:
            with contextlib.suppress(discord.HTTPException):
                await channel.get_partial_message(message_id).delete()
        body = f"{channel.mention} no longer has a status board."
        await replies.send(interaction, embed=embeds.success("Status board removed", body))

    @app_commands.command(name="silence", description="Post, or stop posting, when a service comes back up")
    @app_commands.describe(on="True: no more 'back up' posts; False: post them again")
    async def silence(self, interaction: discord.Interaction[MediaNestBot], on: bool) -> None:
        assert interaction.guild_id is not None
        await self.service.set_silence_up(interaction.user.id, interaction.guild_id, on)
        text = "Recoveries are no longer posted." if on else "Recoveries are posted again."
        await replies.send(interaction, embed=embeds.success("Status alerts", text))

    @app_commands.command(name="ping-role", description="The role pinged when a service goes down")
    @app_commands.describe(role="Leave empty to ping nobody")
    async def ping_role(self, interaction: discord.Interaction[MediaNestBot], role: discord.Role | None = None) -> None:
        assert interaction.guild_id is not None
        await self.service.set_ping_role(interaction.user.id, interaction.guild_id, role.id if role else None)
        text = f"{role.mention} is pinged when a service goes down." if role else "Nobody is pinged any more."
        await replies.send(interaction, embed=embeds.success("Status alerts", text))


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(Status(bot))
