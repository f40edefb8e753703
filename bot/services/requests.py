"""Media requests: search, request as the member in Overseerr, follow each request to the end.

A request's life is learned three ways (our own command, Overseerr's webhook,
and a poll that catches what a missed webhook would lose), and all three go
through `sync`, which records each status once (request_events) and publishes
one `request_update` event for the bot to act on (cards, DMs, channel posts).
The service takes plain values and runs in the bot or the worker alike.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from bot.config import Settings
from bot.errors import AppError, ErrorCode
from bot.events import BotEvent, publish
from bot.integrations.overseerr import (
    Details,
    MediaStatus,
    MediaType,
    OverseerrClient,
    OverseerrRequest,
    Quota,
    RequestRefused,
    RequestStatus,
    SearchResult,
)
from bot.notices import Notice
from bot.repositories import audit
from bot.repositories import requests as repo
from bot.repositories.requests import MediaRequest, Status
from bot.repositories.users import User
from bot.services.accounts import AccountService
from bot.services.runtime import RuntimeSettings

log = logging.getLogger(__name__)

SEARCH_TTL = 300
DETAILS_TTL = 600
POSTER_BASE = "https://image.tmdb.org/t/p/w300"
PAGE_SIZE = 10
_TAKEN = (MediaStatus.PENDING, MediaStatus.PROCESSING, MediaStatus.PARTIALLY_AVAILABLE, MediaStatus.AVAILABLE)
STATE_LABELS: dict[int, str] = {
    MediaStatus.AVAILABLE: "available",
    MediaStatus.PARTIALLY_AVAILABLE: "partly available",
    MediaStatus.PROCESSING: "processing",
    MediaStatus.PENDING: "requested",
}


def poster_url(path: str | None) -> str | None:
    return f"{POSTER_BASE}{path}" if path else None


def state_label(result: SearchResult | Details, is_4k: bool = False) -> str:
    """What our server has of it: available, partly available, processing, requested or not requested."""
    state = result.media_info.state(is_4k) if result.media_info is not None else MediaStatus.UNKNOWN
    return STATE_LABELS.get(state, "not requested")


def our_status(request: OverseerrRequest) -> Status:
    """Overseerr's request and media states folded into ours."""
    if request.status == RequestStatus.DECLINED:
        return "declined"
    if request.status == RequestStatus.FAILED:
        return "failed"
    if request.status == RequestStatus.PENDING:
        return "pending"
    media = request.media.state(request.is4k)
    if request.status == RequestStatus.COMPLETED or media == MediaStatus.AVAILABLE:
        return "available"
    if media == MediaStatus.PARTIALLY_AVAILABLE:
        return "partially_available"
    if media == MediaStatus.PROCESSING:
        return "processing"
    return "approved"


CLOSED: tuple[Status, ...] = ("declined", "failed", "available", "cancelled")


def milestone(status: Status) -> Status:
    """What a person is told about: "processing" (sent to Radarr/Sonarr) is still just "approved"."""
    return "approved" if status == "processing" else status


@dataclass(frozen=True, slots=True)
class SeasonChoice:
    number: int
    name: str
    episodes: int
    state: str | None  # None: can be requested


@dataclass(frozen=True, slots=True)
class Outcome:
    request: MediaRequest
    status: Status


@dataclass(frozen=True, slots=True)
class QuotaReport:
    used: int
    limit: int
    resets_at: datetime | None
    overseerr: Quota | None


class RequestService:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        overseerr: OverseerrClient | None,
        accounts: AccountService,
        settings: Settings,
        runtime: RuntimeSettings,
    ) -> None:
        self._pool = pool
        self._redis = redis
        self._runtime = runtime
        self._overseerr = overseerr
        self._accounts = accounts
        self._settings = settings

    @property
    def overseerr(self) -> OverseerrClient:
        if self._overseerr is None:
            raise AppError(
                ErrorCode.SERVICE_UNAVAILABLE,
                "Requests are not set up on this server (no OVERSEERR_URL). Ask an admin.",
            )
        return self._overseerr

    @property
    def enabled(self) -> bool:
        return self._overseerr is not None

    # -- search ---------------------------------------------------------------------------

    async def search(self, query: str, media_type: MediaType | None = None, page: int = 1) -> list[SearchResult]:
        query = " ".join(query.split())
        if len(query) < 2:
            raise AppError(ErrorCode.INVALID_INPUT, "Type at least two characters to search.")
        key = f"cache:search:{query.lower()}:{page}"
        cached = await self._redis.get(key)
        if cached is not None:
            results = [SearchResult.model_validate(r) for r in json.loads(cached)]
        else:
            results, _ = await self.overseerr.search(query, page)
            await self._redis.set(key, json.dumps([r.model_dump(by_alias=True) for r in results]), ex=SEARCH_TTL)
        return [r for r in results if media_type is None or r.media_type == media_type]

    async def details(self, media_type: MediaType, tmdb_id: int, *, fresh: bool = False) -> Details:
        key = f"cache:details:{media_type}:{tmdb_id}"
        if not fresh and (cached := await self._redis.get(key)) is not None:
            return Details.model_validate_json(cached)
        details = await self.overseerr.details(media_type, tmdb_id)
        await self._redis.set(key, details.model_dump_json(by_alias=True), ex=DETAILS_TTL)
        return details

    async def seasons(self, tmdb_id: int, is_4k: bool) -> list[SeasonChoice]:
        """Every season of a show, with why it cannot be requested when it cannot."""
        details = await self.details("tv", tmdb_id, fresh=True)
        states: dict[int, int] = {}
        if details.media_info is not None:
            states = {s.season_number: (s.status4k if is_4k else s.status) for s in details.media_info.seasons}
        claimed = await self._pool.fetch(
            "SELECT season FROM media_claims WHERE media_type = 'tv' AND tmdb_id = $1 AND is_4k = $2", tmdb_id, is_4k
        )
        claimed_seasons = {r["season"] for r in claimed}
        choices = []
        for season in details.seasons:
            if season.season_number == 0:
                continue  # specials are not requestable in Overseerr
            state = states.get(season.season_number)
            label: str | None = None
            if state in _TAKEN:
                label = STATE_LABELS.get(state, "requested")
            elif season.season_number in claimed_seasons:
                label = "requested"
            choices.append(
                SeasonChoice(
                    season.season_number, season.name or f"Season {season.season_number}", season.episode_count, label
                )
            )
        return choices

    # -- users ----------------------------------------------------------------------------

    async def ensure_overseerr_user(self, user: User) -> int:
        """The member's Overseerr user id, found once by Plex id and stored; Discord id written there."""
        if user.overseerr_user_id is not None:
            return user.overseerr_user_id
        assert user.plex_id is not None
        found = await self.overseerr.find_user_by_plex_id(user.plex_id)
        if found is None and self._settings.overseerr.import_users:
            await self.overseerr.import_from_plex(user.plex_id)
            found = await self.overseerr.find_user_by_plex_id(user.plex_id)
        if found is None:
            raise AppError(
                ErrorCode.UNAUTHORIZED,
                "Your Plex account has no Overseerr user yet. Ask an admin to import you in Overseerr "
                "(Users → Import Plex Users), then try again.",
            )
        try:
            await self.overseerr.set_discord_id(found.id, user.discord_id)
        except (AppError, RequestRefused) as exc:
            log.warning("could not store the Discord id in Overseerr for user %s: %s", found.id, exc)
        await self._pool.execute(
            "UPDATE users SET overseerr_user_id = $2, updated_at = now() WHERE discord_id = $1",
            user.discord_id,
            found.id,
        )
        return found.id

    async def map_after_link(self, user: User) -> None:
        """Run after /link: map the member now so their first request is fast. Never fails the link."""
        if not self.enabled:
            return
        try:
            await self.ensure_overseerr_user(user)
        except AppError as exc:
            log.info("Overseerr mapping for %s deferred: %s", user.discord_id, exc.message)

    # -- requesting -------------------------------------------------------------------------

    async def quota(self, discord_id: int) -> QuotaReport:
        user = await self._accounts.require_linked(discord_id)
        since = datetime.now(UTC) - timedelta(days=1)
        used = await repo.count_since(self._pool, discord_id, since)
        oldest = await repo.oldest_since(self._pool, discord_id, since)
        overseerr_quota = None
        if self.enabled and user.overseerr_user_id is not None:
            try:
                overseerr_quota = await self.overseerr.quota(user.overseerr_user_id)
            except (AppError, RequestRefused):
                overseerr_quota = None
        limit = (await self._runtime.current()).requests_per_day
        return QuotaReport(
            used, limit, oldest + timedelta(days=1) if oldest and used >= limit else None, overseerr_quota
        )

    async def request(
        self,
        discord_id: int,
        media_type: MediaType,
        tmdb_id: int,
        *,
        is_4k: bool = False,
        seasons: list[int] | None = None,
    ) -> Outcome:
        user = await self._accounts.require_linked(discord_id)
        overseerr_user = await self.ensure_overseerr_user(user)
        details = await self.details(media_type, tmdb_id, fresh=True)
        wanted = await self._requestable(details, media_type, is_4k, seasons)
        report = await self.quota(discord_id)
        if report.used >= report.limit:
            when = f" Your next one is free <t:{int(report.resets_at.timestamp())}:R>." if report.resets_at else ""
            raise AppError(
                ErrorCode.QUOTA_EXCEEDED,
                f"You have made your {report.limit} requests for the last 24 hours.{when}",
            )
        row = await self._claim(user, media_type, details, wanted, is_4k, overseerr_user)
        try:
            created = await self.overseerr.create_request(
                as_user=overseerr_user,
                media_type=media_type,
                tmdb_id=tmdb_id,
                is_4k=is_4k,
                seasons=wanted or None,
                tvdb_id=details.tvdb_id,
            )
        except RequestRefused as exc:
            await self._pool.execute("DELETE FROM media_requests WHERE id = $1", row.id)
            raise await self._refusal(exc, user, media_type, is_4k) from None
        except BaseException:
            await self._pool.execute("DELETE FROM media_requests WHERE id = $1", row.id)
            raise
        if created is None:
            await self._pool.execute("DELETE FROM media_requests WHERE id = $1", row.id)
            raise AppError(
                ErrorCode.DUPLICATE_REQUEST, f"Every season of {details.display_title} is already requested."
            )
        await repo.set_overseerr(self._pool, row.id, created.id, [s.season_number for s in created.seasons] or None)
        status = await self._apply(row.id, created, source="discord", notify_requester=False)
        updated = await repo.get(self._pool, row.id)
        assert updated is not None
        log.info("request %s (overseerr %s) made for %s: %s", row.id, created.id, discord_id, status)
        return Outcome(updated, status)

    async def _requestable(
        self, details: Details, media_type: MediaType, is_4k: bool, seasons: list[int] | None
    ) -> list[int]:
        """The seasons to request ([] for a movie), or DUPLICATE_REQUEST saying why there are none."""
        if media_type == "movie":
            info = details.media_info
            if info is not None and info.state(is_4k) in (MediaStatus.AVAILABLE, MediaStatus.PARTIALLY_AVAILABLE):
                raise AppError(
                    ErrorCode.DUPLICATE_REQUEST,
                    f"{details.display_title} is already available on Plex.",
                    details={"tmdb_id": details.id},
                )
            return []
        choices = await self.seasons(details.id, is_4k)
        open_seasons = [c.number for c in choices if c.state is None]
        if seasons:
            open_seasons = [n for n in seasons if n in open_seasons]
        if not open_seasons:
            raise AppError(
                ErrorCode.DUPLICATE_REQUEST,
                f"Those seasons of {details.display_title} are already available or requested.",
                details={"tmdb_id": details.id},
            )
        return sorted(open_seasons)

    async def _claim(
        self, user: User, media_type: MediaType, details: Details, seasons: list[int], is_4k: bool, overseerr_user: int
    ) -> MediaRequest:
        """Write our row and its claims in one transaction: a unique key decides who asks Overseerr."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await repo.create(
                    conn,
                    user_id=user.discord_id,
                    media_type=media_type,
                    tmdb_id=details.id,
                    tvdb_id=details.tvdb_id,
                    title=details.display_title,
                    year=details.year,
                    poster_path=details.poster_path,
                    seasons=seasons or None,
                    is_4k=is_4k,
                    overseerr_user_id=overseerr_user,
                    requested_by_name=user.plex_username,
                )
                await repo.claim(conn, row.id, media_type, details.id, is_4k, seasons)
                return row
        except asyncpg.UniqueViolationError:
            pass
        holder = await repo.claim_holder(self._pool, media_type, details.id, is_4k, seasons)
        if holder is None:  # the per-user index: this member already has one open
            raise AppError(
                ErrorCode.DUPLICATE_REQUEST,
                f"You already have an open request for {details.display_title}. See /requests.",
            )
        who = f"<@{holder.user_id}>" if holder.user_id else (holder.requested_by_name or "someone in Overseerr")
        raise AppError(
            ErrorCode.DUPLICATE_REQUEST,
            f"{holder.label} was already requested by {who} ({holder.status.replace('_', ' ')}). "
            "Press **Notify me too** to hear when it is ready.",
            details={"request_id": holder.id},
        )

    async def _refusal(self, exc: RequestRefused, user: User, media_type: MediaType, is_4k: bool) -> AppError:
        message = exc.message.lower()
        if exc.status == 409:
            return AppError(ErrorCode.DUPLICATE_REQUEST, "Overseerr says this is already requested.")
        if exc.status == 403 and "quota" in message:
            reset = ""
            if user.overseerr_user_id is not None:
                try:
                    quota = await self.overseerr.quota(user.overseerr_user_id)
                    part = quota.movie if media_type == "movie" else quota.tv
                    if part.limit is not None and part.days:
                        reset = (
                            f" Your Overseerr limit is {part.limit} every {part.days} day(s);"
                            " it frees up as older requests age out."
                        )
                except (AppError, RequestRefused):
                    pass
            return AppError(ErrorCode.QUOTA_EXCEEDED, f"Your Overseerr request quota is used up.{reset}")
        if exc.status == 403 and "4k" in message:
            kind = "movies" if media_type == "movie" else "series"
            return AppError(
                ErrorCode.INSUFFICIENT_PRIVILEGES,
                f"You may not request 4K {kind}. Ask an admin for the 4K permission in Overseerr,"
                " or request it without 4K.",
            )
        if exc.status == 403:
            return AppError(
                ErrorCode.INSUFFICIENT_PRIVILEGES,
                "Overseerr does not allow you to request this. Ask an admin to check your Overseerr permissions.",
            )
        return AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, f"Overseerr could not take the request: {exc.message[:200]}")

    async def notify_me_too(self, discord_id: int, request_id: int) -> MediaRequest:
        await self._accounts.touch(discord_id)
        request = await repo.get(self._pool, request_id)
        if request is None or not request.is_open:
            raise AppError(ErrorCode.RESOURCE_NOT_FOUND, "That request has already finished.")
        if request.user_id == discord_id:
            raise AppError(ErrorCode.INVALID_INPUT, "It is your own request: you will hear about it anyway.")
        await repo.subscribe(self._pool, request_id, discord_id)
        return request

    # -- following requests -------------------------------------------------------------------

    async def sync(self, remote: OverseerrRequest, *, source: str) -> MediaRequest:
        """Bring our row in line with Overseerr's request (creating it if it began in Overseerr)."""
        row = await repo.by_overseerr_id(self._pool, remote.id)
        if row is None:
            row = await self._adopt(remote)
        await self._apply(row.id, remote, source=source, notify_requester=True)
        updated = await repo.get(self._pool, row.id)
        assert updated is not None
        return updated

    async def _adopt(self, remote: OverseerrRequest) -> MediaRequest:
        """A request made in Overseerr's web UI (or one we lost track of): record it as theirs."""
        media_type: MediaType = "tv" if remote.type == "tv" else "movie"
        details = await self.details(media_type, remote.media.tmdb_id)
        owner = await self._pool.fetchval(
            "SELECT discord_id FROM users WHERE overseerr_user_id = $1", remote.requested_by.id
        )
        seasons = [s.season_number for s in remote.seasons] or None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await repo.create(
                    conn,
                    user_id=owner,
                    media_type=media_type,
                    tmdb_id=details.id,
                    tvdb_id=details.tvdb_id,
                    title=details.display_title,
                    year=details.year,
                    poster_path=details.poster_path,
                    seasons=seasons,
                    is_4k=remote.is4k,
                    requested_via="overseerr",
                    requested_by_name=remote.requested_by.display_name
                    or remote.requested_by.plex_username
                    or remote.requested_by.username,
                    overseerr_request_id=remote.id,
                    overseerr_user_id=remote.requested_by.id,
                )
        except asyncpg.UniqueViolationError:
            existing = await repo.by_overseerr_id(self._pool, remote.id)
            if existing is None:
                raise
            return existing
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await repo.claim(conn, row.id, media_type, details.id, remote.is4k, seasons or [])
        except asyncpg.UniqueViolationError:
            pass  # someone asked in Discord too; Overseerr already merged them
        return row

    async def _apply(self, request_id: int, remote: OverseerrRequest, *, source: str, notify_requester: bool) -> Status:
        status = our_status(remote)
        row = await repo.get(self._pool, request_id)
        assert row is not None
        if row.status != status and row.status != "cancelled":
            await repo.set_status(self._pool, request_id, status)
        if status in CLOSED:
            await repo.release_claims(self._pool, request_id)
        if await repo.record_event(self._pool, request_id, milestone(status), source):
            await publish(
                self._redis,
                BotEvent(
                    kind="request_update",
                    request_id=request_id,
                    status=milestone(status),
                    notify_requester=notify_requester,
                ),
            )
        return status

    async def handle_webhook(self, payload: dict[str, Any]) -> str:
        """Overseerr's webhook: trust only the request id in it, and ask Overseerr for the facts."""
        kind = str(payload.get("notification_type", ""))
        request = payload.get("request") or {}
        raw_id = str(request.get("request_id") or "") if isinstance(request, dict) else ""
        if kind == "TEST_NOTIFICATION":
            return "test"
        if not raw_id.isdigit():
            return "ignored"
        remote = await self.overseerr.get_request(int(raw_id))
        if remote is None:
            return "unknown request"
        await self.sync(remote, source="webhook")
        return "synced"

    async def poll(self) -> int:
        """The fallback when a webhook was missed: recent requests, then any open one not seen."""
        seen: set[int] = set()
        for remote in await self.overseerr.recent_requests(take=50):
            await self.sync(remote, source="poll")
            seen.add(remote.id)
        for row in await repo.open_requests(self._pool):
            if row.overseerr_request_id is None or row.overseerr_request_id in seen:
                continue
            found = await self.overseerr.get_request(row.overseerr_request_id)
            if found is None:
                await repo.set_status(self._pool, row.id, "cancelled")
                await repo.release_claims(self._pool, row.id)
                continue
            await self.sync(found, source="poll")
            seen.add(found.id)
        return len(seen)

    # -- decisions -----------------------------------------------------------------------------

    async def decide(self, actor_id: int, request_id: int, *, approve: bool, reason: str | None = None) -> MediaRequest:
        admin = await self._accounts.require_admin(actor_id)
        row = await repo.get(self._pool, request_id)
        if row is None or row.overseerr_request_id is None:
            raise AppError(ErrorCode.RESOURCE_NOT_FOUND, f"There is no request #{request_id}.")
        if row.status != "pending":
            by = f" by <@{row.decided_by}>" if row.decided_by else ""
            raise AppError(ErrorCode.INVALID_INPUT, f"Request #{request_id} was already decided{by} ({row.status}).")
        remote = await self.overseerr.decide(row.overseerr_request_id, approve, as_user=admin.overseerr_user_id)
        await repo.set_status(
            self._pool,
            row.id,
            our_status(remote),
            decided_by=actor_id,
            decline_reason=None if approve else (reason or "No reason given."),
        )
        await audit.record(
            self._pool,
            actor_id=actor_id,
            action="request.approve" if approve else "request.decline",
            target_type="request",
            target_id=row.id,
            reason=reason,
            details={"title": row.label, "overseerr_request_id": row.overseerr_request_id, "requester": row.user_id},
        )
        await self._apply(row.id, remote, source="discord", notify_requester=True)
        updated = await repo.get(self._pool, row.id)
        assert updated is not None
        return updated

    async def pending(
        self, actor_id: int, *, user_id: int | None = None, before: datetime | None = None
    ) -> list[MediaRequest]:
        await self._accounts.require_admin(actor_id)
        return await repo.pending(self._pool, user_id=user_id, before=before)

    async def bulk_decide(
        self, actor_id: int, request_ids: list[int], *, approve: bool, reason: str | None
    ) -> tuple[list[MediaRequest], list[tuple[int, str]]]:
        """Decide each in turn; one failure does not stop the rest. Returns (done, [(id, why)])."""
        await self._accounts.require_admin(actor_id)
        done: list[MediaRequest] = []
        failed: list[tuple[int, str]] = []
        for request_id in request_ids:
            try:
                done.append(await self.decide(actor_id, request_id, approve=approve, reason=reason))
            except AppError as exc:
                failed.append((request_id, exc.message))
        return done, failed

    # -- reading ---------------------------------------------------------------------------------

    async def list_for(
        self, actor_id: int, *, user_id: int | None, status: Status | None, page: int
    ) -> tuple[list[MediaRequest], int]:
        if user_id is not None and user_id != actor_id:
            await self._accounts.require_admin(actor_id)
        target = user_id if user_id is not None else actor_id
        return await repo.list_requests(
            self._pool, user_id=target, status=status, limit=PAGE_SIZE, offset=(max(page, 1) - 1) * PAGE_SIZE
        )

    async def get(self, request_id: int) -> MediaRequest | None:
        return await repo.get(self._pool, request_id)

    async def timeline(self, request_id: int) -> list[asyncpg.Record]:
        return await repo.events(self._pool, request_id)

    async def subscribers(self, request_id: int) -> list[int]:
        return await repo.subscribers(self._pool, request_id)

    async def routes(self) -> dict[str, int]:
        return await repo.routes(self._pool)

    async def set_route(self, actor_id: int, topic: repo.Topic, channel_id: int | None) -> None:
        await self._accounts.require_admin(actor_id)
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.set_route(conn, topic, channel_id, actor_id)
            await audit.record(
                conn,
                actor_id=actor_id,
                action="settings.notification_route",
                target_type="topic",
                target_id=topic,
                details={"channel_id": channel_id},
            )

    async def set_approval_card(self, request_id: int, channel_id: int, message_id: int) -> None:
        await repo.set_approval_card(self._pool, request_id, channel_id, message_id)

    # -- what people are told -----------------------------------------------------------------

    def notices(self, request: MediaRequest, status: Status, recipients: list[int]) -> list[Notice]:
        """The DM for each recipient (requester first, then subscribers) for this transition."""
        text = {
            "approved": ("success", "Approved", "It is on its way. You will get a DM when it is ready to watch."),
            "declined": ("error", "Declined", f"Reason: {request.decline_reason or 'none given'}."),
            "available": ("success", "Ready to watch", "It is on Plex now. Enjoy!"),
            "failed": ("error", "Request failed", "Overseerr could not process it; the admins have been told."),
        }.get(status)
        if text is None:
            return []
        tone, verb, body = text
        return [
            Notice(
                user_id=user_id,
                tone=tone,  # type: ignore[arg-type]
                title=f"{verb}: {request.label}",
                body=body if user_id == request.user_id else f"{body}\n(You asked to be notified about this request.)",
                image_url=poster_url(request.poster_path),
                topic="requests",
            )
            for user_id in recipients
        ]
