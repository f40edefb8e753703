"""`FakeDiscord`: the fake server and the test API that reads like a user story.

    discord = FakeDiscord(bot_token="t0ken", application_id=1234)
    await discord.start()
    guild = discord.create_guild("Home")
    chan = discord.create_channel(guild, "general")
    alice = discord.create_user("alice")
    discord.add_member(guild, alice)
    ... start the bot with discord.bot_env() ...
    await discord.wait_for_bot_ready()
    resp = await discord.slash(alice, "ping", channel=chan)
    msg = await resp.wait_reply()

Everything the bot does arrives through real HTTP and websocket traffic; this
class only wires the parts together and offers the verbs a test needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from ..base import FakeServer, wait_for
from .commands import CommandStore, InvocationContext, UploadFile, build_command_data, convert_value
from .contract import ContractChecker, ContractError
from .errors import CommandSchemaError, ComponentError
from .gateway import PRIVILEGED_INTENTS, Gateway, GatewayStats
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    Interaction,
    InteractionManager,
)
from .models import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    TEXT_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Message,
    Overwrite,
    SnowflakeMinter,
)
from .ratelimit import RateLimiter, RateLimitHit
from .rest import RestApi, UnimplementedCall
from .routes_core import CoreRoutes
from .routes_messages import MessageRoutes
from .state import DiscordState

SELECT_TYPES = {3, 5, 6, 7, 8}
DEFAULT_TOKEN = "ZmFrZS1ib3Q.fake.bot-token-for-tests"


class FakeDiscord(FakeServer):
    """A local Discord (REST v10 + gateway) that a real discord.py bot logs into."""

    def __init__(
        self,
        bot_token: str = DEFAULT_TOKEN,
        application_id: int | None = None,
        bot_name: str = "FakeBot",
        *,
        heartbeat_interval_ms: int = 41250,
        ack_timeout: float = 3.0,
        token_ttl: float = 15 * 60.0,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        privileged_intents: int = PRIVILEGED_INTENTS,
        compression: bool = True,
        contract: bool = True,
        rate_limits: bool = True,
        buckets: dict[tuple[str, str], tuple[int, float]] | None = None,
        global_limit: int = 50,
    ) -> None:
        # Parts are built before FakeServer.__init__, which calls setup_routes.
        self.bot_token = bot_token
        app_id = application_id or SnowflakeMinter()()
        self.state = DiscordState(app_id, bot_name, bot_permissions)
        self.commands = CommandStore(app_id, self.state.mint)
        self.gateway = Gateway(self.state, bot_token, heartbeat_interval_ms, privileged_intents, compression)
        self.interactions = InteractionManager(self.state, self._dispatch_interaction, ack_timeout, token_ttl)
        self.limiter = RateLimiter(buckets, global_limit, enabled=rate_limits)
        self.contract = ContractChecker(enabled=contract)
        self.rest = RestApi(
            state=self.state,
            commands=self.commands,
            interactions=self.interactions,
            gateway=self.gateway,
            limiter=self.limiter,
            contract=self.contract,
            token=bot_token,
        )
        super().__init__()

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        self.app.middlewares.append(self.rest.middleware)
        self.gateway.setup_routes(router)
        CoreRoutes(self.rest).register(router)
        MessageRoutes(self.rest).register(router)

    # ----- lifecycle ---------------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        self.contract.preload()
        await super().start(port)
        self.state.cdn_base = self.url
        self.gateway.base_url = f"ws://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.gateway.close_all()
        await super().stop()
        await self.contract.drain()
        self.contract.close()

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def bot(self) -> FakeUser:
        return self.state.bot

    @property
    def api_base(self) -> str:
        """What the bot must use as `discord.http.Route.BASE`."""
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What the bot must use as `DiscordWebSocket.DEFAULT_GATEWAY`."""
        return self.gateway.url

    def bot_env(self) -> dict[str, str]:
        """Environment variables pointing a bot process at this fake."""
        return {
            "DISCORD_TOKEN": self.bot_token,
            "DISCORD_API_BASE_URL": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_APPLICATION_ID": str(self.application_id),
        }

    # ----- building the world ---------------------------------------------------------
    def create_user(
        self, username: str, global_name: str | None = None, *, bot: bool = False, locale: str = "en-US"
    ) -> FakeUser:
        return self.state.create_user(username, global_name, bot, locale)

    def create_guild(self, name: str, owner: FakeUser | None = None, locale: str = "en-US") -> FakeGuild:
        """A guild with @everyone, an owner, and the bot as a member with its managed role."""
        return self.state.create_guild(name, owner, locale)

    def create_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        type: int = TEXT_CHANNEL,
        topic: str | None = None,
        category: FakeChannel | None = None,
        overwrites: Iterable[Overwrite] = (),
    ) -> FakeChannel:
        return self.state.create_channel(guild, name, type, topic, category, overwrites)

    def create_role(
        self,
        guild: FakeGuild,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        mentionable: bool = False,
        hoist: bool = False,
        position: int | None = None,
    ) -> FakeRole:
        return self.state.create_role(guild, name, permissions, color, mentionable, hoist, position)

    def add_member(
        self, guild: FakeGuild, user: FakeUser, roles: Iterable[FakeRole] = (), nick: str | None = None
    ) -> FakeMember:
        return self.state.add_member(guild, user, roles, nick)

    def remove_member(self, guild: FakeGuild, user: FakeUser) -> None:
        self.state.remove_member(guild, user)

    def set_app_owner(self, user: FakeUser) -> None:
        """Who `/oauth2/applications/@me` names as owner (discord.py's `is_owner`)."""
        self.state.app_owner = user

    def member(self, guild: FakeGuild, user: FakeUser) -> FakeMember:
        return guild.members[user.id]

    # ----- readiness ---------------------------------------------------------------------
    @property
    def bot_ready(self) -> bool:
        """The bot identified and READY plus every GUILD_CREATE went out on its socket."""
        session = self.gateway.active_session
        return session is not None and session.ready_flushed

    async def wait_for_bot_ready(self, timeout: float = 30.0) -> None:
        await wait_for(lambda: self.bot_ready, timeout, what="the bot to identify and receive READY")

    async def wait_for_commands(
        self, names: Iterable[str], guild: FakeGuild | None = None, timeout: float = 30.0
    ) -> None:
        """Wait until the bot has registered (synced) all `names` (global, plus `guild`'s)."""
        wanted = set(names)
        gid = guild.id if guild else None

        def synced() -> bool:
            return wanted <= self.commands.names(gid)

        await wait_for(synced, timeout, what=f"commands {sorted(wanted)} to be registered")

    def registered_commands(self, guild: FakeGuild | None = None) -> list[dict[str, Any]]:
        return self.commands.listing(guild.id if guild else None)

    # ----- invoking interactions -----------------------------------------------------------
    def _where(
        self, user: FakeUser, guild: FakeGuild | None, channel: FakeChannel | None
    ) -> tuple[FakeGuild | None, FakeChannel]:
        if channel is not None:
            if channel.is_dm:
                if channel.recipient is not user:
                    raise CommandSchemaError(f"{user.username} cannot act in another user's DM")
                self.state.dm_contacts.add(user.id)
                return None, channel
            in_guild = self.state.guilds[channel.guild_id or 0]
            if guild is not None and guild is not in_guild:
                raise CommandSchemaError(f"channel #{channel.name} is not in guild {guild.name}")
            guild = in_guild
        elif guild is not None:
            channel = next((c for c in guild.channels if c.type == TEXT_CHANNEL), None)
            if channel is None:
                raise CommandSchemaError(f"guild {guild.name} has no text channel; create one or pass channel=")
        else:
            self.state.dm_contacts.add(user.id)
            return None, self.state.dm_channel(user)
        if user.id not in guild.members:
            raise CommandSchemaError(f"{user.username} is not a member of {guild.name}")
        return guild, channel

    def _context(self, user: FakeUser, guild: FakeGuild | None, channel: FakeChannel) -> InvocationContext:
        def permissions(who: FakeUser | None, where: FakeChannel | None) -> str:
            if guild is None:
                return "0"
            return str(self.state.permissions(guild, (who or user).id, where or channel))

        def add_attachment(upload: UploadFile) -> dict[str, Any]:
            att_id = self.state.mint()
            path = f"/attachments/{channel.id}/{att_id}/{upload.filename}"
            self.state.cdn[path] = (upload.data, upload.content_type)
            return {
                "id": str(att_id),
                "filename": upload.filename,
                "size": len(upload.data),
                "url": self.url + path,
                "proxy_url": self.url + path,
                "content_type": upload.content_type,
                "ephemeral": True,
            }

        return InvocationContext(guild, {}, add_attachment, permissions)

    def _check_visible(
        self, user: FakeUser, command: dict[str, Any], guild: FakeGuild | None, channel: FakeChannel
    ) -> None:
        """Refuse what Discord's client would not even show the user."""
        contexts = command.get("contexts")
        name = command["name"]
        if guild is None:
            if "guild_id" in command or command.get("dm_permission") is False or (contexts and 1 not in contexts):
                raise CommandSchemaError(f"/{name} is not available in DMs")
            return
        if contexts and 0 not in contexts:
            raise CommandSchemaError(f"/{name} is not available in guilds")
        needed = command.get("default_member_permissions")
        if needed is not None:
            have = self.state.permissions(guild, user.id, channel)
            if have != ALL_PERMISSIONS and (int(needed) == 0 or have & int(needed) != int(needed)):
                raise CommandSchemaError(
                    f"{user.username} cannot see /{name}: it needs permissions {needed}, they have {have}"
                )

    def _require_bot(self) -> None:
        if not self.gateway.live_sessions:
            raise AssertionError("the bot is not connected to the fake gateway")

    def _build(
        self,
        user: FakeUser,
        command: str,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        options: dict[str, Any] | None,
        kwargs: dict[str, Any],
        focused: str | None = None,
    ) -> tuple[FakeGuild | None, FakeChannel, dict[str, Any]]:
        where_guild, where = self._where(user, guild, channel)
        name, *path = command.split()
        registered = self.commands.find(name, where_guild.id if where_guild else None)
        self._check_visible(user, registered, where_guild, where)
        values = {**kwargs, **(options or {})}
        data = build_command_data(registered, path, values, self._context(user, where_guild, where), focused)
        return where_guild, where, data

    async def slash(
        self,
        user: FakeUser,
        command: str,
        /,
        *,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Interaction:
        """`user` runs `/command` (e.g. "admin user ban"); returns the interaction handle.

        Options go as keyword arguments, or in `options=` for names that are not
        Python identifiers or that clash with `guild`/`channel`. Users, members,
        roles and channels are passed as the fake's objects, attachments as
        `UploadFile`. No guild and no channel means the user's DM with the bot.
        """
        self._require_bot()
        where_guild, where, data = self._build(user, command, guild, channel, options, kwargs)
        return self.interactions.create(APPLICATION_COMMAND, user, where_guild, where, data)

    async def autocomplete(
        self,
        user: FakeUser,
        command: str,
        /,
        *,
        focused: str,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float = 5.0,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """`user` types into option `focused`; returns the choices the bot offered."""
        self._require_bot()
        where_guild, where, data = self._build(user, command, guild, channel, options, kwargs, focused)
        handle = self.interactions.create(AUTOCOMPLETE, user, where_guild, where, data)
        await handle.wait_ack(timeout)
        return list(handle.choices or [])

    def _component_target(
        self, user: FakeUser, message: Message, custom_id: str, types: set[int]
    ) -> tuple[FakeGuild | None, FakeChannel, dict[str, Any]]:
        current = self.state.messages.get(message.id)
        if current is None or current.deleted:
            raise ComponentError(f"message {message.id} no longer exists")
        if current.author.id != self.state.bot.id:
            raise ComponentError("only the bot's messages carry components the bot handles")
        if current.ephemeral and (current.interaction_metadata or {}).get("user", {}).get("id") != str(user.id):
            raise ComponentError(f"{user.username} cannot see another user's ephemeral message")
        comp = current.component(custom_id)
        if comp is None:
            raise ComponentError(f"no component {custom_id!r} on the message; it has {current.custom_ids()}")
        if comp.get("type") not in types:
            raise ComponentError(f"component {custom_id!r} is type {comp.get('type')}, expected one of {sorted(types)}")
        if comp.get("disabled"):
            raise ComponentError(f"component {custom_id!r} is disabled")
        guild, channel = self._where(user, None, self.state.channels[current.channel_id])
        return guild, channel, comp

    async def click(self, user: FakeUser, message: Message, custom_id: str) -> Interaction:
        """`user` presses the button `custom_id` on `message`."""
        self._require_bot()
        guild, channel, comp = self._component_target(user, message, custom_id, {2})
        if comp.get("style") in (5, 6):
            raise ComponentError(f"button {custom_id!r} is a link/premium button; it sends no interaction")
        data = {"custom_id": custom_id, "component_type": 2, "id": comp["id"]}
        return self.interactions.create(MESSAGE_COMPONENT, user, guild, channel, data, message)

    async def select(self, user: FakeUser, message: Message, custom_id: str, values: list[Any]) -> Interaction:
        """`user` picks `values` in the select menu `custom_id` on `message`.

        String selects take option values; user/role/channel selects take the
        fake's objects.
        """
        self._require_bot()
        guild, channel, comp = self._component_target(user, message, custom_id, SELECT_TYPES)
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise ComponentError(f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"], "id": comp["id"]}
        if comp["type"] == 3:
            allowed = [o["value"] for o in comp.get("options", [])]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ComponentError(f"select {custom_id!r} has no option(s) {bad}; options are {allowed}")
            data["values"] = list(values)
        else:
            ctx = self._context(user, guild, channel)
            kinds = {5: (FakeUser, FakeMember), 6: (FakeRole,), 7: (FakeUser, FakeMember, FakeRole), 8: (FakeChannel,)}
            ids = []
            for v in values:
                if not isinstance(v, kinds[comp["type"]]):
                    raise ComponentError(f"select {custom_id!r} (type {comp['type']}) cannot take {v!r}")
                option_type = {FakeUser: 6, FakeMember: 6, FakeRole: 8, FakeChannel: 7}[type(v)]
                ids.append(convert_value(f"select {custom_id}", {"type": option_type, "name": custom_id}, v, ctx))
            data["values"] = ids
            data["resolved"] = ctx.resolved
        return self.interactions.create(MESSAGE_COMPONENT, user, guild, channel, data, message)

    async def submit_modal(
        self, user: FakeUser, opened: Interaction, fields: dict[str, Any], custom_id: str | None = None
    ) -> Interaction:
        """`user` fills in and submits the modal the bot opened in answer to `opened`."""
        self._require_bot()
        modal = opened.modal
        if modal is None:
            raise ComponentError(f"the bot did not open a modal for interaction {opened.id}")
        if user is not opened.user:
            raise ComponentError("only the user the modal was shown to can submit it")
        if custom_id is not None and custom_id != modal["custom_id"]:
            raise ComponentError(f"the open modal is {modal['custom_id']!r}, not {custom_id!r}")
        remaining = dict(fields)
        components = [c for c in (self._modal_part(comp, remaining) for comp in modal.get("components", [])) if c]
        if remaining:
            raise ComponentError(f"modal {modal['custom_id']!r} has no field(s) {sorted(remaining)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        return self.interactions.create(
            MODAL_SUBMIT, user, opened.guild, opened.channel, data, opened.source_message, trigger=opened
        )

    def _modal_part(self, comp: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any] | None:
        ctype = comp.get("type")
        if ctype == 1:
            inputs = (self._modal_input(x, fields) for x in comp["components"])
            return {"type": 1, "components": [c for c in inputs if c]}
        if ctype == 18:
            inner = self._modal_input(comp["component"], fields)
            return {"type": 18, "component": inner} if inner else None
        return None

    @staticmethod
    def _modal_input(comp: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any] | None:
        cid = str(comp.get("custom_id"))
        if comp.get("type") == 4:
            value = fields.pop(cid, comp.get("value") or "")
            if not isinstance(value, str):
                raise ComponentError(f"text input {cid!r} takes a str")
            if comp.get("required", True) and not value:
                raise ComponentError(f"text input {cid!r} is required")
            lo, hi = comp.get("min_length", 0), comp.get("max_length", 4000)
            if value and not lo <= len(value) <= hi:
                raise ComponentError(f"text input {cid!r} takes {lo}..{hi} characters, got {len(value)}")
            return {"type": 4, "custom_id": cid, "value": value}
        if comp.get("type") == 3:
            values = fields.pop(cid, [])
            allowed = [o["value"] for o in comp.get("options", [])]
            if any(v not in allowed for v in values):
                raise ComponentError(f"select {cid!r} options are {allowed}")
            return {"type": 3, "custom_id": cid, "values": list(values)}
        return None

    # ----- messages as users see them ----------------------------------------------------
    def channel_messages(self, channel: FakeChannel, include_ephemeral: bool = False) -> list[Message]:
        """Live messages in `channel`, oldest first."""
        return sorted(self.state.channel_messages(channel, include_ephemeral), key=lambda m: m.id)

    async def wait_for_message(
        self, channel: FakeChannel, predicate: Callable[[Message], Any] = lambda m: True, timeout: float = 5.0
    ) -> Message:
        def find() -> Message | None:
            return next((m for m in self.channel_messages(channel) if predicate(m)), None)

        msg: Message = await wait_for(find, timeout, what=f"a message in #{channel.name} matching the predicate")
        return msg

    def dms(self, user: FakeUser) -> list[Message]:
        """Messages the bot sent `user` in their DM channel, oldest first."""
        channel = self.state.dm_channels.get(user.id)
        if channel is None:
            return []
        return [m for m in self.channel_messages(channel, include_ephemeral=True) if m.author is self.state.bot]

    async def wait_for_dm(
        self, user: FakeUser, predicate: Callable[[Message], Any] = lambda m: True, timeout: float = 5.0
    ) -> Message:
        def find() -> Message | None:
            return next((m for m in self.dms(user) if predicate(m)), None)

        msg: Message = await wait_for(find, timeout, what=f"a DM to {user.username} matching the predicate")
        return msg

    def close_dms(self, user: FakeUser) -> None:
        """From now on the bot's DMs to `user` fail with 50007."""
        self.state.closed_dms.add(user.id)

    def open_dms(self, user: FakeUser) -> None:
        self.state.closed_dms.discard(user.id)

    def delete_message(self, message: Message) -> None:
        """A user (or moderator) deletes `message`; the bot gets MESSAGE_DELETE."""
        self.state.delete_message(message)

    def post_message(self, user: FakeUser, channel: FakeChannel, content: str) -> Message:
        """`user` writes `content` in `channel`; the bot gets MESSAGE_CREATE (intents permitting)."""
        if channel.is_dm:
            channel = self.state.dm_channel(user)
        elif user.id not in self.state.guilds[channel.guild_id or 0].members:
            raise CommandSchemaError(f"{user.username} is not a member of that guild")
        return self.state.create_message(channel, user, {"content": content})

    # ----- gateway control --------------------------------------------------------------------
    def send_reconnect(self) -> None:
        self.gateway.send_reconnect()

    def send_invalid_session(self, resumable: bool = False) -> None:
        self.gateway.send_invalid_session(resumable)

    def drop_connection(self, code: int = 4000) -> None:
        self.gateway.drop_connection(code)

    @property
    def gateway_stats(self) -> GatewayStats:
        return self.gateway.stats

    # ----- rate limits ---------------------------------------------------------------------------
    def rate_limit_next(
        self, method: str, path_pattern: str, n: int = 1, retry_after: float = 1.0, *, is_global: bool = False
    ) -> None:
        """The next `n` `method` requests matching `path_pattern` (under /api/v10) get a 429."""
        self.limiter.force(method, path_pattern, n, retry_after, is_global)

    @property
    def rate_limit_hits(self) -> list[RateLimitHit]:
        return self.limiter.hits

    # ----- problems a fixture fails on ------------------------------------------------------------------
    @property
    def contract_errors(self) -> list[ContractError]:
        return self.contract.errors

    @property
    def unimplemented_routes(self) -> list[UnimplementedCall]:
        return self.rest.unimplemented

    async def problems(self) -> list[str]:
        """Crashes of the fake, contract mismatches and calls to routes the fake lacks.

        Waits for the contract worker to catch up first.
        """
        await self.contract.drain()
        return (
            [f"[fake crashed] {c}" for c in self.rest.crashes + self.gateway.crashes]
            + [str(e) for e in self.contract_errors]
            + [f"[unimplemented] {c.method} {c.path} (the fake answered 404)" for c in self.unimplemented_routes]
        )

    def _dispatch_interaction(self, handle: Interaction) -> None:
        self.gateway.dispatch("INTERACTION_CREATE", handle.payload)
