"""The `/api/v1` handlers: Overseerr's routes for what a request bot uses.

Each handler mirrors the route of the same path in Overseerr's `server/routes/`
(permission checks, defaults such as `take=10`, error messages); the request
rules themselves live in `store.py`.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from ..base import json_response
from .app import USER_KEY
from .constants import FLAVOUR_VERSIONS, MediaRequestStatus, MediaStatus, Permission
from .errors import EndpointForbidden, NotFoundError, OverseerrError, RequestPermissionError
from .models import CatalogPerson, CatalogTitle, MediaRequest, MediaType, User
from .serialize import (
    media_json,
    movie_details,
    movie_result,
    person_result,
    request_json,
    tv_details,
    tv_result,
    user_json,
)

if TYPE_CHECKING:
    from .fake import FakeOverseerr
    from .store import Store

API = "/api/v1"
SEARCH_PAGE_SIZE = 20


def _number(request: web.Request, name: str, default: int) -> int:
    """`req.query.x ? Number(req.query.x) : default` (the spec validator already checked the type)."""
    raw = request.query.get(name)
    return int(float(raw)) if raw else default


def _page_info(total: int, page_size: int, skip: int) -> dict[str, Any]:
    return {
        "pages": math.ceil(total / page_size) if page_size else None,
        "pageSize": page_size,
        "results": total,
        "page": (math.ceil(skip / page_size) + 1) if page_size else None,
    }


async def _json_body(request: web.Request) -> dict[str, Any]:
    """Express's `req.body`: `{}` when there is no JSON body."""
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


class OverseerrRoutes:
    """Handlers bound to one fake; `register` adds them to its router."""

    def __init__(self, fake: FakeOverseerr) -> None:
        self.fake = fake

    @property
    def store(self) -> Store:
        return self.fake.store

    @property
    def flavour(self) -> Literal["overseerr", "jellyseerr", "seerr"]:
        return self.fake.flavour

    def register(self, router: web.UrlDispatcher) -> None:
        add = router.add_route
        add("GET", f"{API}/status", self.status)
        add("GET", f"{API}/settings/public", self.settings_public)
        add("GET", f"{API}/settings/main", self.settings_main)
        if self.flavour != "overseerr":
            add("GET", f"{API}/settings/network", self.settings_network)
        add("GET", f"{API}/auth/me", self.auth_me)
        add("GET", f"{API}/search", self.search)
        add("GET", f"{API}/movie/{{movieId}}", self.movie)
        add("GET", f"{API}/tv/{{tvId}}", self.tv)
        add("GET", f"{API}/request", self.list_requests)
        add("POST", f"{API}/request", self.create_request)
        add("GET", f"{API}/request/count", self.request_count)
        add("GET", f"{API}/request/{{requestId}}", self.get_request)
        add("DELETE", f"{API}/request/{{requestId}}", self.delete_request)
        add("POST", f"{API}/request/{{requestId}}/{{status}}", self.set_request_status)
        add("GET", f"{API}/media", self.list_media)
        add("GET", f"{API}/user", self.list_users)
        add("POST", f"{API}/user/import-from-plex", self.import_from_plex)
        add("GET", f"{API}/user/{{userId}}", self.get_user)
        add("GET", f"{API}/user/{{userId}}/requests", self.user_requests)
        add("GET", f"{API}/user/{{userId}}/quota", self.user_quota)
        add("GET", f"{API}/user/{{userId}}/settings/notifications", self.get_notification_settings)
        add("POST", f"{API}/user/{{userId}}/settings/notifications", self.post_notification_settings)

    # ------------------------------------------------------------ helpers

    def user(self, request: web.Request, permission: int = 0) -> User:
        """`isAuthenticated(permission)`: the acting user, or 403."""
        user: User | None = request.get(USER_KEY)
        if user is None or not user.has_permission(permission):
            raise EndpointForbidden()
        return user

    def request_out(self, r: MediaRequest) -> dict[str, Any]:
        return request_json(r, self.flavour)

    def user_out(self, u: User, *, show_filtered: bool = True, with_settings: bool = False) -> dict[str, Any]:
        return user_json(
            u,
            self.flavour,
            show_filtered=show_filtered,
            request_count=self.store.request_count(u),
            with_settings=with_settings,
        )

    def media_info(self, media_type: MediaType, tmdb_id: int, *, with_requests: bool) -> dict[str, Any] | None:
        media = self.store.find_media(media_type, tmdb_id)
        if media is None:
            return None
        if not with_requests:
            return media_json(media)
        requests = [request_json(r, self.flavour, include_media=False) for r in self.store.requests_for(media)]
        info = media_json(media, requests=requests)
        info["issues"] = []
        return info

    def result_json(self, item: CatalogTitle | CatalogPerson) -> dict[str, Any]:
        if isinstance(item, CatalogPerson):
            known = []
            for media_type, tmdb_id in item.known_for:
                title = self.store.catalog.get((media_type, tmdb_id))
                if title is not None:
                    known.append(self.result_json(title))
            return person_result(item, known)
        media = self.store.find_media(item.media_type, item.tmdb_id)
        return movie_result(item, media) if item.media_type == "movie" else tv_result(item, media)

    # ------------------------------------------------------------- public

    async def status(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "version": FLAVOUR_VERSIONS[self.flavour],
                "commitTag": "local",
                "updateAvailable": False,
                "commitsBehind": 0,
                "restartRequired": False,
            }
        )

    async def settings_public(self, request: web.Request) -> web.Response:
        s = self.fake.settings
        body: dict[str, Any] = {
            "initialized": True,
            "applicationTitle": s.application_title,
            "applicationUrl": s.application_url,
            "hideAvailable": False,
            "localLogin": True,
            "movie4kEnabled": s.movie_4k_enabled,
            "series4kEnabled": s.series_4k_enabled,
            "region": "",
            "originalLanguage": "",
            "partialRequestsEnabled": s.partial_requests_enabled,
            "cacheImages": False,
            "vapidPublic": "BFakeVapidPublicKey",
            "enablePushRegistration": False,
            "locale": "en",
            "emailEnabled": False,
            "newPlexLogin": True,
        }
        if self.flavour != "overseerr":
            body["mediaServerType"] = 1
        return json_response(body)

    async def settings_main(self, request: web.Request) -> web.Response:
        self.user(request, Permission.ADMIN)
        s = self.fake.settings
        body: dict[str, Any] = {
            "apiKey": s.api_key,
            "applicationTitle": s.application_title,
            "applicationUrl": s.application_url,
            "cacheImages": False,
            "defaultPermissions": self.store.default_permissions,
            "defaultQuotas": {"movie": {}, "tv": {}},
            "hideAvailable": False,
            "localLogin": True,
            "newPlexLogin": True,
            "region": "",
            "originalLanguage": "",
            "partialRequestsEnabled": s.partial_requests_enabled,
            "locale": "en",
        }
        if self.flavour == "overseerr":
            body["csrfProtection"] = s.csrf_protection
            body["trustProxy"] = False
        else:
            # Jellyseerr moved csrfProtection and trustProxy to /settings/network.
            body["mediaServerType"] = 1
            body["enableSpecialEpisodes"] = False
        return json_response(body)

    async def settings_network(self, request: web.Request) -> web.Response:
        self.user(request, Permission.ADMIN)
        return json_response(
            {"csrfProtection": self.fake.settings.csrf_protection, "forceIpv4First": False, "trustProxy": False}
        )

    async def auth_me(self, request: web.Request) -> web.Response:
        user = self.user(request)
        return json_response(self.user_out(user, with_settings=True))

    # ------------------------------------------------------------ catalogue

    async def search(self, request: web.Request) -> web.Response:
        self.user(request)
        found = self.store.search(request.query.get("query", ""))
        page = max(1, _number(request, "page", 1))
        start = (page - 1) * SEARCH_PAGE_SIZE
        chunk = found[start : start + SEARCH_PAGE_SIZE]
        return json_response(
            {
                "page": page,
                "totalPages": max(1, math.ceil(len(found) / SEARCH_PAGE_SIZE)),
                "totalResults": len(found),
                "results": [self.result_json(item) for item in chunk],
            }
        )

    async def movie(self, request: web.Request) -> web.Response:
        self.user(request)
        tmdb_id = int(float(request.match_info["movieId"]))
        title = self.store.catalog.get(("movie", tmdb_id))
        if title is None:
            raise OverseerrError("Unable to retrieve movie.")
        return json_response(movie_details(title, self.media_info("movie", tmdb_id, with_requests=True)))

    async def tv(self, request: web.Request) -> web.Response:
        self.user(request)
        tmdb_id = int(float(request.match_info["tvId"]))
        title = self.store.catalog.get(("tv", tmdb_id))
        if title is None:
            raise OverseerrError("Unable to retrieve series.")
        return json_response(tv_details(title, self.media_info("tv", tmdb_id, with_requests=True)))

    # ------------------------------------------------------------- requests

    async def list_requests(self, request: web.Request) -> web.Response:
        user = self.user(request)
        page_size = _number(request, "take", 10)
        skip = _number(request, "skip", 0)
        direction: Literal["asc", "desc"] = "desc"
        if self.flavour != "overseerr" and request.query.get("sortDirection") == "asc":
            direction = "asc"
        requested_by = _number(request, "requestedBy", 0) or None
        found = self.store.list_requests(
            user,
            filter_=request.query.get("filter"),
            sort=request.query.get("sort"),
            direction=direction,
            requested_by=requested_by,
            media_type=request.query.get("mediaType") if self.flavour != "overseerr" else None,
        )
        window = found[skip : skip + page_size]
        return json_response(
            {"pageInfo": _page_info(len(found), page_size, skip), "results": [self.request_out(r) for r in window]}
        )

    async def create_request(self, request: web.Request) -> web.Response:
        user: User | None = request.get(USER_KEY)
        if user is None:
            raise EndpointForbidden()
        body = await _json_body(request)
        created = self.store.request_media(body, user)
        return json_response(self.request_out(created), status=201)

    async def request_count(self, request: web.Request) -> web.Response:
        self.user(request)
        rs = list(self.store.requests.values())

        def available(r: MediaRequest) -> bool:
            return bool(r.media.get_status(r.is4k) == MediaStatus.AVAILABLE)

        return json_response(
            {
                "total": len(rs),
                "movie": sum(r.type == "movie" for r in rs),
                "tv": sum(r.type == "tv" for r in rs),
                "pending": sum(r.status == MediaRequestStatus.PENDING for r in rs),
                "approved": sum(r.status == MediaRequestStatus.APPROVED for r in rs),
                "declined": sum(r.status == MediaRequestStatus.DECLINED for r in rs),
                "processing": sum(r.status == MediaRequestStatus.APPROVED and not available(r) for r in rs),
                "available": sum(
                    r.status in (MediaRequestStatus.APPROVED, MediaRequestStatus.COMPLETED) and available(r) for r in rs
                ),
            }
        )

    def _request_by_path(self, request: web.Request) -> MediaRequest:
        try:
            request_id = int(request.match_info["requestId"])
        except ValueError:
            raise NotFoundError("Request not found.") from None
        return self.store.get_request(request_id)

    async def get_request(self, request: web.Request) -> web.Response:
        user = self.user(request)
        found = self._request_by_path(request)
        if found.requested_by.id != user.id and not user.has_permission(
            [Permission.MANAGE_REQUESTS, Permission.REQUEST_VIEW], "or"
        ):
            raise RequestPermissionError("You do not have permission to view this request.")
        return json_response(self.request_out(found))

    async def delete_request(self, request: web.Request) -> web.Response:
        user = self.user(request)
        found = self._request_by_path(request)
        # Overseerr's condition, verbatim: anyone may delete a request that is still pending.
        if (
            not user.has_permission(Permission.MANAGE_REQUESTS)
            and found.requested_by.id != user.id
            and found.status != MediaRequestStatus.PENDING
        ):
            raise OverseerrError("You do not have permission to delete this request.", status=401)
        self.store.delete_request(found)
        return web.Response(status=204)

    async def set_request_status(self, request: web.Request) -> web.Response:
        user = self.user(request, Permission.MANAGE_REQUESTS)
        found = self._request_by_path(request)
        new = {
            "pending": MediaRequestStatus.PENDING,
            "approve": MediaRequestStatus.APPROVED,
            "decline": MediaRequestStatus.DECLINED,
        }.get(request.match_info["status"])
        if new is None:
            raise NotFoundError("Request not found.")
        self.store.set_request_status(found, new, user)
        return json_response(self.request_out(found))

    async def list_media(self, request: web.Request) -> web.Response:
        self.user(request)
        page_size = _number(request, "take", 20)
        skip = _number(request, "skip", 0)
        wanted = {
            "available": {MediaStatus.AVAILABLE},
            "partial": {MediaStatus.PARTIALLY_AVAILABLE},
            "allavailable": {MediaStatus.AVAILABLE, MediaStatus.PARTIALLY_AVAILABLE},
            "processing": {MediaStatus.PROCESSING},
            "pending": {MediaStatus.PENDING},
        }.get(request.query.get("filter") or "all")
        media = [m for m in self.store.media.values() if wanted is None or m.status in wanted]
        sort = request.query.get("sort")
        if sort == "modified":
            media.sort(key=lambda m: (m.updated_at, m.id), reverse=True)
        elif sort == "mediaAdded":
            media.sort(key=lambda m: (m.media_added_at is not None, m.media_added_at or m.created_at), reverse=True)
        else:
            media.sort(key=lambda m: m.id, reverse=True)
        window = media[skip : skip + page_size]
        return json_response(
            {"pageInfo": _page_info(len(media), page_size, skip), "results": [media_json(m) for m in window]}
        )

    # ---------------------------------------------------------------- users

    async def list_users(self, request: web.Request) -> web.Response:
        acting = self.user(request)
        page_size = _number(request, "take", 10)
        skip = _number(request, "skip", 0)
        users = list(self.store.users.values())
        q = request.query.get("q")
        if q and self.flavour != "overseerr":
            needle = q.lower()
            users = [
                u for u in users if any(needle in (v or "").lower() for v in (u.username, u.plex_username, u.email))
            ]
        sort = request.query.get("sort")
        if sort == "updated":
            users.sort(key=lambda u: (u.updated_at, u.id), reverse=True)
        elif sort == "displayname":
            users.sort(key=lambda u: u.display_name.lower())
        elif sort == "requests":
            users.sort(key=lambda u: self.store.request_count(u), reverse=True)
        else:
            users.sort(key=lambda u: u.id)
        window = users[skip : skip + page_size]
        show = acting.has_permission(Permission.MANAGE_USERS)
        return json_response(
            {
                "pageInfo": _page_info(len(users), page_size, skip),
                "results": [self.user_out(u, show_filtered=show) for u in window],
            }
        )

    def _user_by_path(self, request: web.Request) -> User:
        try:
            return self.store.user(int(float(request.match_info["userId"])))
        except ValueError:
            raise NotFoundError("User not found.") from None

    async def get_user(self, request: web.Request) -> web.Response:
        acting = self.user(request)
        found = self._user_by_path(request)
        return json_response(
            self.user_out(found, show_filtered=acting.has_permission(Permission.MANAGE_USERS), with_settings=True)
        )

    async def user_requests(self, request: web.Request) -> web.Response:
        acting = self.user(request)
        found = self._user_by_path(request)
        if found.id != acting.id and not acting.has_permission(
            [Permission.MANAGE_REQUESTS, Permission.REQUEST_VIEW], "or"
        ):
            raise RequestPermissionError("You do not have permission to view this user's requests.")
        page_size = _number(request, "take", 20)
        skip = _number(request, "skip", 0)
        mine = sorted((r for r in self.store.requests.values() if r.requested_by.id == found.id), key=lambda r: -r.id)
        return json_response(
            {
                "pageInfo": _page_info(len(mine), page_size, skip),
                "results": [self.request_out(r) for r in mine[skip : skip + page_size]],
            }
        )

    async def import_from_plex(self, request: web.Request) -> web.Response:
        self.user(request, Permission.MANAGE_USERS)
        body = await _json_body(request)
        created = self.store.import_from_plex(body.get("plexIds"))
        return json_response([self.user_out(u, show_filtered=False) for u in created], status=201)

    async def user_quota(self, request: web.Request) -> web.Response:
        acting = self.user(request)
        raw = request.match_info["userId"]
        if int(float(raw)) != acting.id and not acting.has_permission(
            [Permission.MANAGE_USERS, Permission.MANAGE_REQUESTS], "and"
        ):
            raise RequestPermissionError("You do not have permission to view this user's request limits.")
        user = self.store.users.get(int(float(raw)))
        if user is None:
            raise NotFoundError(f'Could not find any entity of type "User" matching: {{"where": {{"id": {raw}}}}}')
        return json_response(self.store.quota(user))

    def _own_profile_or_admin(self, request: web.Request) -> User:
        acting = self.user(request)
        if not acting.has_permission(Permission.MANAGE_USERS) and acting.id != int(float(request.match_info["userId"])):
            raise RequestPermissionError("You do not have permission to view this user's settings.")
        return acting

    async def get_notification_settings(self, request: web.Request) -> web.Response:
        self._own_profile_or_admin(request)
        user = self._user_by_path(request)
        s = user.settings
        body: dict[str, Any] = {
            "emailEnabled": False,
            "discordEnabled": self.fake.settings.discord_agent_enabled,
            "discordEnabledTypes": self.fake.settings.discord_agent_types
            if self.fake.settings.discord_agent_enabled
            else 0,
            "telegramEnabled": False,
            "webPushEnabled": False,
            "notificationTypes": dict(s.notification_types) if s else {},
        }
        if s is not None:
            # `user.settings?.x`: these keys are absent, not null, for a user without settings.
            body.update(
                {
                    "pgpKey": s.pgp_key,
                    "pushbulletAccessToken": s.pushbullet_access_token,
                    "pushoverApplicationToken": s.pushover_application_token,
                    "pushoverUserKey": s.pushover_user_key,
                    "telegramChatId": s.telegram_chat_id,
                    "telegramSendSilently": s.telegram_send_silently,
                }
            )
            if self.flavour == "seerr":
                body["discordIds"] = list(s.discord_ids)
            else:
                body["discordId"] = s.discord_id
            if self.flavour != "overseerr":
                body["pushoverSound"] = s.pushover_sound
        return json_response(body)

    async def post_notification_settings(self, request: web.Request) -> web.Response:
        acting = self._own_profile_or_admin(request)
        user = self._user_by_path(request)
        if user.id == 1 and acting.id != 1:
            raise RequestPermissionError("You do not have permission to modify this user's settings.")
        body = await _json_body(request)
        had_settings = user.settings is not None
        s = self.store.ensure_settings(user)
        # Overseerr assigns every field from the body: whatever the client leaves out is cleared.
        s.pgp_key = body.get("pgpKey")
        s.pushbullet_access_token = body.get("pushbulletAccessToken")
        s.pushover_application_token = body.get("pushoverApplicationToken")
        s.pushover_user_key = body.get("pushoverUserKey")
        s.telegram_chat_id = body.get("telegramChatId")
        s.telegram_send_silently = body.get("telegramSendSilently")
        if self.flavour == "seerr":
            ids = body.get("discordIds")
            s.discord_ids = [str(i) for i in ids] if isinstance(ids, list) else []
            s.discord_id = s.discord_ids[0] if s.discord_ids else None
        else:
            s.discord_id = body.get("discordId")
            s.discord_ids = [s.discord_id] if s.discord_id else []
        if self.flavour != "overseerr":
            s.pushover_sound = body.get("pushoverSound")
        types = body.get("notificationTypes")
        if had_settings:
            s.notification_types = {**s.notification_types, **(types or {})}
        else:
            s.notification_types = dict(types or {})
        out: dict[str, Any] = {
            "pgpKey": s.pgp_key,
            "pushbulletAccessToken": s.pushbullet_access_token,
            "pushoverApplicationToken": s.pushover_application_token,
            "pushoverUserKey": s.pushover_user_key,
            "telegramChatId": s.telegram_chat_id,
            "telegramSendSilently": s.telegram_send_silently,
            "notificationTypes": s.notification_types,
        }
        if self.flavour == "seerr":
            out["discordIds"] = s.discord_ids
        else:
            out["discordId"] = s.discord_id
        # Values the body did not carry are `undefined` in Overseerr, so JSON leaves them out.
        out = {k: v for k, v in out.items() if v is not None or k in body}
        return json_response(out)
