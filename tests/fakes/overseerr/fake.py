"""`FakeOverseerr`: a local Overseerr/Jellyseerr/Seerr with a test API.

The HTTP side answers as the real server does (see `routes.py` and `app.py`);
the methods here let a test arrange the world (users, catalogue, availability),
act as Overseerr's web UI or its admin (requests made in the browser,
approvals, failures), flip server settings (CSRF protection) and observe the
outcome (requests, webhooks, contract errors).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..base import FakeServer
from .app import install
from .constants import ALL_MEDIA_NOTIFICATIONS, FLAVOURS, Flavour, MediaRequestStatus, Notification, Permission
from .contract import ContractChecker, ContractError, load_spec
from .models import (
    CatalogPerson,
    CatalogSeason,
    CatalogTitle,
    Media,
    MediaRequest,
    MediaType,
    NotificationEvent,
    PlexAccount,
    User,
)
from .routes import API, OverseerrRoutes
from .store import Store
from .webhook import WebhookDelivery, WebhookSender


def generate_api_key() -> str:
    """Overseerr's format: base64 of milliseconds and a UUID (it can contain `+`, `/`, `=`)."""
    raw = f"{int(time.time() * 1000)}{uuid.uuid4()}"
    return base64.b64encode(raw.encode()).decode()


@dataclass
class ServerSettings:
    """The few server settings that change what a client sees."""

    api_key: str
    application_title: str = "Overseerr"
    application_url: str = ""
    csrf_protection: bool = False
    #: Overseerr sets `secure: !dev` on the CSRF cookies; production is the default.
    csrf_secure_cookies: bool = True
    partial_requests_enabled: bool = True
    movie_4k_enabled: bool = False
    series_4k_enabled: bool = False
    #: The Discord agent's `enabled && enableMentions`, reported in user notification settings.
    discord_agent_enabled: bool = False
    discord_agent_types: int = 0


class FakeOverseerr(FakeServer):
    """Overseerr on 127.0.0.1. User 1 is the admin (owner) account, as in a real install."""

    def __init__(
        self,
        flavour: Flavour = "overseerr",
        *,
        api_key: str | None = None,
        admin_username: str = "admin",
        admin_plex_id: int = 1000001,
        admin_email: str = "admin@example.com",
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {flavour!r}; expected one of {FLAVOURS}")
        self.flavour: Flavour = flavour
        self.settings = ServerSettings(
            api_key=api_key or generate_api_key(),
            application_title={"overseerr": "Overseerr", "jellyseerr": "Jellyseerr", "seerr": "Seerr"}[flavour],
        )
        self.store = Store()
        self.contract = ContractChecker(flavour)
        self.webhook = WebhookSender(flavour)
        #: Every notification Overseerr raised, whether or not the webhook agent sent it.
        self.notifications: list[NotificationEvent] = []
        self.store.notify = self._on_notification
        self.admin: User = self.store.add_user(
            admin_username, plex_id=admin_plex_id, email=admin_email, permissions=Permission.ADMIN
        )
        super().__init__()

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        OverseerrRoutes(self).register(router)
        install(self, self.app)

    # ----------------------------------------------------------- lifecycle

    @property
    def api_key(self) -> str:
        return self.settings.api_key

    @property
    def api_url(self) -> str:
        """What a client is configured with, plus `/api/v1`."""
        return f"{self.url}{API}"

    def headers(self, user: User | int | None = None) -> dict[str, str]:
        """The headers a client sends to act as `user` (the admin when None)."""
        out = {"X-Api-Key": self.api_key}
        if user is not None:
            out["X-Api-User"] = str(user.id if isinstance(user, User) else user)
        return out

    async def start(self, port: int = 0) -> None:
        # Parse the spec off the event loop once, before the first request needs it.
        await asyncio.to_thread(load_spec, self.flavour)
        await super().start(port)

    async def stop(self) -> None:
        """Stop serving and stop the webhook agent (closing its HTTP session)."""
        await super().stop()
        await self.webhook.close()

    async def go_down(self) -> None:
        """Stop listening but keep state and the webhook agent, so `come_up` resumes."""
        await FakeServer.stop(self)

    # ------------------------------------------------------------- arrange

    def add_user(
        self,
        username: str,
        plex_id: int | None = None,
        *,
        email: str | None = None,
        permissions: int = Permission.REQUEST,
        movie_quota: tuple[int | None, int | None] | None = None,
        tv_quota: tuple[int | None, int | None] | None = None,
        discord_id: str | None = None,
        discord_ids: Iterable[str] | None = None,
        avatar: str | None = None,
    ) -> User:
        """Add an account. With `plex_id` it is a Plex user (`plexUsername=username`,
        `username=None`), otherwise a local one. Quotas are `(limit, days)`."""
        return self.store.add_user(
            username,
            plex_id=plex_id,
            email=email,
            permissions=permissions,
            avatar=avatar,
            movie_quota=movie_quota,
            tv_quota=tv_quota,
            discord_id=discord_id,
            discord_ids=discord_ids,
        )

    def add_plex_account(
        self,
        plex_id: int | str,
        username: str,
        email: str | None = None,
        *,
        thumb: str | None = None,
        has_access: bool = True,
    ) -> PlexAccount:
        """A Plex friend of the owner, importable with `POST /user/import-from-plex`."""
        account = PlexAccount(
            plex_id=str(plex_id),
            username=username,
            email=email or f"{username.lower()}@example.com",
            thumb=thumb or f"https://plex.tv/users/{int(plex_id):016x}/avatar",
            has_access=has_access,
        )
        self.store.plex_accounts[account.plex_id] = account
        return account

    def add_movie(
        self,
        tmdb_id: int,
        title: str,
        year: int | None = None,
        *,
        release_date: str | None = None,
        overview: str = "",
        poster_path: str | None = None,
        backdrop_path: str | None = None,
        imdb_id: str | None = None,
        popularity: float = 10.0,
        vote_average: float = 7.0,
    ) -> CatalogTitle:
        title_ = CatalogTitle(
            media_type="movie",
            tmdb_id=tmdb_id,
            title=title,
            date=release_date or (f"{year}-06-01" if year else None),
            overview=overview,
            poster_path=poster_path,
            backdrop_path=backdrop_path,
            imdb_id=imdb_id or f"tt{tmdb_id:07d}",
            popularity=popularity,
            vote_average=vote_average,
        )
        self.store.catalog[("movie", tmdb_id)] = title_
        return title_

    def add_tv(
        self,
        tmdb_id: int,
        name: str,
        seasons: Sequence[tuple[int, int]] = ((1, 10),),
        *,
        year: int | None = None,
        first_air_date: str | None = None,
        tvdb_id: int | None = None,
        overview: str = "",
        poster_path: str | None = None,
        backdrop_path: str | None = None,
        popularity: float = 10.0,
    ) -> CatalogTitle:
        """A show; `seasons` are `(season_number, episode_count)`, season 0 being specials."""
        date = first_air_date or (f"{year}-01-15" if year else None)
        title_ = CatalogTitle(
            media_type="tv",
            tmdb_id=tmdb_id,
            title=name,
            date=date,
            overview=overview,
            poster_path=poster_path,
            backdrop_path=backdrop_path,
            tvdb_id=tvdb_id if tvdb_id is not None else tmdb_id + 900000,
            popularity=popularity,
            seasons=[
                CatalogSeason(number, episodes, "Specials" if number == 0 else f"Season {number}", date)
                for number, episodes in seasons
            ],
        )
        self.store.catalog[("tv", tmdb_id)] = title_
        return title_

    def add_person(self, tmdb_id: int, name: str, known_for: Iterable[tuple[MediaType, int]] = ()) -> CatalogPerson:
        person = CatalogPerson(tmdb_id=tmdb_id, name=name, known_for=list(known_for))
        self.store.people[tmdb_id] = person
        return person

    # ----------------------------------------------------------------- act

    def _title_key(self, media: CatalogTitle | Media | tuple[MediaType, int]) -> tuple[MediaType, int]:
        if isinstance(media, tuple):
            return media
        return (media.media_type, media.tmdb_id)

    def set_available(
        self,
        media: CatalogTitle | Media | tuple[MediaType, int],
        seasons: Iterable[int] | None = None,
        is4k: bool = False,
    ) -> Media:
        """The title (or these seasons) turned up in Plex. Sends MEDIA_AVAILABLE where due."""
        media_type, tmdb_id = self._title_key(media)
        return self.store.set_available(media_type, tmdb_id, seasons=seasons, is4k=is4k)

    def request(self, request_id: int | MediaRequest) -> MediaRequest:
        return self.store.get_request(request_id.id if isinstance(request_id, MediaRequest) else request_id)

    def approve(self, request_id: int | MediaRequest) -> MediaRequest:
        """The admin clicks Approve in the web UI."""
        found = self.request(request_id)
        self.store.set_request_status(found, MediaRequestStatus.APPROVED, self.admin)
        return found

    def decline(self, request_id: int | MediaRequest) -> MediaRequest:
        found = self.request(request_id)
        self.store.set_request_status(found, MediaRequestStatus.DECLINED, self.admin)
        return found

    def fail(self, request_id: int | MediaRequest) -> MediaRequest:
        """Radarr/Sonarr refused the approved request."""
        found = self.request(request_id)
        self.store.fail_request(found)
        return found

    def create_request_as(
        self,
        user: User | int,
        media_type: MediaType,
        tmdb_id: int,
        seasons: Sequence[int] | str | None = None,
        *,
        is4k: bool = False,
    ) -> MediaRequest:
        """`user` requests a title in the web UI: same rules and notifications as the API.

        Raises the `OverseerrError` subclass the API would answer with (409, 403, 202...).
        """
        acting = user if isinstance(user, User) else self.store.user(user)
        body: dict[str, Any] = {"mediaType": media_type, "mediaId": tmdb_id, "is4k": is4k}
        if media_type == "tv":
            body["seasons"] = "all" if seasons is None else (seasons if isinstance(seasons, str) else list(seasons))
        return self.store.request_media(body, acting)

    def set_csrf(self, enabled: bool = True, *, secure_cookies: bool = True) -> None:
        """Toggle "Enable CSRF Protection" (Overseerr applies it after a restart; here at once)."""
        self.settings.csrf_protection = enabled
        self.settings.csrf_secure_cookies = secure_cookies

    def quota(self, user: User | int) -> dict[str, dict[str, Any]]:
        return self.store.quota(user if isinstance(user, User) else self.store.user(user))

    # ------------------------------------------------------------- webhooks

    def configure_webhook(
        self,
        url: str,
        authorization: str | None = None,
        *,
        types: int = ALL_MEDIA_NOTIFICATIONS,
        template: dict[str, Any] | None = None,
    ) -> None:
        """Enable the webhook agent: its URL, "Authorization Header", types and JSON payload
        (the flavour's default template unless given)."""
        self.webhook.configure(url, authorization, types=types, template=template)

    def drop_next_webhooks(self, count: int = 1) -> None:
        """Lose the next `count` webhooks (recorded with `dropped=True`, never sent)."""
        self.webhook.drop_next += count

    @property
    def webhooks(self) -> list[WebhookDelivery]:
        return self.webhook.deliveries

    async def webhooks_delivered(self, timeout: float = 10.0) -> list[WebhookDelivery]:
        """Wait until every queued webhook was posted; return all deliveries so far."""
        await self.webhook.wait_idle(timeout)
        return list(self.webhook.deliveries)

    def send_test_notification(self) -> None:
        """The "Test" button of the webhook agent's settings page."""
        self._on_notification(
            NotificationEvent(
                kind=Notification.TEST_NOTIFICATION,
                subject="Test Notification",
                message="Check check, 1, 2, 3. Are we coming in clear?",
                notify_user=self.admin,
            )
        )

    def _on_notification(self, event: NotificationEvent) -> None:
        self.notifications.append(event)
        self.webhook.emit(event)

    # -------------------------------------------------------------- inspect

    @property
    def users(self) -> list[User]:
        return list(self.store.users.values())

    @property
    def media_requests(self) -> list[MediaRequest]:
        """Overseerr's requests (`requests` is the base class's HTTP request log)."""
        return list(self.store.requests.values())

    def media(self, media_type: MediaType, tmdb_id: int) -> Media | None:
        return self.store.find_media(media_type, tmdb_id)

    @property
    def contract_errors(self) -> list[ContractError]:
        return self.contract.errors

    def take_contract_errors(self) -> list[ContractError]:
        """Return and forget the recorded errors (for tests that provoke them on purpose)."""
        taken = list(self.contract.errors)
        self.contract.errors.clear()
        return taken
