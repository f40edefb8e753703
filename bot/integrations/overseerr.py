"""Overseerr, Jellyseerr and Seerr (API v1): one client, their known differences handled.

Requests for a member are made with the admin API key plus `X-Api-User: <their
Overseerr id>`, so Overseerr's own permissions, auto-approval and quotas apply
to them (without the header Overseerr acts as user 1, the admin). Differences
between the flavours that matter here: Seerr 3.3+ keeps `discordIds` (a list)
where the others keep `discordId`; Jellyseerr and Seerr moved `csrfProtection`
from /settings/main to /settings/network.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import IntEnum
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from bot.errors import AppError, ErrorCode
from bot.integrations.breaker import CircuitBreaker
from bot.integrations.http import ServiceClient

log = logging.getLogger(__name__)

Flavour = Literal["overseerr", "jellyseerr", "seerr"]
MediaType = Literal["movie", "tv"]
CSRF_HINT = (
    "Overseerr's CSRF protection is on, and it blocks every request made with an API key. "
    "An admin should turn off Settings → General → Enable CSRF Protection (Network on Jellyseerr/Seerr)."
)


class MediaStatus(IntEnum):
    UNKNOWN = 1
    PENDING = 2
    PROCESSING = 3
    PARTIALLY_AVAILABLE = 4
    AVAILABLE = 5
    DELETED = 6


class RequestStatus(IntEnum):
    PENDING = 1
    APPROVED = 2
    DECLINED = 3
    FAILED = 4
    COMPLETED = 5


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SeasonState(_Model):
    season_number: int = Field(alias="seasonNumber")
    status: int = MediaStatus.UNKNOWN
    status4k: int = MediaStatus.UNKNOWN


class MediaInfo(_Model):
    id: int
    tmdb_id: int = Field(alias="tmdbId")
    media_type: str = Field(alias="mediaType")
    status: int = MediaStatus.UNKNOWN
    status4k: int = MediaStatus.UNKNOWN
    seasons: list[SeasonState] = []

    def state(self, is_4k: bool) -> int:
        return self.status4k if is_4k else self.status


class _Title(_Model):
    """What search results and details share: a movie's title or a show's name, its date, poster, rating."""

    id: int
    title: str | None = None
    name: str | None = None
    release_date: str | None = Field(default=None, alias="releaseDate")
    first_air_date: str | None = Field(default=None, alias="firstAirDate")
    overview: str | None = None
    poster_path: str | None = Field(default=None, alias="posterPath")
    vote_average: float | None = Field(default=None, alias="voteAverage")
    media_info: MediaInfo | None = Field(default=None, alias="mediaInfo")

    @property
    def display_title(self) -> str:
        return self.title or self.name or f"#{self.id}"

    @property
    def year(self) -> int | None:
        date = self.release_date or self.first_air_date
        return int(date[:4]) if date and date[:4].isdigit() else None


class SearchResult(_Title):
    media_type: str = Field(alias="mediaType")


class Season(_Model):
    season_number: int = Field(alias="seasonNumber")
    episode_count: int = Field(default=0, alias="episodeCount")
    name: str | None = None


class Details(_Title):
    """A movie or show as /movie/{id} and /tv/{id} describe it (the fields we use)."""

    seasons: list[Season] = []
    external_ids: dict[str, Any] = Field(default_factory=dict, alias="externalIds")

    @property
    def tvdb_id(self) -> int | None:
        value = self.external_ids.get("tvdbId")
        return int(value) if value else None


class OverseerrUser(_Model):
    id: int
    plex_id: int | None = Field(default=None, alias="plexId")
    username: str | None = None
    plex_username: str | None = Field(default=None, alias="plexUsername")
    display_name: str | None = Field(default=None, alias="displayName")
    email: str | None = None
    permissions: int = 0


class SeasonRequest(_Model):
    season_number: int = Field(alias="seasonNumber")
    status: int


class OverseerrRequest(_Model):
    id: int
    status: int
    type: str
    is4k: bool = False
    media: MediaInfo
    seasons: list[SeasonRequest] = []
    requested_by: OverseerrUser = Field(alias="requestedBy")
    modified_by: OverseerrUser | None = Field(default=None, alias="modifiedBy")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")


class QuotaPart(_Model):
    limit: int | None = None
    days: int | None = None
    used: int = 0
    remaining: int | None = None
    restricted: bool = False


class Quota(_Model):
    movie: QuotaPart
    tv: QuotaPart


class RequestRefused(Exception):
    """Overseerr refused to create a request, with its own words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class OverseerrClient(ServiceClient):
    def __init__(
        self, *, base_url: str, api_key: str, timeout: float, breaker: CircuitBreaker, flavour: Flavour | None = None
    ) -> None:
        super().__init__(
            "Overseerr",
            base_url=base_url.rstrip("/") + "/api/v1",
            timeout=timeout,
            breaker=breaker,
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
        )
        self._flavour = flavour

    # -- plumbing -----------------------------------------------------------------

    async def call(
        self, method: str, path: str, *, as_user: int | None = None, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if as_user is not None:
            headers["X-Api-User"] = str(as_user)
        response = await self.request(method, path, headers=headers, **kwargs)
        if response.status_code in ok:
            return response
        message = self._message(response)
        if response.status_code == 403 and "csrf" in message.lower():
            raise AppError(ErrorCode.OPERATION_FAILED, CSRF_HINT, details={"service": "Overseerr"})
        if response.status_code == 401 or (response.status_code == 403 and as_user is None):
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR,
                "Overseerr refused the bot's API key. An admin should check OVERSEERR_API_KEY.",
            )
        raise RequestRefused(response.status_code, message)

    @staticmethod
    def _message(response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:200]
        if isinstance(body, dict):
            return str(body.get("message") or body.get("error") or "")
        return ""

    # -- about the server -----------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        return dict(self.json(await self.call("GET", "/status")))

    async def flavour(self) -> Flavour:
        """Which server this is, from its version (Overseerr 1.x, Jellyseerr 2.x, Seerr 3.x)."""
        if self._flavour is None:
            version = str((await self.status()).get("version", "1"))
            major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 1
            self._flavour = "seerr" if major >= 3 else "jellyseerr" if major == 2 else "overseerr"
        return self._flavour

    async def csrf_protection(self) -> bool:
        path = "/settings/main" if await self.flavour() == "overseerr" else "/settings/network"
        body = self.json(await self.call("GET", path))
        return bool(body.get("csrfProtection", False))

    # -- catalogue --------------------------------------------------------------------

    async def search(self, query: str, page: int = 1) -> tuple[list[SearchResult], int]:
        body = self.json(await self.call("GET", "/search", params={"query": query, "page": page, "language": "en"}))
        results = [
            SearchResult.model_validate(r) for r in body.get("results", []) if r.get("mediaType") in ("movie", "tv")
        ]
        return results, int(body.get("totalPages", 1) or 1)

    async def details(self, media_type: MediaType, tmdb_id: int) -> Details:
        try:
            response = await self.call("GET", f"/{media_type}/{tmdb_id}")
        except RequestRefused as exc:
            raise AppError(ErrorCode.RESOURCE_NOT_FOUND, f"Overseerr does not know that {media_type}.") from exc
        return Details.model_validate(self.json(response))

    # -- users ------------------------------------------------------------------------

    async def find_user_by_plex_id(self, plex_id: int) -> OverseerrUser | None:
        """Page through the user list once (done at link time, then the mapping is stored)."""
        skip = 0
        while True:
            body = self.json(await self.call("GET", "/user", params={"take": 100, "skip": skip, "sort": "created"}))
            results = [OverseerrUser.model_validate(u) for u in body.get("results", [])]
            for user in results:
                if user.plex_id == plex_id:
                    return user
            skip += len(results)
            if not results or skip >= int(body.get("pageInfo", {}).get("results", skip)):
                return None

    async def import_from_plex(self, plex_id: int) -> None:
        await self.call("POST", "/user/import-from-plex", json={"plexIds": [str(plex_id)]}, ok=(200, 201))

    async def set_discord_id(self, user_id: int, discord_id: int) -> None:
        """Add the Discord id to the user's notification settings, keeping everything else.

        The endpoint replaces every field, so read, merge, write.
        """
        path = f"/user/{user_id}/settings/notifications"
        settings = dict(self.json(await self.call("GET", path)))
        if await self.flavour() == "seerr":
            ids = [str(i) for i in settings.get("discordIds") or [] if i]
            if str(discord_id) not in ids:
                ids.append(str(discord_id))
            settings["discordIds"] = ids
            settings.pop("discordId", None)
        else:
            settings["discordId"] = str(discord_id)
        await self.call("POST", path, json=settings)

    async def quota(self, user_id: int) -> Quota:
        return Quota.model_validate(self.json(await self.call("GET", f"/user/{user_id}/quota")))

    # -- requests ---------------------------------------------------------------------

    async def create_request(
        self,
        *,
        as_user: int,
        media_type: MediaType,
        tmdb_id: int,
        is_4k: bool,
        seasons: list[int] | None = None,
        tvdb_id: int | None = None,
    ) -> OverseerrRequest | None:
        """The created request, or None when Overseerr found nothing left to request (202)."""
        body: dict[str, Any] = {"mediaType": media_type, "mediaId": tmdb_id, "is4k": is_4k}
        if media_type == "tv":
            body["seasons"] = seasons if seasons else "all"
            if tvdb_id:
                body["tvdbId"] = tvdb_id
        response = await self.call("POST", "/request", as_user=as_user, json=body, ok=(201, 202))
        if response.status_code == 202:
            return None
        return OverseerrRequest.model_validate(self.json(response))

    async def get_request(self, request_id: int) -> OverseerrRequest | None:
        try:
            response = await self.call("GET", f"/request/{request_id}")
        except RequestRefused as exc:
            if exc.status == 404:
                return None
            raise
        return OverseerrRequest.model_validate(self.json(response))

    async def recent_requests(self, take: int = 50) -> list[OverseerrRequest]:
        body = self.json(
            await self.call("GET", "/request", params={"take": take, "skip": 0, "filter": "all", "sort": "modified"})
        )
        return [OverseerrRequest.model_validate(r) for r in body.get("results", [])]

    async def decide(self, request_id: int, approve: bool, *, as_user: int | None = None) -> OverseerrRequest:
        action = "approve" if approve else "decline"
        try:
            response = await self.call("POST", f"/request/{request_id}/{action}", as_user=as_user)
        except RequestRefused as exc:
            if exc.status == 404:
                raise AppError(ErrorCode.RESOURCE_NOT_FOUND, "Overseerr no longer has that request.") from exc
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, f"Overseerr refused: {exc.message}") from exc
        return OverseerrRequest.model_validate(self.json(response))
