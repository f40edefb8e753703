"""The fake's state and Overseerr's rules for it.

`Store.request_media` follows `MediaRequest.request` in Overseerr's
`server/entity/MediaRequest.ts` step by step (request-user override, permission,
quota, duplicate and season checks, auto-approval) and `set_request_status`,
`delete_request` and `set_available` follow the entity hooks that update the
parent media and send notifications. Keeping these rules here, away from HTTP,
lets the API handlers and the test API ("a user clicked Request in the web UI")
share them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .constants import MediaRequestStatus, MediaStatus, Notification, Permission, UserType
from .errors import (
    DuplicateMediaRequestError,
    NoSeasonsAvailableError,
    NotFoundError,
    OverseerrError,
    QuotaRestrictedError,
    RequestPermissionError,
)
from .models import (
    CatalogPerson,
    CatalogTitle,
    Media,
    MediaRequest,
    MediaType,
    NotificationEvent,
    PlexAccount,
    SeasonRequest,
    SeasonState,
    User,
    UserSettings,
)

TMDB_IMAGE = "https://image.tmdb.org/t/p/w600_and_h900_bestv2"

#: Statuses a request filter of `GET /request` selects, from `server/routes/request.ts`.
REQUEST_FILTERS: dict[str, tuple[set[MediaRequestStatus], set[MediaStatus] | None]] = {
    "approved": ({MediaRequestStatus.APPROVED}, None),
    "processing": (
        {MediaRequestStatus.APPROVED},
        {MediaStatus.UNKNOWN, MediaStatus.PENDING, MediaStatus.PROCESSING, MediaStatus.PARTIALLY_AVAILABLE},
    ),
    "pending": ({MediaRequestStatus.PENDING}, None),
    "unavailable": (
        {MediaRequestStatus.PENDING, MediaRequestStatus.APPROVED},
        {MediaStatus.UNKNOWN, MediaStatus.PENDING, MediaStatus.PROCESSING, MediaStatus.PARTIALLY_AVAILABLE},
    ),
    "failed": ({MediaRequestStatus.FAILED}, None),
    "completed": ({MediaRequestStatus.COMPLETED}, None),
    "available": ({MediaRequestStatus.COMPLETED}, {MediaStatus.AVAILABLE}),
    "deleted": ({MediaRequestStatus.COMPLETED}, {MediaStatus.DELETED}),
}


def truncate(text: str, length: int = 500, omission: str = "…") -> str:
    """lodash `truncate(text, {length, separator: /\\s/, omission})`, as Overseerr uses it."""
    if len(text) <= length:
        return text
    cut = text[: length - len(omission)]
    space = max(cut.rfind(" "), cut.rfind("\n"), cut.rfind("\t"))
    if space > 0:
        cut = cut[:space]
    return cut + omission


class Store:
    """Users, catalogue, media and requests of one fake server."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.users: dict[int, User] = {}
        self.plex_accounts: dict[str, PlexAccount] = {}
        self.catalog: dict[tuple[MediaType, int], CatalogTitle] = {}
        self.people: dict[int, CatalogPerson] = {}
        self.media: dict[tuple[MediaType, int], Media] = {}
        self.requests: dict[int, MediaRequest] = {}
        #: `main.defaultPermissions` and `main.defaultQuotas` of Overseerr's settings.
        self.default_permissions: int = Permission.REQUEST
        self.default_movie_quota: tuple[int | None, int | None] = (None, None)
        self.default_tv_quota: tuple[int | None, int | None] = (None, None)
        #: Receives every notification Overseerr would hand its agents.
        self.notify: Callable[[NotificationEvent], None] = lambda event: None
        self._ids = {
            name: itertools.count(1) for name in ("user", "settings", "media", "season", "request", "season_request")
        }

    def _next(self, name: str) -> int:
        return next(self._ids[name])

    # ------------------------------------------------------------------ users

    def add_user(
        self,
        username: str,
        *,
        plex_id: int | None = None,
        email: str | None = None,
        permissions: int | None = None,
        avatar: str | None = None,
        movie_quota: tuple[int | None, int | None] | None = None,
        tv_quota: tuple[int | None, int | None] | None = None,
        discord_id: str | None = None,
        discord_ids: Iterable[str] | None = None,
    ) -> User:
        """Create a user. With `plex_id` it is a Plex user (its name is `plexUsername`),
        without it a local user (its name is `username`)."""
        now = self.clock()
        user_id = self._next("user")
        plex = plex_id is not None
        user = User(
            id=user_id,
            email=(email or f"{username.lower()}@example.com").lower(),
            permissions=self.default_permissions if permissions is None else int(permissions),
            avatar=avatar or (f"https://plex.tv/users/{plex_id:016x}/avatar" if plex else f"/avatarproxy/{user_id}"),
            created_at=now,
            updated_at=now,
            user_type=UserType.PLEX if plex else UserType.LOCAL,
            username=None if plex else username,
            plex_username=username if plex else None,
            plex_id=plex_id,
        )
        if movie_quota is not None:
            user.movie_quota_limit, user.movie_quota_days = movie_quota
        if tv_quota is not None:
            user.tv_quota_limit, user.tv_quota_days = tv_quota
        if discord_id is not None or discord_ids:
            ids = list(discord_ids or ([discord_id] if discord_id else []))
            user.settings = UserSettings(
                id=self._next("settings"), discord_id=discord_id or (ids[0] if ids else None), discord_ids=ids
            )
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise NotFoundError("User not found.") from None

    def ensure_settings(self, user: User) -> UserSettings:
        if user.settings is None:
            user.settings = UserSettings(id=self._next("settings"))
        return user.settings

    def request_count(self, user: User) -> int:
        return sum(1 for r in self.requests.values() if r.requested_by.id == user.id)

    def import_from_plex(self, plex_ids: list[str] | None) -> list[User]:
        """`POST /user/import-from-plex`: create users for shared Plex accounts.

        Existing users (same Plex id or email) are refreshed, not returned; accounts
        without access to the server are skipped; only ids in `plex_ids` (strings,
        compared with `===`) are created, and `None` (no `plexIds` in the body)
        fails as it does in Overseerr.
        """
        created: list[User] = []
        for account in self.plex_accounts.values():
            if not account.email:
                continue
            existing = next(
                (
                    u
                    for u in self.users.values()
                    if u.plex_id == int(account.plex_id) or u.email == account.email.lower()
                ),
                None,
            )
            if existing is not None:
                existing.avatar = account.thumb
                existing.email = account.email.lower()
                existing.plex_username = account.username
                if existing.user_type == UserType.LOCAL:
                    existing.user_type = UserType.PLEX
                    existing.plex_id = int(account.plex_id)
                existing.updated_at = self.clock()
            elif plex_ids is None:
                # Express always gives `req.body = {}`, so Overseerr's `!body` fallback
                # ("import everyone") never runs: `body.plexIds.includes` throws instead.
                raise OverseerrError("Cannot read properties of undefined (reading 'includes')")
            elif account.plex_id in plex_ids and account.has_access:
                user = self.add_user(
                    account.username, plex_id=int(account.plex_id), email=account.email, avatar=account.thumb
                )
                created.append(user)
        return created

    def quota(self, user: User) -> dict[str, dict[str, Any]]:
        """`User.getQuota()`: limits, days, use in the window and whether it blocks.

        Quirks kept from Overseerr: MANAGE_USERS (or ADMIN) bypasses quotas, and a
        limit without a number of days never restricts (the window is empty).
        """
        bypass = user.has_permission([Permission.MANAGE_USERS], "or")
        now = self.clock()

        def one(kind: MediaType, limit: int | None, days: int | None) -> dict[str, Any]:
            limit = 0 if bypass else (limit or 0)
            since = now - timedelta(days=days) if days else now
            used = 0
            if limit:
                for r in self.requests.values():
                    if (
                        r.requested_by.id == user.id
                        and r.type == kind
                        and r.created_at > since
                        and r.status != MediaRequestStatus.DECLINED
                    ):
                        used += 1 if kind == "movie" else len(r.seasons)
            out: dict[str, Any] = {}
            if days is not None:
                out["days"] = days
            out["limit"] = limit
            out["used"] = used
            if limit:
                out["remaining"] = max(0, limit - used)
            out["restricted"] = bool(limit and limit - used <= 0)
            return out

        return {
            "movie": one(
                "movie",
                user.movie_quota_limit if user.movie_quota_limit is not None else self.default_movie_quota[0],
                user.movie_quota_days if user.movie_quota_days is not None else self.default_movie_quota[1],
            ),
            "tv": one(
                "tv",
                user.tv_quota_limit if user.tv_quota_limit is not None else self.default_tv_quota[0],
                user.tv_quota_days if user.tv_quota_days is not None else self.default_tv_quota[1],
            ),
        }

    # -------------------------------------------------------------- catalogue

    def title(self, media_type: MediaType, tmdb_id: int) -> CatalogTitle:
        """What TMDB returns for an id, or the error Overseerr passes on when TMDB has none."""
        try:
            return self.catalog[(media_type, tmdb_id)]
        except KeyError:
            what = "movie details" if media_type == "movie" else "TV show details"
            raise OverseerrError(f"[TMDB] Failed to fetch {what}: Request failed with status code 404") from None

    def search(self, query: str) -> list[CatalogTitle | CatalogPerson]:
        """TMDB `search/multi` over the catalogue, plus Overseerr's `tmdb:<id>` provider."""
        match = re.fullmatch(r"\s*tmdb:(\d+)\s*", query.lower())
        if match:
            tmdb_id = int(match.group(1))
            return [t for key, t in self.catalog.items() if key[1] == tmdb_id]
        words = query.lower().split()
        found: list[CatalogTitle | CatalogPerson] = []
        for t in self.catalog.values():
            if words and all(w in t.title.lower() for w in words):
                found.append(t)
        for p in self.people.values():
            if words and all(w in p.name.lower() for w in words):
                found.append(p)
        found.sort(key=lambda item: -item.popularity if isinstance(item, CatalogTitle) else 0.0)
        return found

    def find_media(self, media_type: MediaType, tmdb_id: int) -> Media | None:
        return self.media.get((media_type, tmdb_id))

    def ensure_media(self, media_type: MediaType, tmdb_id: int) -> Media:
        media = self.find_media(media_type, tmdb_id)
        if media is None:
            title = self.title(media_type, tmdb_id)
            now = self.clock()
            media = Media(
                id=self._next("media"),
                media_type=media_type,
                tmdb_id=tmdb_id,
                created_at=now,
                updated_at=now,
                tvdb_id=title.tvdb_id,
                imdb_id=title.imdb_id,
            )
            self.media[(media_type, tmdb_id)] = media
        return media

    def season_state(self, media: Media, number: int) -> SeasonState:
        for season in media.seasons:
            if season.season_number == number:
                return season
        now = self.clock()
        season = SeasonState(id=self._next("season"), season_number=number, created_at=now, updated_at=now)
        media.seasons.append(season)
        media.seasons.sort(key=lambda s: s.season_number)
        return season

    def requests_for(self, media: Media) -> list[MediaRequest]:
        return [r for r in self.requests.values() if r.media is media]

    # --------------------------------------------------------------- requests

    def request_media(self, body: dict[str, Any], acting: User) -> MediaRequest:
        """`MediaRequest.request(body, user)`: create a request or raise as Overseerr does."""
        request_user = acting
        if body.get("userId") and not acting.has_permission([Permission.MANAGE_USERS, Permission.MANAGE_REQUESTS]):
            raise RequestPermissionError("You do not have permission to modify the request user.")
        if body.get("userId"):
            other = self.users.get(int(body["userId"]))
            if other is None:
                # TypeORM's EntityNotFoundError from `findOneOrFail`, answered 500.
                where = f'{{\n    "where": {{\n        "id": {body["userId"]}\n    }}\n}}'
                raise OverseerrError(f'Could not find any entity of type "User" matching: {where}')
            request_user = other

        media_type: MediaType = body["mediaType"]
        is4k = bool(body.get("is4k", False))
        tmdb_id = int(body["mediaId"])
        kind = "movie" if media_type == "movie" else "series"
        wanted = (
            [Permission.REQUEST_4K, Permission.REQUEST_4K_MOVIE if media_type == "movie" else Permission.REQUEST_4K_TV]
            if is4k
            else [Permission.REQUEST, Permission.REQUEST_MOVIE if media_type == "movie" else Permission.REQUEST_TV]
        )
        if not request_user.has_permission(list(map(int, wanted)), "or"):
            raise RequestPermissionError(f"You do not have permission to make {'4K ' if is4k else ''}{kind} requests.")

        quotas = self.quota(request_user)
        if media_type == "movie" and quotas["movie"]["restricted"]:
            raise QuotaRestrictedError("Movie Quota exceeded.")
        if media_type == "tv" and quotas["tv"]["restricted"]:
            raise QuotaRestrictedError("Series Quota exceeded.")

        title = self.title(media_type, tmdb_id)
        media = self.find_media(media_type, tmdb_id)
        new_media = media is None

        existing = [
            r
            for r in self.requests.values()
            if r.is4k == is4k and r.media.tmdb_id == tmdb_id and r.media.media_type == media_type
        ]
        if existing:
            # Overseerr looks only at the first matching request, whoever made it.
            if media_type == "movie" and existing[0].status not in (
                MediaRequestStatus.DECLINED,
                MediaRequestStatus.COMPLETED,
            ):
                raise DuplicateMediaRequestError("Request for this media already exists.")
            if any(r.requested_by.id == request_user.id and r.is_auto_request for r in existing):
                raise DuplicateMediaRequestError("Auto-request for this media and user already exists.")

        seasons: list[int] = []
        if media_type == "tv":
            requested = body.get("seasons")
            if requested == "all":
                wanted_seasons = title.requestable_seasons
            elif isinstance(requested, list):
                wanted_seasons = [int(n) for n in requested]
            else:
                raise OverseerrError("Cannot read properties of undefined (reading 'filter')")
            taken: set[int] = set()
            if media is not None:
                for r in self.requests_for(media):
                    if r.is4k == is4k and r.status not in (MediaRequestStatus.DECLINED, MediaRequestStatus.COMPLETED):
                        taken.update(s.season_number for s in r.seasons)
                taken.update(
                    s.season_number
                    for s in media.seasons
                    if s.get(is4k) not in (MediaStatus.UNKNOWN, MediaStatus.DELETED)
                )
            seasons = [n for n in wanted_seasons if n not in taken]
            if not seasons:
                raise NoSeasonsAvailableError("No seasons available to request")
            if quotas["tv"]["limit"] and len(seasons) > (quotas["tv"].get("remaining") or 0):
                raise QuotaRestrictedError("Series Quota exceeded.")

        if media is None:
            media = self.ensure_media(media_type, tmdb_id)
            if body.get("tvdbId"):
                media.tvdb_id = int(body["tvdbId"])
            media.set_status(is4k, MediaStatus.PENDING)
        elif media.get_status(is4k) == MediaStatus.UNKNOWN:
            media.set_status(is4k, MediaStatus.PENDING)
        if not new_media:
            media.updated_at = self.clock()

        auto = acting.has_permission(
            [
                int(Permission.AUTO_APPROVE_4K if is4k else Permission.AUTO_APPROVE),
                int(
                    (Permission.AUTO_APPROVE_4K_MOVIE if is4k else Permission.AUTO_APPROVE_MOVIE)
                    if media_type == "movie"
                    else (Permission.AUTO_APPROVE_4K_TV if is4k else Permission.AUTO_APPROVE_TV)
                ),
                int(Permission.MANAGE_REQUESTS),
            ],
            "or",
        )
        status = MediaRequestStatus.APPROVED if auto else MediaRequestStatus.PENDING
        now = self.clock()
        request = MediaRequest(
            id=self._next("request"),
            status=status,
            media=media,
            requested_by=request_user,
            type=media_type,
            is4k=is4k,
            created_at=now,
            updated_at=now,
            modified_by=acting if auto else None,
            seasons=[
                SeasonRequest(
                    id=self._next("season_request"), season_number=n, status=status, created_at=now, updated_at=now
                )
                for n in seasons
            ],
            server_id=body.get("serverId"),
            profile_id=body.get("profileId"),
            root_folder=body.get("rootFolder"),
            language_profile_id=body.get("languageProfileId"),
            tags=body.get("tags"),
        )
        self.requests[request.id] = request
        self._update_parent_status(request)
        if status == MediaRequestStatus.PENDING:
            self._notify(Notification.MEDIA_PENDING, request)
        else:
            self._notify_approved_or_declined(request, auto_approved=True)
        return request

    def get_request(self, request_id: int) -> MediaRequest:
        try:
            return self.requests[request_id]
        except KeyError:
            raise NotFoundError("Request not found.") from None

    def set_request_status(self, request: MediaRequest, status: MediaRequestStatus, modified_by: User) -> None:
        """`POST /request/{id}/{approve|decline|pending}` and the hooks that follow the save."""
        request.status = status
        request.modified_by = modified_by
        request.updated_at = self.clock()
        self._update_parent_status(request)
        self._notify_approved_or_declined(request, auto_approved=False)

    def fail_request(self, request: MediaRequest) -> None:
        """What happens when Radarr/Sonarr refuse an approved request."""
        request.status = MediaRequestStatus.FAILED
        request.updated_at = self.clock()
        self._notify(Notification.MEDIA_FAILED, request)

    def delete_request(self, request: MediaRequest) -> None:
        """Remove a request and reset the media's status if nothing else wants it."""
        del self.requests[request.id]
        media = request.media
        remaining = self.requests_for(media)
        for is4k in (False, True):
            if not any(r.is4k == is4k for r in remaining) and media.get_status(is4k) != MediaStatus.AVAILABLE:
                media.set_status(is4k, MediaStatus.UNKNOWN)
        media.updated_at = self.clock()

    def set_available(
        self, media_type: MediaType, tmdb_id: int, seasons: Iterable[int] | None = None, is4k: bool = False
    ) -> Media:
        """A library scan found the title (or some seasons of it) in Plex.

        The media (and the given seasons, default all) become AVAILABLE; a show with
        only some seasons is PARTIALLY_AVAILABLE. Requests whose titles are now
        fully there get MEDIA_AVAILABLE, and approved ones become COMPLETED when
        the whole title is available (`Media.updateRelatedMediaRequest`).
        """
        media = self.ensure_media(media_type, tmdb_id)
        now = self.clock()
        newly: set[int] = set()
        if media_type == "movie":
            was = media.get_status(is4k)
            media.set_status(is4k, MediaStatus.AVAILABLE)
            became_available = was != MediaStatus.AVAILABLE
        else:
            title = self.title(media_type, tmdb_id)
            numbers = list(seasons) if seasons is not None else title.requestable_seasons
            for n in numbers:
                state = self.season_state(media, n)
                if state.get(is4k) != MediaStatus.AVAILABLE:
                    newly.add(n)
                if is4k:
                    state.status4k = MediaStatus.AVAILABLE
                else:
                    state.status = MediaStatus.AVAILABLE
                state.updated_at = now
            available = {s.season_number for s in media.seasons if s.get(is4k) == MediaStatus.AVAILABLE}
            full = all(n in available for n in title.requestable_seasons)
            media.set_status(is4k, MediaStatus.AVAILABLE if full else MediaStatus.PARTIALLY_AVAILABLE)
            became_available = bool(newly)
        media.media_added_at = media.media_added_at or now
        media.updated_at = now

        if became_available:
            for request in self.requests_for(media):
                if request.is4k != is4k or request.status in (
                    MediaRequestStatus.DECLINED,
                    MediaRequestStatus.COMPLETED,
                ):
                    continue
                if media_type == "tv":
                    numbers_wanted = {s.season_number for s in request.seasons}
                    done = {s.season_number for s in media.seasons if s.get(is4k) == MediaStatus.AVAILABLE}
                    if not numbers_wanted <= done or not numbers_wanted & newly:
                        continue
                self._notify(Notification.MEDIA_AVAILABLE, request)
        if media.get_status(is4k) == MediaStatus.AVAILABLE:
            for request in self.requests_for(media):
                if request.is4k == is4k and request.status == MediaRequestStatus.APPROVED:
                    request.status = MediaRequestStatus.COMPLETED
                    request.updated_at = now
        return media

    def list_requests(
        self,
        acting: User,
        *,
        filter_: str | None,
        sort: str | None,
        direction: Literal["asc", "desc"],
        requested_by: int | None,
        media_type: str | None = None,
    ) -> list[MediaRequest]:
        """`GET /request` selection: non-managers only ever see their own requests."""
        statuses, media_statuses = REQUEST_FILTERS.get(filter_ or "all", (set(MediaRequestStatus), None))
        if not acting.has_permission([Permission.MANAGE_REQUESTS, Permission.REQUEST_VIEW], "or"):
            if requested_by and requested_by != acting.id:
                raise RequestPermissionError("You do not have permission to view this user's requests.")
            requested_by = acting.id
        found = [
            r
            for r in self.requests.values()
            if r.status in statuses
            and (media_statuses is None or r.media.get_status(r.is4k) in media_statuses)
            and (requested_by is None or r.requested_by.id == requested_by)
            and (media_type in (None, "all") or r.type == media_type)
        ]
        key: Callable[[MediaRequest], Any] = (
            (lambda r: (r.updated_at, r.id)) if sort == "modified" else (lambda r: r.id)
        )
        found.sort(key=key, reverse=direction == "desc")
        return found

    # ---------------------------------------------------------- side effects

    def _update_parent_status(self, request: MediaRequest) -> None:
        """`MediaRequest.updateParentStatus`: keep the media's status in step with the request."""
        media, is4k = request.media, request.is4k
        current = media.get_status(is4k)
        if request.status == MediaRequestStatus.APPROVED and current not in (
            MediaStatus.AVAILABLE,
            MediaStatus.PARTIALLY_AVAILABLE,
        ):
            media.set_status(is4k, MediaStatus.PROCESSING)
        if request.type == "movie" and request.status == MediaRequestStatus.DECLINED and current != MediaStatus.DELETED:
            media.set_status(is4k, MediaStatus.UNKNOWN)
        if (
            request.type == "tv"
            and request.status == MediaRequestStatus.DECLINED
            and not any(r.status == MediaRequestStatus.PENDING for r in self.requests_for(media))
            and current == MediaStatus.PENDING
        ):
            media.set_status(is4k, MediaStatus.UNKNOWN)
        if request.type == "tv" and request.status == MediaRequestStatus.APPROVED:
            for season in request.seasons:
                season.status = MediaRequestStatus.APPROVED
        media.updated_at = self.clock()

    def _notify_approved_or_declined(self, request: MediaRequest, *, auto_approved: bool) -> None:
        """No approval notice for media that is already available, as in Overseerr."""
        if request.status not in (MediaRequestStatus.APPROVED, MediaRequestStatus.DECLINED):
            return
        if request.media.get_status(request.is4k) == MediaStatus.AVAILABLE:
            return
        if request.status == MediaRequestStatus.APPROVED:
            kind = Notification.MEDIA_AUTO_APPROVED if auto_approved else Notification.MEDIA_APPROVED
        else:
            kind = Notification.MEDIA_DECLINED
        self._notify(kind, request)

    def _notify(self, kind: Notification, request: MediaRequest) -> None:
        """`MediaRequest.sendNotification` (and the media subscriber's "now available")."""
        title = self.title(request.type, request.media.tmdb_id)
        noun = "Movie" if request.type == "movie" else "Series"
        k4 = "4K " if request.is4k else ""
        events = {
            Notification.MEDIA_PENDING: f"New {k4}{noun} Request",
            Notification.MEDIA_APPROVED: f"{k4}{noun} Request Approved",
            Notification.MEDIA_DECLINED: f"{k4}{noun} Request Declined",
            Notification.MEDIA_AUTO_APPROVED: f"{k4}{noun} Request Automatically Approved",
            Notification.MEDIA_FAILED: f"{k4}{noun} Request Failed",
            Notification.MEDIA_AVAILABLE: f"{k4}{noun} Request Now Available",
        }
        to_user = kind in (Notification.MEDIA_APPROVED, Notification.MEDIA_DECLINED, Notification.MEDIA_AVAILABLE)
        year = f" ({title.date[:4]})" if title.date else ""
        extra = (
            [{"name": "Requested Seasons", "value": ", ".join(str(s.season_number) for s in request.seasons)}]
            if request.type == "tv"
            else []
        )
        self.notify(
            NotificationEvent(
                kind=kind,
                event=events.get(kind),
                subject=f"{title.title}{year}",
                message=truncate(title.overview),
                # A template literal: a missing poster becomes ".../bestv2null", as in Overseerr.
                image=f"{TMDB_IMAGE}{title.poster_path if title.poster_path is not None else 'null'}",
                media=request.media,
                request=request,
                notify_user=request.requested_by if to_user else None,
                extra=extra,
            )
        )
