"""REST routes for channels, messages, pins, DMs, interaction callbacks and webhooks."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from . import errors
from .errors import DiscordError
from .models import (
    ATTACH_FILES,
    MANAGE_MESSAGES,
    PIN_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    Message,
    iso,
)
from .payloads import check_message_body
from .rest import API_PREFIX, RestApi, body_of, no_content, reply, snowflake, uploads_of


class MessageRoutes:
    def __init__(self, api: RestApi) -> None:
        self.api = api
        self.state = api.state

    def register(self, router: web.UrlDispatcher) -> None:
        p = API_PREFIX
        router.add_get(p + "/channels/{channel_id}", self.get_channel)
        router.add_get(p + "/channels/{channel_id}/messages", self.list_messages)
        router.add_post(p + "/channels/{channel_id}/messages", self.create_message)
        router.add_get(p + "/channels/{channel_id}/messages/pins", self.list_pins_new)
        router.add_put(p + "/channels/{channel_id}/messages/pins/{message_id}", self.pin)
        router.add_delete(p + "/channels/{channel_id}/messages/pins/{message_id}", self.unpin)
        router.add_get(p + "/channels/{channel_id}/messages/{message_id}", self.get_message)
        router.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        router.add_delete(p + "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        router.add_put(p + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.react)
        router.add_get(p + "/channels/{channel_id}/pins", self.list_pins_old)
        router.add_put(p + "/channels/{channel_id}/pins/{message_id}", self.pin)
        router.add_delete(p + "/channels/{channel_id}/pins/{message_id}", self.unpin)
        router.add_post(p + "/channels/{channel_id}/typing", self.typing)
        router.add_post(p + "/users/@me/channels", self.open_dm)
        router.add_post(p + "/interactions/{interaction_id}/{interaction_token}/callback", self.callback)
        router.add_post(p + "/webhooks/{webhook_id}/{webhook_token}", self.followup)
        for method in ("GET", "PATCH", "DELETE"):
            router.add_route(
                method, p + "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.webhook_message
            )

    # ----- channels --------------------------------------------------------------
    def _channel(self, request: web.Request, needed: int = VIEW_CHANNEL) -> FakeChannel:
        channel = self.state.channel(snowflake(request, "channel_id"))
        if channel.guild_id is not None:
            guild = self.state.guilds[channel.guild_id]
            if self.state.bot.id not in guild.members:
                raise errors.not_found(errors.UNKNOWN_CHANNEL, "Channel")
            if self.state.permissions(guild, self.state.bot.id, channel) & VIEW_CHANNEL == 0:
                raise DiscordError(403, errors.MISSING_ACCESS, "Missing Access")
            self.state.require_bot(channel, needed)
        return channel

    def _message(self, request: web.Request, channel: FakeChannel) -> Message:
        msg = self.state.message(channel.id, snowflake(request, "message_id"))
        if msg.ephemeral:  # ephemeral messages exist only behind the interaction token
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        return msg

    async def get_channel(self, request: web.Request) -> web.Response:
        return reply(self._channel(request).to_json())

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        limit = min(int(request.query.get("limit", "50")), 100)
        msgs = sorted(self.state.channel_messages(channel), key=lambda m: m.id, reverse=True)
        if "before" in request.query:
            msgs = [m for m in msgs if m.id < int(request.query["before"])]
        if "after" in request.query:
            msgs = [m for m in msgs if m.id > int(request.query["after"])][-limit:]
        return reply([m.to_json() for m in msgs[:limit]])

    async def create_message(self, request: web.Request) -> web.Response:
        uploads = uploads_of(request)
        channel = self._channel(request, VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if uploads else 0))
        body = body_of(request)
        if channel.is_dm:
            assert channel.recipient is not None
            self.state.check_can_dm(channel.recipient)
        check_message_body(body, creating=True, file_count=len(uploads), allow_ephemeral=False)
        msg = self.state.create_message(
            channel, self.state.bot, body, uploads, type=19 if body.get("message_reference") else 0
        )
        return reply(msg.to_json())

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        return reply(self._message(request, channel).to_json())

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        if msg.author.id != self.state.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        uploads = uploads_of(request)
        check_message_body(body_of(request), creating=False, file_count=len(uploads), allow_ephemeral=False)
        return reply(self.state.edit_message(msg, body_of(request), uploads).to_json())

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        if msg.author.id != self.state.bot.id:
            self.state.require_bot(channel, MANAGE_MESSAGES)
        self.state.delete_message(msg)
        return no_content()

    async def react(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        emoji = request.match_info["emoji"]
        msg.reactions.append(emoji)
        return no_content()

    # ----- pins ----------------------------------------------------------------
    def _set_pinned(self, request: web.Request, pinned: bool) -> web.Response:
        channel = self._channel(request)
        if not channel.is_dm:
            guild = self.state.guilds[channel.guild_id or 0]
            perms = self.state.permissions(guild, self.state.bot.id, channel)
            if not perms & (MANAGE_MESSAGES | PIN_MESSAGES):
                raise DiscordError(403, 50013, "Missing Permissions")
        msg = self._message(request, channel)
        msg.pinned = pinned
        msg.pinned_at = time.time() if pinned else None
        data: dict[str, Any] = {"channel_id": str(channel.id), "last_pin_timestamp": iso(time.time())}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        self.state.sink("CHANNEL_PINS_UPDATE", data)
        return no_content()

    async def pin(self, request: web.Request) -> web.Response:
        return self._set_pinned(request, True)

    async def unpin(self, request: web.Request) -> web.Response:
        return self._set_pinned(request, False)

    def _pinned(self, request: web.Request) -> list[Message]:
        channel = self._channel(request, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        return sorted(
            (m for m in self.state.channel_messages(channel) if m.pinned), key=lambda m: m.pinned_at or 0, reverse=True
        )

    async def list_pins_old(self, request: web.Request) -> web.Response:
        return reply([m.to_json() for m in self._pinned(request)])

    async def list_pins_new(self, request: web.Request) -> web.Response:
        items = [{"pinned_at": iso(m.pinned_at or 0), "message": m.to_json()} for m in self._pinned(request)]
        return reply({"items": items, "has_more": False})

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request, VIEW_CHANNEL | SEND_MESSAGES)
        return no_content()

    # ----- DMs -------------------------------------------------------------------------
    async def open_dm(self, request: web.Request) -> web.Response:
        recipient = body_of(request).get("recipient_id")
        if recipient is None or not str(recipient).isdigit():
            raise errors.invalid_form_body(
                {"recipient_id": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}}
            )
        user = self.state.user(int(recipient))
        return reply(self.state.dm_channel(user).to_json())

    # ----- interactions ------------------------------------------------------------------
    async def callback(self, request: web.Request) -> web.Response:
        result = self.api.interactions.callback(
            snowflake(request, "interaction_id"),
            request.match_info["interaction_token"],
            body_of(request),
            uploads_of(request),
        )
        if request.query.get("with_response") in ("1", "true", "True"):
            return reply(result)
        return no_content()

    async def followup(self, request: web.Request) -> web.Response:
        handle = self.api.interactions.by_webhook(snowflake(request, "webhook_id"), request.match_info["webhook_token"])
        msg = self.api.interactions.followup(handle, body_of(request), uploads_of(request))
        if request.query.get("wait") in ("1", "true", "True"):
            return reply(msg.to_json())
        return no_content()

    async def webhook_message(self, request: web.Request) -> web.Response:
        interactions = self.api.interactions
        handle = interactions.by_webhook(snowflake(request, "webhook_id"), request.match_info["webhook_token"])
        message_id = request.match_info["message_id"]
        if request.method == "GET":
            return reply(interactions.webhook_message(handle, message_id).to_json())
        if request.method == "PATCH":
            return reply(interactions.edit(handle, message_id, body_of(request), uploads_of(request)).to_json())
        self.state.delete_message(interactions.webhook_message(handle, message_id))
        return no_content()
