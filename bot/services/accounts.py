"""Accounts: Plex linking by PIN, the link as the session, roles and bans.

Everything takes Discord ids and plain values, so the cog, a worker or a test
drives the same code. Admin operations check the actor's role in our database
themselves; Discord's permission settings are only a convenience on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import asyncpg

from bot.crypto import TokenCipher, TokenDecryptError
from bot.errors import AppError, ErrorCode
from bot.integrations.plex import PlexAccount, PlexServerClient, PlexTokenRejected, PlexTvClient
from bot.logs import register_secret
from bot.notices import Notice, Notifier
from bot.ratelimit import RateLimiter, Usage
from bot.repositories import audit, users
from bot.repositories.users import Role, User
from bot.services.runtime import RuntimeSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

# An interaction token lives 15 minutes; the link message must still be editable at the end.
LINK_WINDOW_SECONDS = 14 * 60


class LinkEnd(StrEnum):
    LINKED = "linked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class PendingLink:
    discord_id: int
    pin_id: int
    auth_url: str
    expires_at: float  # unix time

    @property
    def expires_unix(self) -> int:
        return int(self.expires_at)


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    plex_ok: bool | None
    commands: Usage
    downloads: Usage
    total_requests: int
    total_downloads: int


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    end: LinkEnd
    user: User | None = None


class AccountService:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        cipher: TokenCipher,
        plex_tv: PlexTvClient,
        plex_server: PlexServerClient | None,
        notifier: Notifier,
        limiter: RateLimiter,
        runtime: RuntimeSettings,
        admin_ids: frozenset[int],
        app_url: str,
        poll_interval: float = 2.0,
    ) -> None:
        self._pool = pool
        self._cipher = cipher
        self._plex_tv = plex_tv
        self._plex_server = plex_server
        self._notifier = notifier
        self._limiter = limiter
        self._runtime = runtime
        self._admin_ids = admin_ids
        self._app_url = app_url
        self.poll_interval = poll_interval
        # run after a successful link (map the member in Overseerr, say); never fail the link
        self.after_link: list[Callable[[User], Awaitable[None]]] = []
        self._pending: dict[int, tuple[PendingLink, asyncio.Event, list[LinkEnd]]] = {}

    # -- identity -------------------------------------------------------------

    async def touch(self, discord_id: int) -> User:
        return await users.touch(self._pool, discord_id, admin=discord_id in self._admin_ids)

    async def get(self, discord_id: int) -> User | None:
        return await users.get(self._pool, discord_id)

    async def require_admin(self, discord_id: int) -> User:
        user = await users.get(self._pool, discord_id)
        if discord_id in self._admin_ids and (user is None or not user.is_admin):
            user = await self.touch(discord_id)
        if user is None or not user.is_admin or user.is_banned:
            raise AppError(ErrorCode.INSUFFICIENT_PRIVILEGES, "Only MediaNest admins can do that.")
        return user

    async def require_linked_or_stale(self, discord_id: int) -> User:
        user = await users.get(self._pool, discord_id)
        if user is None or not user.is_linked:
            raise AppError(ErrorCode.UNAUTHORIZED, "Link your Plex account first: run /link and sign in with Plex.")
        return user

    async def require_linked(self, discord_id: int) -> User:
        user = await self.require_linked_or_stale(discord_id)
        if user.plex_token_stale:
            raise AppError(ErrorCode.INVALID_TOKEN, "Your Plex sign-in has expired or was revoked. Run /link again.")
        return user

    # -- linking --------------------------------------------------------------

    async def start_link(self, discord_id: int) -> PendingLink:
        """Create a strong PIN at plex.tv; a link already pending for this user is replaced."""
        previous = self._pending.pop(discord_id, None)
        if previous is not None:
            previous[2].append(LinkEnd.REPLACED)
            previous[1].set()
        pin = await self._plex_tv.create_pin()
        window = min(pin.expires_in, LINK_WINDOW_SECONDS)
        pending = PendingLink(
            discord_id=discord_id,
            pin_id=pin.id,
            auth_url=self._plex_tv.auth_url(self._app_url, pin.code),
            expires_at=time.time() + window,
        )
        self._pending[discord_id] = (pending, asyncio.Event(), [])
        return pending

    def cancel_link(self, discord_id: int) -> bool:
        entry = self._pending.get(discord_id)
        if entry is None:
            return False
        entry[2].append(LinkEnd.CANCELLED)
        entry[1].set()
        return True

    async def wait_for_link(self, pending: PendingLink) -> LinkOutcome:
        """Poll the PIN until it is authorised, expires, is cancelled or replaced.

        Raises AppError when the account may not be linked (no access to the
        server, or already linked to someone else).
        """
        entry = self._pending.get(pending.discord_id)
        if entry is None or entry[0] is not pending:
            return LinkOutcome(LinkEnd.REPLACED)
        _, stop, reason = entry
        try:
            while True:
                remaining = pending.expires_at - time.time()
                if remaining <= 0:
                    return LinkOutcome(LinkEnd.EXPIRED)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(self.poll_interval, remaining))
                if stop.is_set():
                    return LinkOutcome(reason[0] if reason else LinkEnd.CANCELLED)
                try:
                    pin = await self._plex_tv.get_pin(pending.pin_id)
                except AppError as exc:
                    if exc.code is ErrorCode.SERVICE_UNAVAILABLE:
                        continue  # plex.tv hiccup: keep trying until the PIN runs out
                    raise
                if pin is None or (pin.expires_in <= 0 and not pin.auth_token):
                    return LinkOutcome(LinkEnd.EXPIRED)
                if pin.auth_token:
                    register_secret(pin.auth_token)
                    user = await self.complete_link(pending.discord_id, pin.auth_token)
                    return LinkOutcome(LinkEnd.LINKED, user)
        finally:
            current = self._pending.get(pending.discord_id)
            if current is not None and current[0] is pending:
                del self._pending[pending.discord_id]

    async def complete_link(self, discord_id: int, token: str) -> User:
        """Check the account may use our server, then store the link with the token encrypted."""
        try:
            account = await self._plex_tv.account(token)
            owner = await self._check_server_access(account, token)
        except PlexTokenRejected as exc:
            raise AppError(ErrorCode.INVALID_TOKEN, "Plex did not accept the sign-in. Run /link again.") from exc
        async with self._pool.acquire() as conn, conn.transaction():
            other = await users.by_plex_id(conn, account.id)
            if other is not None and other.discord_id != discord_id:
                raise AppError(
                    ErrorCode.DUPLICATE_REQUEST,
                    f"The Plex account {account.username} is already linked to another Discord user. "
                    "They can /unlink it, or an admin can help.",
                )
            await users.touch(conn, discord_id, admin=discord_id in self._admin_ids)
            user = await users.link(
                conn,
                discord_id,
                plex_id=account.id,
                plex_uuid=account.uuid,
                plex_username=account.username,
                plex_email=account.email,
                token_encrypted=self._cipher.encrypt(token, owner=discord_id),
                make_admin=owner,
            )
            await audit.record(
                conn,
                actor_id=discord_id,
                action="account.link",
                target_type="user",
                target_id=discord_id,
                details={"plex_username": account.username, "plex_id": account.id, "server_owner": owner},
            )
        log.info("linked discord user %s to plex account %s", discord_id, account.id)
        for hook in self.after_link:
            try:
                await hook(user)
            except Exception:
                log.exception("a post-link step failed for %s", discord_id)
        return user

    async def _check_server_access(self, account: PlexAccount, token: str) -> bool:
        """True when the account owns the server; raises when it has no access at all."""
        if self._plex_server is None:
            return False  # no server configured: any Plex account may link
        machine_id = await self._plex_server.machine_identifier()
        for resource in await self._plex_tv.resources(token):
            if resource.client_identifier == machine_id:
                return resource.owned
        raise AppError(
            ErrorCode.INSUFFICIENT_PRIVILEGES,
            f"The Plex account {account.username} has no access to this Plex server. "
            "Ask the server owner to share a library with it, then run /link again.",
        )

    async def unlink(self, discord_id: int) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            removed = await users.unlink(conn, discord_id)
            if removed:
                await audit.record(
                    conn,
                    actor_id=discord_id,
                    action="account.unlink",
                    target_type="user",
                    target_id=discord_id,
                )
        return removed

    async def plex_token(self, discord_id: int) -> str:
        user = await self.require_linked(discord_id)
        assert user.plex_token_encrypted is not None
        try:
            token = self._cipher.decrypt(user.plex_token_encrypted, owner=discord_id)
        except TokenDecryptError:
            log.error("stored Plex token of %s does not decrypt; was ENCRYPTION_KEY changed?", discord_id)
            await self._mark_stale(discord_id)
            raise AppError(ErrorCode.INVALID_TOKEN, "Your Plex link can no longer be read. Run /link again.") from None
        register_secret(token)
        return token

    async def with_plex_token(self, discord_id: int, call: Callable[[str], Awaitable[T]]) -> T:
        """Run a plex.tv call with the user's token; a rejected token marks the link stale."""
        token = await self.plex_token(discord_id)
        try:
            return await call(token)
        except PlexTokenRejected:
            await self._mark_stale(discord_id)
            raise AppError(
                ErrorCode.INVALID_TOKEN,
                "Plex no longer accepts your sign-in (it was revoked or expired). Run /link again.",
            ) from None

    async def refresh_account(self, discord_id: int) -> PlexAccount:
        return await self.with_plex_token(discord_id, self._plex_tv.account)

    async def _mark_stale(self, discord_id: int) -> None:
        if await users.mark_stale(self._pool, discord_id):
            await self._notifier.notify(
                Notice(
                    user_id=discord_id,
                    tone="warning",
                    title="Your Plex link needs renewing",
                    body="Plex no longer accepts MediaNest's sign-in for your account "
                    "(it was revoked or expired). Run /link to sign in again.",
                    topic="account",
                )
            )

    async def profile(self, discord_id: int) -> Profile:
        """What /whoami shows; checks the Plex link is still accepted when there is one."""
        user = await self.touch(discord_id)
        plex_ok: bool | None = None
        if user.is_linked and not user.plex_token_stale:
            try:
                await self.refresh_account(discord_id)
                plex_ok = True
            except AppError as exc:
                if exc.code is not ErrorCode.INVALID_TOKEN:
                    plex_ok = None  # plex.tv unreachable: say nothing rather than something wrong
                else:
                    plex_ok = False
                    user = await self.touch(discord_id)
        limits = await self._runtime.current()
        commands = await self._limiter.peek("commands", discord_id, limit=limits.commands_per_minute, window=60)
        downloads = await self._limiter.peek("downloads", discord_id, limit=limits.downloads_per_hour, window=3600)
        counts = await self._pool.fetchrow(
            """
            SELECT (SELECT count(*) FROM media_requests WHERE user_id = $1) AS requests,
                   (SELECT count(*) FROM downloads WHERE user_id = $1) AS downloads
            """,
            discord_id,
        )
        return Profile(
            user=user,
            plex_ok=plex_ok,
            commands=commands,
            downloads=downloads,
            total_requests=counts["requests"],
            total_downloads=counts["downloads"],
        )

    # -- moderation -----------------------------------------------------------

    async def set_banned(self, actor_id: int, target_id: int, *, banned: bool, reason: str) -> User:
        await self.require_admin(actor_id)
        if banned and target_id == actor_id:
            raise AppError(ErrorCode.INVALID_INPUT, "You cannot ban yourself.")
        target = await users.get(self._pool, target_id)
        if banned and (target_id in self._admin_ids or (target is not None and target.is_admin)):
            raise AppError(ErrorCode.INVALID_INPUT, "Admins cannot be banned. Change their role to user first.")
        if target is not None and target.is_banned == banned:
            state = "banned" if banned else "not banned"
            raise AppError(ErrorCode.INVALID_INPUT, f"That user is already {state}.")
        async with self._pool.acquire() as conn, conn.transaction():
            user = await users.set_status(conn, target_id, "banned" if banned else "active", reason)
            await audit.record(
                conn,
                actor_id=actor_id,
                action="user.ban" if banned else "user.unban",
                target_type="user",
                target_id=target_id,
                reason=reason,
            )
        await self._notifier.notify(
            Notice(
                user_id=target_id,
                tone="error" if banned else "success",
                title="You have been banned from MediaNest" if banned else "Your MediaNest ban was lifted",
                body=f"Reason: {reason}" if banned else f"You can use MediaNest again. Note: {reason}",
                topic="account",
            )
        )
        return user

    async def set_role(self, actor_id: int, target_id: int, *, role: Role, reason: str) -> User:
        await self.require_admin(actor_id)
        if role == "user" and target_id in self._admin_ids:
            raise AppError(
                ErrorCode.INVALID_INPUT,
                "That user is an admin by configuration (ADMIN_DISCORD_IDS); change it there.",
            )
        if role == "user" and target_id == actor_id:
            raise AppError(ErrorCode.INVALID_INPUT, "You cannot remove your own admin role.")
        async with self._pool.acquire() as conn, conn.transaction():
            user = await users.set_role(conn, target_id, role)
            await audit.record(
                conn,
                actor_id=actor_id,
                action="user.role",
                target_type="user",
                target_id=target_id,
                reason=reason,
                details={"role": role},
            )
        await self._notifier.notify(
            Notice(
                user_id=target_id,
                tone="info",
                title=f"Your MediaNest role is now {role}",
                body=f"Reason: {reason}",
                topic="account",
            )
        )
        return user

    async def info(self, actor_id: int, target_id: int) -> tuple[User | None, list[audit.AuditEntry]]:
        await self.require_admin(actor_id)
        user = await users.get(self._pool, target_id)
        return user, await audit.for_target(self._pool, "user", target_id, limit=5)
