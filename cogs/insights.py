"""/admin stats and /admin doctor: how MediaNest is used, and whether everything it needs works.

Both commands sit directly in the /admin group. Both defer first (the numbers,
the chart and the checks can take seconds) and leave the admin check to their
service, which runs it before anything else.
"""

from __future__ import annotations

import io
import logging
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies
from bot.services.doctor import Check, DiscordFacts, DoctorReport
from bot.services.downloads import human_size
from bot.services.stats import PERIOD_LABELS, PERIODS, Period, StatsReport, UserCount, period_since

if TYPE_CHECKING:
    from bot.client import MediaNestBot

log = logging.getLogger(__name__)

CHART_NAME = "medianest-stats.png"
EMBED_BUDGET = 5800  # Discord's limit is 6000 characters for all of a message's embeds
_ICONS = {True: "✅", False: "⛔", None: "➖"}
_PERIOD_CHOICES = [
    app_commands.Choice(name="last 24 hours", value="24h"),
    app_commands.Choice(name="last 7 days", value="7d"),
    app_commands.Choice(name="last 30 days", value="30d"),
    app_commands.Choice(name="all time", value="all"),
]


# --- stats ------------------------------------------------------------------------------------


def _who(user_id: int | None, name: str | None) -> str:
    if user_id is not None:
        return f"<@{user_id}>"
    return f"{embeds.safe(name, 60)} (Overseerr)" if name else "someone outside Discord"


def _counts(values: dict[str, int]) -> str:
    return "\n".join(f"{status.replace('_', ' ')}: **{n}**" for status, n in values.items()) or "none"


def _requesters(rows: list[UserCount]) -> str:
    return "\n".join(f"{_who(r.user_id, r.name)}: **{r.count}**" for r in rows) or "none"


def stats_embed(report: StatsReport, label: str) -> discord.Embed:
    waiting, running = report.open_downloads.get("queued", 0), report.open_downloads.get("running", 0)
    queue = f"Queue: **{waiting}** waiting, **{running}** running"
    queue += (
        f" · **{report.queued_jobs}** job(s) in the worker queue"
        if report.queued_jobs is not None
        else " · the worker queue could not be read (Redis did not answer)"
    )
    description = "\n".join(
        [
            f"**{report.total_requests}** request(s) · **{report.total_downloads}** download(s) · "
            f"**{human_size(report.added_bytes)}** added",
            f"On disk: **{human_size(report.on_disk_bytes)}**",
            queue,
        ]
    )
    embed = embeds.info(f"MediaNest stats: {label}", description)
    embed.add_field(name="Requests by state", value=_counts(report.requests_by_status))
    embed.add_field(name="Top requesters", value=embeds.truncate(_requesters(report.requests_by_user), 1024))
    embed.add_field(name="Downloads by state", value=_counts(report.downloads_by_status))
    per_user = [
        f"{_who(u.user_id, u.name)}: **{u.downloads}** download(s), {human_size(u.added_bytes)} added, "
        f"{human_size(u.on_disk_bytes)} on disk"
        for u in report.downloads_by_user
    ]
    embed.add_field(
        name="Downloads and disk per member", value=embeds.truncate("\n".join(per_user) or "none", 1024), inline=False
    )
    titles = [
        f"{i}. **{embeds.safe(t.title, 80)}** ({'movie' if t.media_type == 'movie' else 'show'}): "
        f"{t.people} {'person' if t.people == 1 else 'people'}, {t.requests} request(s)"
        for i, t in enumerate(report.top_titles, start=1)
    ]
    embed.add_field(name="Most requested", value=embeds.truncate("\n".join(titles) or "none", 1024), inline=False)
    since = f"{report.since:%Y-%m-%d %H:%M} UTC" if report.since else "the beginning"
    embed.set_footer(text=f"From {since} to {report.until:%Y-%m-%d %H:%M} UTC")
    return embed


# --- doctor -----------------------------------------------------------------------------------


def _check_field(check: Check, detail_limit: int, hint_limit: int) -> tuple[str, str]:
    value = embeds.safe(check.detail, detail_limit)
    if check.hint and hint_limit:
        value += f"\n**Fix:** {embeds.truncate(check.hint, hint_limit)}"
    return f"{_ICONS[check.ok]} {check.name}", embeds.truncate(value, 1024)


def doctor_embed(report: DoctorReport) -> discord.Embed:
    failing, unknown = report.failing, report.unknown
    fine = [c for c in report.checks if c.ok is True]
    tone = embeds.Tone.ERROR if failing else embeds.Tone.WARNING if unknown else embeds.Tone.SUCCESS
    summary = (
        f"**{len(fine)}** fine · **{len(failing)}** broken · **{len(unknown)}** not set up or unknown "
        f"· checked in {report.took_ms / 1000:.1f} s"
    )
    lines = [summary, ""]
    for check in fine:
        line = f"{_ICONS[True]} **{check.name}**: {embeds.safe(check.detail, 200)}"
        if check.hint:
            line += f" ({check.hint})"
        lines.append(line)
    embed = embeds.build(tone, "MediaNest doctor", "\n".join(lines))
    # broken first, then the unknown; shortened only as far as Discord's size limit needs
    for detail_limit, hint_limit in ((300, 600), (300, 300), (150, 150), (80, 80), (60, 0)):
        fields = [_check_field(c, detail_limit, hint_limit) for c in [*failing, *unknown]][:25]
        size = len(embed.title or "") + len(embed.description or "") + sum(len(n) + len(v) for n, v in fields)
        if size <= EMBED_BUDGET:
            break
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=False)
    return embed


# --- what only the bot knows, for the doctor ---------------------------------------------------


def local_leaves(
    items: list[app_commands.Command | app_commands.Group | app_commands.ContextMenu],  # type: ignore[type-arg]
) -> set[str]:
    names: set[str] = set()
    for item in items:
        if isinstance(item, app_commands.Group):
            names |= {c.qualified_name for c in item.walk_commands() if isinstance(c, app_commands.Command)}
        else:
            names.add(item.qualified_name if isinstance(item, app_commands.Command) else item.name)
    return names


def remote_leaves(items: list[app_commands.AppCommand]) -> set[str]:
    def walk(prefix: str, options: list[app_commands.AppCommandGroup | app_commands.Argument]) -> set[str]:
        groups = [o for o in options if isinstance(o, app_commands.AppCommandGroup)]
        if not groups:
            return {prefix}
        return {name for g in groups for name in walk(f"{prefix} {g.name}", list(g.options))}

    return {name for item in items for name in walk(item.name, list(item.options))}


def discord_facts(bot: MediaNestBot) -> DiscordFacts:
    guild_ids = bot.settings.discord.guild_ids
    scopes: list[discord.Object | None] = [discord.Object(g) for g in guild_ids] or [None]

    def prefix(scope: discord.Object | None) -> str:
        return f"[server {scope.id}] " if scope is not None and len(scopes) > 1 else ""

    defined = frozenset(
        prefix(scope) + name for scope in scopes for name in local_leaves(bot.tree.get_commands(guild=scope))
    )

    async def list_synced() -> frozenset[str]:
        names: set[str] = set()
        for scope in scopes:
            names |= {prefix(scope) + n for n in remote_leaves(await bot.tree.fetch_commands(guild=scope))}
        return frozenset(names)

    latency = bot.latency
    # the command itself came over the gateway; a closed shard is what matters, not is_ready(),
    # which stays False for a moment after each connect while servers load
    closed = not bot.shards or any(shard.is_closed() for shard in bot.shards.values())
    return DiscordFacts(
        intents=frozenset(name for name, on in bot.intents if on),
        connected=not closed,
        latency_ms=latency * 1000 if math.isfinite(latency) else None,
        scope=f"{len(guild_ids)} server(s)" if guild_ids else "global",
        defined=defined,
        list_synced=list_synced,
    )


class Insights(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self._commands: list[app_commands.Command] = [  # type: ignore[type-arg]
            app_commands.Command(
                name="stats",
                description="Requests, downloads, disk use and the queue over a period, with a chart",
                callback=self.stats,
            ),
            app_commands.Command(
                name="doctor",
                description="Check everything MediaNest depends on, and how to fix what is broken",
                callback=self.doctor,
            ),
        ]

    async def cog_load(self) -> None:
        for command in self._commands:
            self.bot.admin_group.add_command(command)

    async def cog_unload(self) -> None:
        for command in self._commands:
            self.bot.admin_group.remove_command(command.name)

    @app_commands.describe(period="How far back to look (default: the last 7 days)")
    @app_commands.choices(period=_PERIOD_CHOICES)
    async def stats(
        self, interaction: discord.Interaction[MediaNestBot], period: app_commands.Choice[str] | None = None
    ) -> None:
        await replies.defer(interaction)
        key: Period = "7d"
        if period is not None and period.value in PERIODS:
            key = period.value
        service = self.bot.services.stats
        report = await service.stats(interaction.user.id, period_since(key, datetime.now(UTC)))
        embed = stats_embed(report, PERIOD_LABELS[key])
        files = []
        try:
            chart = await service.chart(report)
        except Exception:
            log.exception("could not draw the /admin stats chart; sending the numbers without it")
            chart = None
        if chart is not None:
            embed.set_image(url=f"attachment://{CHART_NAME}")
            files.append(discord.File(io.BytesIO(chart), filename=CHART_NAME))
        await replies.send(interaction, embed=embed, files=files)

    async def doctor(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        await replies.defer(interaction)
        report = await self.bot.services.doctor.report(interaction.user.id, discord_facts(self.bot))
        await replies.send(interaction, embed=doctor_embed(report))


async def setup(bot: MediaNestBot) -> None:
    await bot.add_cog(Insights(bot))
