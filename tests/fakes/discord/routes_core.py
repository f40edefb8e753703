"""REST routes for identity, the gateway URL, application commands, guilds and members."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from . import errors
from .errors import DiscordError
from .models import BAN_MEMBERS, KICK_MEMBERS, MANAGE_ROLES, MODERATE_MEMBERS, FakeGuild
from .rest import API_PREFIX, BODY_KEY, RestApi, body_of, no_content, reply, snowflake


class CoreRoutes:
    def __init__(self, api: RestApi) -> None:
        self.api = api
        self.state = api.state

    def register(self, router: web.UrlDispatcher) -> None:
        p = API_PREFIX
        router.add_get(p + "/users/@me", self.me)
        router.add_get(p + "/users/{user_id}", self.get_user)
        router.add_get(p + "/gateway", self.gateway)
        router.add_get(p + "/gateway/bot", self.gateway_bot)
        router.add_get(p + "/oauth2/applications/@me", self.application)
        router.add_get(p + "/applications/@me", self.application)
        for scope in ("", "/guilds/{guild_id}"):
            router.add_get(p + "/applications/{application_id}" + scope + "/commands", self.list_commands)
            router.add_put(p + "/applications/{application_id}" + scope + "/commands", self.overwrite_commands)
        router.add_get(p + "/guilds/{guild_id}", self.get_guild)
        router.add_get(p + "/guilds/{guild_id}/channels", self.guild_channels)
        router.add_get(p + "/guilds/{guild_id}/roles", self.guild_roles)
        router.add_get(p + "/guilds/{guild_id}/members", self.list_members)
        router.add_get(p + "/guilds/{guild_id}/members/{user_id}", self.get_member)
        router.add_patch(p + "/guilds/{guild_id}/members/{user_id}", self.edit_member)
        router.add_delete(p + "/guilds/{guild_id}/members/{user_id}", self.kick_member)
        router.add_put(p + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_role)
        router.add_delete(p + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_role)
        router.add_put(p + "/guilds/{guild_id}/bans/{user_id}", self.ban)
        router.add_delete(p + "/guilds/{guild_id}/bans/{user_id}", self.unban)
        router.add_get("/attachments/{path:.+}", self.cdn)

    # ----- identity ------------------------------------------------------------
    async def me(self, request: web.Request) -> web.Response:
        return reply(self.state.bot.to_private_json())

    async def get_user(self, request: web.Request) -> web.Response:
        return reply(self.state.user(snowflake(request, "user_id")).to_json())

    async def gateway(self, request: web.Request) -> web.Response:
        return reply({"url": self.api.gateway.url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        return reply(
            {
                "url": self.api.gateway.url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.api.gateway.stats.identifies,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def application(self, request: web.Request) -> web.Response:
        state = self.state
        owner = state.app_owner or state.bot
        return reply(
            {
                "id": str(state.application_id),
                "name": state.bot.username,
                "icon": None,
                "description": "",
                "type": None,
                "bot": state.bot.to_json(),
                "summary": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "flags_new": "0",
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "owner": owner.to_json(),
                "approximate_guild_count": len(state.guilds),
                "approximate_user_install_count": 0,
                "approximate_user_authorization_count": 0,
                "explicit_content_filter": 0,
                "team": None,
                "eligible_oauth2_scopes": ["bot", "applications.commands"],
                "tags": [],
                "integration_types_config": {"0": {}},
            }
        )

    # ----- application commands ---------------------------------------------------
    def _command_scope(self, request: web.Request) -> int | None:
        if snowflake(request, "application_id") != self.state.application_id:
            raise DiscordError(403, errors.MISSING_ACCESS, "Missing Access")
        if "guild_id" not in request.match_info:
            return None
        guild_id = snowflake(request, "guild_id")
        if guild_id not in self.state.guilds:
            raise DiscordError(403, errors.MISSING_ACCESS, "Missing Access")
        return guild_id

    async def list_commands(self, request: web.Request) -> web.Response:
        return reply(self.api.commands.listing(self._command_scope(request)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        return reply(self.api.commands.overwrite(scope, request.get(BODY_KEY)))  # type: ignore[arg-type]

    # ----- guilds ------------------------------------------------------------------
    def _guild(self, request: web.Request) -> FakeGuild:
        guild = self.state.guild(snowflake(request, "guild_id"))
        if self.state.bot.id not in guild.members:
            raise errors.not_found(errors.UNKNOWN_GUILD, "Guild")
        return guild

    def _require(self, guild: FakeGuild, needed: int) -> None:
        if self.state.permissions(guild, self.state.bot.id) & needed != needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    def _bot_top_position(self, guild: FakeGuild) -> int:
        member = guild.members[self.state.bot.id]
        return max((guild.roles[r].position for r in member.roles if r in guild.roles), default=0)

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data: dict[str, Any] = guild.to_json()
        if request.query.get("with_counts") in ("true", "1", "True"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return reply(data)

    async def guild_channels(self, request: web.Request) -> web.Response:
        return reply([c.to_json() for c in self._guild(request).channels])

    async def guild_roles(self, request: web.Request) -> web.Response:
        return reply([r.to_json() for r in self._guild(request).roles.values()])

    async def list_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "1"))
        members = sorted((m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id)
        return reply([m.to_json() for m in members[:limit]])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return reply(self.state.member(guild, snowflake(request, "user_id")).to_json())

    async def edit_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = self.state.member(guild, snowflake(request, "user_id"))
        body = body_of(request)
        if "nick" in body:
            member.nick = body["nick"]
        if "roles" in body:
            self._require(guild, MANAGE_ROLES)
            member.roles = [self._assignable(guild, int(r)) for r in body["roles"]]
        if "communication_disabled_until" in body:
            self._require(guild, MODERATE_MEMBERS)
            member.communication_disabled_until = body["communication_disabled_until"]
        self.state.update_member(guild, member)
        return reply(member.to_json())

    def _assignable(self, guild: FakeGuild, role_id: int) -> int:
        role = self.state.role(guild, role_id)
        if role.managed or role.id == guild.id or role.position >= self._bot_top_position(guild):
            raise DiscordError(403, 50013, "Missing Permissions")
        return role.id

    async def add_role(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, MANAGE_ROLES)
        member = self.state.member(guild, snowflake(request, "user_id"))
        role_id = self._assignable(guild, snowflake(request, "role_id"))
        if role_id not in member.roles:
            member.roles.append(role_id)
            self.state.update_member(guild, member)
        return no_content()

    async def remove_role(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, MANAGE_ROLES)
        member = self.state.member(guild, snowflake(request, "user_id"))
        role_id = self._assignable(guild, snowflake(request, "role_id"))
        if role_id in member.roles:
            member.roles.remove(role_id)
            self.state.update_member(guild, member)
        return no_content()

    async def kick_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, KICK_MEMBERS)
        member = self.state.member(guild, snowflake(request, "user_id"))
        self.state.remove_member(guild, member.user)
        return no_content()

    async def ban(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, BAN_MEMBERS)
        user = self.state.user(snowflake(request, "user_id"))
        guild.bans[user.id] = request.headers.get("X-Audit-Log-Reason")
        self.state.sink("GUILD_BAN_ADD", {"guild_id": str(guild.id), "user": user.to_json()})
        if user.id in guild.members:
            self.state.remove_member(guild, user)
        return no_content()

    async def unban(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, BAN_MEMBERS)
        user_id = snowflake(request, "user_id")
        if guild.bans.pop(user_id, 0) == 0:
            raise errors.not_found(10026, "Ban")
        self.state.sink("GUILD_BAN_REMOVE", {"guild_id": str(guild.id), "user": self.state.user(user_id).to_json()})
        return no_content()

    # ----- the CDN -----------------------------------------------------------------
    async def cdn(self, request: web.Request) -> web.Response:
        entry = self.state.cdn.get("/attachments/" + request.match_info["path"])
        if entry is None:
            raise web.HTTPNotFound()
        data, content_type = entry
        return web.Response(
            body=data,
            content_type=content_type or "application/octet-stream",
            headers={"Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())},
        )
