"""The MediaNest bot: a commands.Bot whose setup_hook wires everything once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.deps import Dependencies
from bot.events import BotEvent, EventConsumer
from bot.gate import Gate
from bot.health import database_check, redis_check
from bot.metrics import Metrics
from bot.notifier import DiscordNotifier
from bot.services.container import Services
from bot.tree import MediaNestTree
from bot.web import WebServer
from bot.webhooks import overseerr_webhook

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.meta",
    "cogs.account",
    "cogs.moderation",
    "cogs.requests",
    "cogs.downloads",
    "cogs.status",
    "cogs.admin_console",  # after cogs.downloads: it extends /admin downloads
    "cogs.insights",
)


def point_discord_at(settings: Settings) -> None:
    """Aim discord.py at the configured REST and gateway endpoints (a fake one in tests).

    Followup webhooks use the same `Route.BASE`, so one setting covers both.
    """
    discord.http.Route.BASE = str(settings.discord.api_base_url).rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def intents() -> discord.Intents:
    """Only what the bot uses: guild and channel events. No privileged intents."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def silence_voice_warnings() -> None:
    """The bot never joins voice; discord.py's "PyNaCl/davey is not installed" warnings are noise."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


class MediaNestBot(commands.AutoShardedBot):
    """Sharded only when SHARD_COUNT says so; one shard otherwise (no /gateway/bot call)."""

    tree: MediaNestTree

    def __init__(self, settings: Settings) -> None:
        silence_voice_warnings()
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            tree_cls=MediaNestTree,
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            shard_count=settings.discord.shard_count or 1,
            # None means "every shard" (discord.py pops it with that default); its options TypedDict omits None
            shard_ids=cast(list[int], settings.discord.shard_ids or None),
            guild_ready_timeout=settings.discord.guild_ready_timeout,
        )
        self.settings = settings
        self.metrics = Metrics()
        self.web = WebServer(
            settings.web.host, settings.web.port, self.metrics, max_body_bytes=settings.web.max_body_bytes
        )
        self.admin_group = app_commands.Group(
            name="admin",
            description="MediaNest administration",
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )
        self._deps: Dependencies | None = None
        self._services: Services | None = None
        self._gate: Gate | None = None
        self.event_handlers: dict[str, Callable[[BotEvent], Awaitable[None]]] = {}
        self._consumer: EventConsumer | None = None
        self._consumer_task: asyncio.Task[None] | None = None

    @property
    def deps(self) -> Dependencies:
        if self._deps is None:
            raise RuntimeError("dependencies are built in setup_hook; this was called too early")
        return self._deps

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are built in setup_hook; this was called too early")
        return self._services

    @property
    def gate(self) -> Gate:
        if self._gate is None:
            raise RuntimeError("the gate is built in setup_hook; this was called too early")
        return self._gate

    async def setup_hook(self) -> None:
        self._deps = await Dependencies.open(self.settings, metrics=self.metrics)
        self.notifier = DiscordNotifier(self, self.deps.runtime)
        self._services = Services.build(self.deps, self.notifier)
        self._gate = Gate(self.services.accounts, self.deps.limiter, self.deps.runtime)
        self.web.add_check("database", database_check(self.deps.pool))
        self.web.add_check("redis", redis_check(self.deps.redis))
        self.web.add_check("discord", self._check_gateway)
        self.web.add_info("circuits", lambda: {n: b.state.value for n, b in self.deps.breakers.items()})
        secret = self.settings.overseerr.webhook_secret
        self.web.app.router.add_post(
            "/webhooks/overseerr",
            overseerr_webhook(self.services.requests, secret.get_secret_value() if secret else None, self.deps.redis),
        )
        await self.web.start()
        self.tree.add_command(self.admin_group)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        self._consumer = EventConsumer(self.deps.redis, self._dispatch_event)
        self._consumer_task = asyncio.create_task(self._consumer.run(), name="event-consumer")

    async def _dispatch_event(self, event: BotEvent) -> None:
        """One event from a worker or webhook: a notice to deliver, or a feature's own kind."""
        await self.wait_until_ready()
        if event.kind == "notice" and event.notice is not None:
            await self.notifier.notify(event.notice)
            return
        handler = self.event_handlers.get(event.kind)
        if handler is None:
            log.warning("no handler for %s events; leaving it for another process", event.kind)
            raise LookupError(event.kind)
        await handler(event)

    async def sync_commands(self) -> None:
        """To the configured guilds (instant) when set, else globally (Discord may take a while)."""
        guild_ids = self.settings.discord.guild_ids
        if not guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))
            return
        for guild_id in guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        # guild copies replace the global set, else every command would show twice
        self.tree.clear_commands(guild=None)
        await self.tree.sync()

    async def on_app_command_completion(self, interaction: discord.Interaction[Any], _: Any) -> None:
        self.tree.observe_success(interaction)

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("connected as %s (%s) in %d guild(s)", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        log.info("shutting down")
        if self._consumer is not None and self._consumer_task is not None:
            self._consumer.stop()
            self._consumer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer_task
        await super().close()
        await self.web.close()
        if self._deps is not None:
            await self._deps.close()

    async def _check_gateway(self) -> str | None:
        if not self.is_ready():
            return "not connected to the Discord gateway yet"
        closed = [shard_id for shard_id, shard in self.shards.items() if shard.is_closed()]
        if closed:
            return f"gateway shard(s) {closed} disconnected"
        latency = self.latency
        if latency == latency and latency != float("inf"):  # NaN before the first heartbeat
            self.metrics.gateway_latency.set(latency)
        return None
