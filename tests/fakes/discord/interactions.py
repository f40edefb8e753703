"""Interactions as Discord runs them: dispatch, the 3-second rule, callbacks, webhooks.

A test creates an interaction (a slash command, a click, a modal submit); the fake
sends INTERACTION_CREATE to the bot and starts the clock. The bot must POST the
initial callback within `ack_timeout` seconds or Discord forgets the interaction
(10062 Unknown interaction, and the user sees "The application did not respond").
A second initial callback is 40060. After the callback, the interaction token works
as a webhook for 15 minutes: the original response and followups can be fetched,
edited and deleted.

`Interaction` is the handle the test holds. Its `wait_*` methods answer the
questions a user would ask: what did the bot reply, did it edit the reply, did it
open a modal, did the interaction fail.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..base import wait_for
from . import errors
from .errors import DiscordError, InteractionFailed
from .models import DEFAULT_EVERYONE_PERMISSIONS, EPHEMERAL, LOADING, FakeChannel, FakeGuild, FakeUser, Message
from .payloads import check_autocomplete, check_message_body, check_modal
from .state import DiscordState, Upload

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 4, 5, 6, 7, 8, 9
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
# Discord's limit for a server without boosts.
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass(eq=False)
class Interaction:
    """One interaction as the test sees it; the bot's answers accumulate here."""

    id: int
    token: str
    type: int
    user: FakeUser
    guild: FakeGuild | None
    channel: FakeChannel
    payload: dict[str, Any]
    source_message: Message | None = None  # the message a component/modal came from
    trigger: Interaction | None = None  # for a modal submit: the interaction that opened it
    dispatched_at: float = field(default_factory=time.monotonic)
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    acked_at: float | None = None
    acked_wall: float | None = None
    failure: str | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    bot_errors: list[DiscordError] = field(default_factory=list)
    _timer: asyncio.TimerHandle | None = None

    # ----- facts ------------------------------------------------------------
    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the bot's (successful) initial callback."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at

    @property
    def messages(self) -> list[Message]:
        """The original response (if any) and every followup, oldest first."""
        return ([self.original] if self.original and self.original is not self.source_message else []) + self.followups

    def _check_failed(self) -> None:
        if self.failure is not None:
            raise InteractionFailed(f"interaction {self.id} failed: {self.failure}")

    # ----- waiting ------------------------------------------------------------
    async def wait_ack(self, timeout: float = 5.0) -> int:
        """Wait for the initial callback; returns its type (4, 5, 6, 7, 8 or 9)."""

        def done() -> bool:
            self._check_failed()
            return self.acknowledged

        await wait_for(done, timeout, what=f"initial response to interaction {self.id}")
        assert self.callback_type is not None
        return self.callback_type

    def _reply(self) -> Message | None:
        self._check_failed()
        ct = self.callback_type
        if ct is None:
            return None
        if ct in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            return self.original
        if ct == DEFERRED_MESSAGE:
            assert self.original is not None
            return None if self.original.loading else self.original
        if ct == DEFERRED_UPDATE:
            if self.followups:
                return self.followups[0]
            orig = self.original
            edited = orig.edited_timestamp if orig is not None else None
            if edited and self.acked_wall and edited >= self.acked_wall:
                return orig
            return None
        kind = "a modal (use wait_modal)" if ct == MODAL else "autocomplete choices"
        raise AssertionError(f"the bot answered interaction {self.id} with {kind}, not a message")

    async def wait_reply(self, timeout: float = 5.0) -> Message:
        """The message the user sees as the answer.

        For a plain reply, the message; after a deferral, the original once the bot
        filled it in (by editing it or by its first followup); for a component
        update, the updated message.
        """
        msg: Message = await wait_for(self._reply, timeout, what=f"a reply to interaction {self.id}")
        return msg

    async def wait_edit(self, predicate: Callable[[Message], Any], timeout: float = 5.0) -> Message:
        """Wait until the reply message (as later edited) satisfies `predicate`."""

        def check() -> Message | None:
            msg = self._reply()
            return msg if msg is not None and not msg.deleted and predicate(msg) else None

        msg: Message = await wait_for(check, timeout, what=f"an edit of interaction {self.id}'s reply")
        return msg

    async def wait_followup(
        self, predicate: Callable[[Message], Any] = lambda m: True, timeout: float = 5.0
    ) -> Message:
        def check() -> Message | None:
            self._check_failed()
            return next((m for m in self.followups if not m.deleted and predicate(m)), None)

        msg: Message = await wait_for(check, timeout, what=f"a followup to interaction {self.id}")
        return msg

    async def wait_modal(self, timeout: float = 5.0) -> dict[str, Any]:
        """The modal the bot opened in answer (callback type 9)."""
        await self.wait_ack(timeout)
        if self.modal is None:
            raise AssertionError(f"the bot answered with callback type {self.callback_type}, not a modal")
        return self.modal

    async def wait_failed(self, timeout: float = 10.0) -> str:
        """Wait until Discord would show the user a failure; returns the reason."""
        reason: str = await wait_for(lambda: self.failure, timeout, what=f"interaction {self.id} to fail")
        return reason

    def __repr__(self) -> str:
        return (
            f"<Interaction id={self.id} type={self.type} user={self.user.username} "
            f"callback={self.callback_type} failure={self.failure!r}>"
        )


class InteractionManager:
    """Owns all interactions and implements the routes that act on them."""

    def __init__(
        self,
        state: DiscordState,
        dispatch: Callable[[Interaction], None],
        ack_timeout: float = 3.0,
        token_ttl: float = 15 * 60.0,
    ) -> None:
        self.state = state
        self._dispatch = dispatch
        self.ack_timeout = ack_timeout
        self.token_ttl = token_ttl
        self.all: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}

    # ----- creating ------------------------------------------------------------
    def create(
        self,
        kind: int,
        user: FakeUser,
        guild: FakeGuild | None,
        channel: FakeChannel,
        data: dict[str, Any],
        source_message: Message | None = None,
        trigger: Interaction | None = None,
    ) -> Interaction:
        """Build the INTERACTION_CREATE payload Discord would send, dispatch it, start the clock."""
        state = self.state
        iid = state.mint()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(state.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": user.locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
        }
        if guild is not None:
            perms = state.permissions(guild, user.id, channel)
            member = guild.members[user.id].to_json()
            member["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=member,
                app_permissions=str(state.permissions(guild, state.bot.id, channel)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
                channel={**channel.to_json(), "permissions": str(perms)},
            )
        else:
            payload.update(
                user=user.to_json(),
                app_permissions=str(DEFAULT_EVERYONE_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
                channel=channel.to_json(),
            )
        if source_message is not None:
            payload["message"] = source_message.to_json()
        handle = Interaction(iid, token, kind, user, guild, channel, payload, source_message, trigger)
        self.all[iid] = handle
        self._by_token[token] = handle
        self._dispatch(handle)
        handle.dispatched_at = time.monotonic()
        loop = asyncio.get_running_loop()
        handle._timer = loop.call_later(self.ack_timeout, self._expire, handle)
        return handle

    def _expire(self, handle: Interaction) -> None:
        if not handle.acknowledged and handle.failure is None:
            handle.failure = f"no initial response within {self.ack_timeout:g}s (10062 Unknown interaction)"

    def metadata(self, handle: Interaction) -> dict[str, Any]:
        """`interaction_metadata` Discord attaches to messages created by the interaction."""
        meta: dict[str, Any] = {
            "id": str(handle.id),
            "type": handle.type,
            "user": handle.user.to_json(),
            "authorizing_integration_owners": handle.payload["authorizing_integration_owners"],
        }
        if handle.type == APPLICATION_COMMAND:
            meta["name"] = handle.payload["data"].get("name")
            meta["command_type"] = 1
        if handle.source_message is not None and handle.type == MESSAGE_COMPONENT:
            meta["interacted_message_id"] = str(handle.source_message.id)
        if handle.type == MODAL_SUBMIT and handle.trigger is not None:
            meta["triggering_interaction_metadata"] = self.metadata(handle.trigger)
        return meta

    # ----- the initial callback ---------------------------------------------------
    def callback(self, interaction_id: int, token: str, body: dict[str, Any], uploads: list[Upload]) -> dict[str, Any]:
        handle = self.all.get(interaction_id)
        if handle is None or handle.token != token:
            raise errors.unknown_interaction()
        try:
            return self._callback(handle, body, uploads)
        except DiscordError as exc:
            handle.bot_errors.append(exc)
            raise

    def _callback(self, handle: Interaction, body: dict[str, Any], uploads: list[Upload]) -> dict[str, Any]:
        if handle.acknowledged:
            raise errors.already_acknowledged()
        if handle.failure is not None or time.monotonic() - handle.dispatched_at > self.ack_timeout:
            self._expire(handle)
            raise errors.unknown_interaction()
        ctype = body.get("type")
        if ctype not in ALLOWED_CALLBACKS[handle.type] or (
            ctype in (DEFERRED_UPDATE, UPDATE_MESSAGE) and handle.source_message is None
        ):
            problem = f"Invalid interaction response type {ctype} for interaction type {handle.type}"
            raise errors.invalid_form_body(
                {"type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": problem}]}}
            )
        data = body.get("data") or {}
        state = self.state
        resource: dict[str, Any] | None = None
        if ctype == CHANNEL_MESSAGE:
            check_message_body(data, creating=True, file_count=len(uploads), allow_ephemeral=True)
            handle.original = self._new_message(handle, data, uploads)
            resource = {"type": ctype, "message": handle.original.to_json()}
        elif ctype == DEFERRED_MESSAGE:
            # The spec (and Discord) return no `resource` for a deferral: the
            # "thinking" message is announced only via response_message_id.
            handle.original = self._new_message(
                handle, {"flags": data.get("flags", 0) & EPHEMERAL}, [], extra_flags=LOADING
            )
        elif ctype == DEFERRED_UPDATE:
            handle.original = handle.source_message
        elif ctype == UPDATE_MESSAGE:
            check_message_body(data, creating=False, file_count=len(uploads), allow_ephemeral=False)
            assert handle.source_message is not None
            handle.original = state.edit_message(handle.source_message, data, uploads)
            resource = {"type": ctype, "message": handle.original.to_json()}
        elif ctype == AUTOCOMPLETE_RESULT:
            check_autocomplete(data)
            handle.choices = data["choices"]
        elif ctype == MODAL:
            check_modal(data)
            handle.modal = data
        handle.callback_type = ctype
        handle.callback_data = data
        handle.acked_at = time.monotonic()
        handle.acked_wall = time.time()
        if handle._timer is not None:
            handle._timer.cancel()
        info: dict[str, Any] = {"id": str(handle.id), "type": handle.type}
        if handle.original is not None and ctype in (CHANNEL_MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE):
            info.update(
                response_message_id=str(handle.original.id),
                response_message_loading=handle.original.loading,
                response_message_ephemeral=handle.original.ephemeral,
            )
        out: dict[str, Any] = {"interaction": info}
        if resource is not None:
            out["resource"] = resource
        return out

    def _new_message(
        self, handle: Interaction, body: dict[str, Any], uploads: list[Upload], extra_flags: int = 0
    ) -> Message:
        return self.state.create_message(
            handle.channel,
            self.state.bot,
            body,
            uploads,
            type=20 if handle.type == APPLICATION_COMMAND else 0,
            webhook_id=self.state.application_id,
            interaction_metadata=self.metadata(handle),
            extra_flags=extra_flags,
        )

    # ----- the token as a webhook ---------------------------------------------------
    def by_webhook(self, application_id: int, token: str) -> Interaction:
        handle = self._by_token.get(token)
        if handle is None or application_id != self.state.application_id or not handle.acknowledged:
            raise errors.not_found(errors.UNKNOWN_WEBHOOK, "Webhook")
        if time.monotonic() - handle.dispatched_at > self.token_ttl:
            raise DiscordError(401, errors.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return handle

    def followup(self, handle: Interaction, body: dict[str, Any], uploads: list[Upload]) -> Message:
        check_message_body(body, creating=True, file_count=len(uploads), allow_ephemeral=True)
        orig = handle.original
        if handle.callback_type == DEFERRED_MESSAGE and orig is not None and orig.loading:
            # Discord turns the first followup after a deferral into the original.
            body = {**body, "flags": orig.flags & EPHEMERAL}
            return self.state.edit_message(orig, body, uploads)
        msg = self._new_message(handle, body, uploads)
        handle.followups.append(msg)
        return msg

    def webhook_message(self, handle: Interaction, message_id: str) -> Message:
        """`@original` or one of this interaction's followups, else 10008."""
        if message_id == "@original":
            msg = handle.original
        else:
            mine = [m for m in [handle.original, *handle.followups] if m is not None]
            msg = next((m for m in mine if str(m.id) == message_id), None)
        if msg is None or msg.deleted:
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        return msg

    def edit(self, handle: Interaction, message_id: str, body: dict[str, Any], uploads: list[Upload]) -> Message:
        msg = self.webhook_message(handle, message_id)
        check_message_body(body, creating=False, file_count=len(uploads), allow_ephemeral=False)
        return self.state.edit_message(msg, body, uploads)
