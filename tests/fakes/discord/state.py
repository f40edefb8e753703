"""The fake's world: users, guilds, channels, roles, members, DMs and messages.

All mutations that Discord would announce on the gateway go through here and are
handed to `sink(event_name, data)`; the gateway decides who receives them (intents,
shards, resume buffers). Route handlers and the test API share these methods, so
"alice deletes a message" and "the bot deletes a message" take the same path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import DiscordError
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_CHANNEL,
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    MENTION_EVERYONE,
    SUPPRESS_EMBEDS,
    TEXT_CHANNEL,
    Attachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Message,
    Overwrite,
    SnowflakeMinter,
)
from .payloads import normalize_components, normalize_embeds, pings

EventSink = Callable[[str, dict[str, Any]], None]


@dataclass
class Upload:
    """One `files[n]` part of a multipart request."""

    index: int
    filename: str
    content_type: str | None
    data: bytes


class DiscordState:
    def __init__(self, application_id: int, bot_name: str, bot_permissions: int = DEFAULT_BOT_PERMISSIONS) -> None:
        self.mint = SnowflakeMinter()
        self.application_id = application_id
        self.bot = FakeUser(application_id, bot_name, bot=True)
        self.bot_permissions = bot_permissions
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, Message] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.closed_dms: set[int] = set()
        self.dm_contacts: set[int] = set()  # users who used the bot in its DM channel
        self.cdn: dict[str, tuple[bytes, str | None]] = {}
        self.cdn_base = ""
        self.sink: EventSink = lambda event, data: None
        self.app_owner: FakeUser | None = None  # the application's owner (discord.py `is_owner`)

    # ----- world building -------------------------------------------------
    def create_user(
        self, username: str, global_name: str | None = None, bot: bool = False, locale: str = "en-US"
    ) -> FakeUser:
        user = FakeUser(self.mint(), username, global_name, bot, locale)
        self.users[user.id] = user
        return user

    def create_guild(self, name: str, owner: FakeUser | None = None, locale: str = "en-US") -> FakeGuild:
        owner = owner or self.create_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = FakeGuild(self.mint(), name, owner.id, preferred_locale=locale)
        guild.roles[guild.id] = FakeRole(guild.id, guild.id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS)
        bot_role = FakeRole(
            self.mint(), guild.id, self.bot.username, self.bot_permissions, position=1, managed=True, bot_id=self.bot.id
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = FakeMember(owner, guild.id)
        guild.members[self.bot.id] = FakeMember(self.bot, guild.id, [bot_role.id])
        self.guilds[guild.id] = guild
        self.sink("GUILD_CREATE", {"__guild__": guild.id})
        return guild

    def bot_role(self, guild: FakeGuild) -> FakeRole:
        return next(r for r in guild.roles.values() if r.bot_id == self.bot.id)

    def create_channel(
        self,
        guild: FakeGuild,
        name: str,
        type: int = TEXT_CHANNEL,
        topic: str | None = None,
        category: FakeChannel | None = None,
        overwrites: Iterable[Overwrite] = (),
    ) -> FakeChannel:
        channel = FakeChannel(
            self.mint(),
            type,
            name,
            guild.id,
            position=len(guild.channels),
            topic=topic,
            parent_id=category.id if category else None,
            overwrites=list(overwrites),
        )
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        self.sink("CHANNEL_CREATE", channel.to_json())
        return channel

    def create_role(
        self,
        guild: FakeGuild,
        name: str,
        permissions: int = 0,
        color: int = 0,
        mentionable: bool = False,
        hoist: bool = False,
        position: int | None = None,
    ) -> FakeRole:
        bot_role = self.bot_role(guild)
        if position is None:
            # New roles sit just under the bot's role so the bot may manage them.
            position = bot_role.position
            bot_role.position += 1
        role = FakeRole(self.mint(), guild.id, name, permissions, position, color, hoist, mentionable)
        guild.roles[role.id] = role
        self.sink("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_json()})
        return role

    def add_member(
        self, guild: FakeGuild, user: FakeUser, roles: Iterable[FakeRole] = (), nick: str | None = None
    ) -> FakeMember:
        member = FakeMember(user, guild.id, [r.id for r in roles], nick)
        guild.members[user.id] = member
        self.sink("GUILD_MEMBER_ADD", {**member.to_json(), "guild_id": str(guild.id)})
        return member

    def remove_member(self, guild: FakeGuild, user: FakeUser) -> None:
        guild.members.pop(user.id, None)
        self.sink("GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": user.to_json()})

    def update_member(self, guild: FakeGuild, member: FakeMember) -> None:
        self.sink("GUILD_MEMBER_UPDATE", {**member.to_json(), "guild_id": str(guild.id)})

    # ----- lookups (raising Discord's errors) -----------------------------
    def guild(self, guild_id: int) -> FakeGuild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_GUILD, "Guild") from None

    def channel(self, channel_id: int) -> FakeChannel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_CHANNEL, "Channel") from None

    def user(self, user_id: int) -> FakeUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_USER, "User") from None

    def member(self, guild: FakeGuild, user_id: int) -> FakeMember:
        try:
            return guild.members[user_id]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_MEMBER, "Member") from None

    def role(self, guild: FakeGuild, role_id: int) -> FakeRole:
        try:
            return guild.roles[role_id]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_ROLE, "Role") from None

    def message(self, channel_id: int, message_id: int) -> Message:
        msg = self.messages.get(message_id)
        if msg is None or msg.deleted or msg.channel_id != channel_id:
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        return msg

    # ----- permissions ------------------------------------------------------
    def permissions(self, guild: FakeGuild, user_id: int, channel: FakeChannel | None = None) -> int:
        """Discord's permission algorithm: roles, then channel overwrites."""
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = guild.everyone.permissions
        for rid in member.roles:
            if rid in guild.roles:
                perms |= guild.roles[rid].permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel is None:
            return perms
        by_id = {o.id: o for o in channel.overwrites}
        if guild.id in by_id:
            perms = (perms & ~by_id[guild.id].deny) | by_id[guild.id].allow
        allow = deny = 0
        for rid in member.roles:
            if rid in by_id:
                allow |= by_id[rid].allow
                deny |= by_id[rid].deny
        perms = (perms & ~deny) | allow
        if user_id in by_id:
            perms = (perms & ~by_id[user_id].deny) | by_id[user_id].allow
        return perms

    def require_bot(self, channel: FakeChannel, needed: int) -> None:
        """Raise 50013 Missing Permissions if the bot lacks `needed` in `channel`."""
        if channel.guild_id is None:
            return
        have = self.permissions(self.guilds[channel.guild_id], self.bot.id, channel)
        if have & needed != needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    # ----- DMs ---------------------------------------------------------------
    def dm_channel(self, user: FakeUser) -> FakeChannel:
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self.mint(), DM_CHANNEL, recipient=user)
            self.dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    def check_can_dm(self, user: FakeUser) -> None:
        """Discord refuses DMs to users who closed them, or who share no server with the
        bot and never opened a DM with it."""
        shares_guild = any(user.id in g.members for g in self.guilds.values())
        reachable = shares_guild or user.id in self.dm_contacts
        if user.id in self.closed_dms or not reachable or user.bot:
            raise errors.cannot_dm()

    # ----- messages ----------------------------------------------------------
    def _store_uploads(
        self, channel_id: int, body: dict[str, Any], uploads: Sequence[Upload], ephemeral: bool
    ) -> list[Attachment]:
        meta = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = []
        for up in uploads:
            info = meta.get(str(up.index), {})
            filename = info.get("filename") or up.filename
            att_id = self.mint()
            path = f"/attachments/{channel_id}/{att_id}/{filename}"
            self.cdn[path] = (up.data, up.content_type)
            out.append(
                Attachment(
                    att_id, filename, up.data, self.cdn_base + path, up.content_type, info.get("description"), ephemeral
                )
            )
        return out

    def _apply_reference(self, msg: Message, channel: FakeChannel, ref: dict[str, Any] | None) -> None:
        """A reply: Discord stores a normalised reference and embeds the replied-to message."""
        if not ref:
            return
        target = self.messages.get(int(ref.get("message_id") or 0))
        target_channel = int(ref.get("channel_id") or channel.id)
        if target is None or target.deleted or target.channel_id != target_channel:
            if ref.get("fail_if_not_exists", True):
                raise errors.invalid_form_body(
                    {
                        "message_reference": {
                            "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                        }
                    }
                )
            return
        msg.message_reference = {
            "type": int(ref.get("type", 0)),
            "message_id": str(target.id),
            "channel_id": str(target.channel_id),
        }
        if target.guild_id is not None:
            msg.message_reference["guild_id"] = str(target.guild_id)
        msg.referenced_message = {k: v for k, v in target.to_json().items() if k != "referenced_message"}
        msg.replied_to = target

    def _apply_mentions(self, msg: Message, channel: FakeChannel) -> None:
        can_everyone = True
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            can_everyone = bool(self.permissions(guild, msg.author.id, channel) & MENTION_EVERYONE)
        users, roles, everyone = pings(
            msg.content, msg.allowed_mentions, in_guild=channel.guild_id is not None, can_mention_everyone=can_everyone
        )
        replied = msg.replied_to.author if msg.replied_to is not None else None
        am = msg.allowed_mentions
        # A reply pings its target unless allowed_mentions is sent without replied_user: true.
        if replied is not None and replied.id != msg.author.id and (am is None or am.get("replied_user")):
            users = [*users, replied.id] if replied.id not in users else users
        msg.pinged_user_ids, msg.pinged_role_ids, msg.pinged_everyone = users, roles, everyone
        msg.mentioned_users = [self.users[u] for u in users if u in self.users]

    def create_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: dict[str, Any],
        uploads: Sequence[Upload] = (),
        *,
        type: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: dict[str, Any] | None = None,
        extra_flags: int = 0,
    ) -> Message:
        flags = (body.get("flags") or 0) | extra_flags
        msg = Message(
            id=self.mint(),
            channel_id=channel.id,
            author=author,
            content=body.get("content") or "",
            embeds=normalize_embeds(body.get("embeds") or []),
            components=normalize_components(body.get("components") or [], self.mint),
            flags=flags,
            type=type,
            tts=bool(body.get("tts")),
            guild_id=channel.guild_id,
            allowed_mentions=body.get("allowed_mentions"),
            webhook_id=webhook_id,
            application_id=self.application_id if webhook_id else None,
            interaction_metadata=interaction_metadata,
            poll=body.get("poll"),
            nonce=body.get("nonce"),
        )
        msg.attachments = self._store_uploads(channel.id, body, list(uploads), bool(flags & EPHEMERAL))
        self._apply_reference(msg, channel, body.get("message_reference"))
        self._apply_mentions(msg, channel)
        self.messages[msg.id] = msg
        if not msg.ephemeral:
            channel.last_message_id = msg.id
            self.sink("MESSAGE_CREATE", self._event_json(msg))
        return msg

    def edit_message(self, msg: Message, body: dict[str, Any], uploads: Sequence[Upload] = ()) -> Message:
        """Apply a PATCH body: absent keys stay, null clears, as Discord does."""
        channel = self.channels[msg.channel_id]
        msg.edits.append(msg.to_json())
        was_loading = msg.loading
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = normalize_embeds(body["embeds"] or [])
        if "components" in body:
            msg.components = normalize_components(body["components"] or [], self.mint)
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if body.get("flags") is not None:
            keep = msg.flags & ~(SUPPRESS_EMBEDS | LOADING)
            msg.flags = keep | (body["flags"] & (SUPPRESS_EMBEDS | IS_COMPONENTS_V2))
        msg.flags &= ~LOADING
        new = self._store_uploads(channel.id, body, list(uploads), msg.ephemeral)
        if "attachments" in body:
            keep_ids = {str(a.get("id")) for a in body["attachments"] or []}
            msg.attachments = [a for a in msg.attachments if str(a.id) in keep_ids] + new
        else:
            msg.attachments += new
        # Filling a deferred "thinking" message is not shown as an edit by Discord.
        msg.edited_timestamp = None if was_loading else time.time()
        self._apply_mentions(msg, channel)
        if not msg.ephemeral:
            self.sink("MESSAGE_UPDATE", self._event_json(msg))
        return msg

    def delete_message(self, msg: Message) -> None:
        msg.deleted = True
        if not msg.ephemeral:
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self.sink("MESSAGE_DELETE", data)

    def _event_json(self, msg: Message) -> dict[str, Any]:
        data = msg.to_json()
        if msg.guild_id is not None:
            member = self.guilds[msg.guild_id].members.get(msg.author.id)
            if member is not None and msg.webhook_id is None:
                data["member"] = member.to_json(include_user=False)
        return data

    def channel_messages(self, channel: FakeChannel, include_ephemeral: bool = False) -> list[Message]:
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel.id and not m.deleted and (include_ephemeral or not m.ephemeral)
        ]
