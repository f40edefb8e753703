"""The fake's records: users, catalogue titles, media rows and requests.

They mirror Overseerr's TypeORM entities (`server/entity/*.ts`) closely enough
that the JSON built from them (see `serialize.py`) has the same fields, and the
request rules in `store.py` can be written the way Overseerr writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .constants import MediaRequestStatus, MediaStatus, Notification, UserType, has_permission

MediaType = Literal["movie", "tv"]


@dataclass
class UserSettings:
    """Per-user settings; only the notification fields a bot touches are kept.

    `discord_ids` is Seerr 3.3's list that replaced the single `discord_id`.
    """

    id: int
    discord_id: str | None = None
    discord_ids: list[str] = field(default_factory=list)
    telegram_chat_id: str | None = None
    telegram_send_silently: bool | None = None
    pgp_key: str | None = None
    pushbullet_access_token: str | None = None
    pushover_application_token: str | None = None
    pushover_user_key: str | None = None
    pushover_sound: str | None = None
    notification_types: dict[str, int] = field(default_factory=dict)
    locale: str = ""


@dataclass
class User:
    """An Overseerr account. Plex users have `plex_username` and usually no `username`."""

    id: int
    email: str
    permissions: int
    avatar: str
    created_at: datetime
    updated_at: datetime
    user_type: UserType = UserType.PLEX
    username: str | None = None
    plex_username: str | None = None
    plex_id: int | None = None
    movie_quota_limit: int | None = None
    movie_quota_days: int | None = None
    tv_quota_limit: int | None = None
    tv_quota_days: int | None = None
    settings: UserSettings | None = None

    @property
    def display_name(self) -> str:
        """Overseerr's `displayName`: local username, else Plex username, else email."""
        return self.username or self.plex_username or self.email

    def has_permission(self, wanted: int | list[int], check: Literal["and", "or"] = "and") -> bool:
        return has_permission(wanted, self.permissions, check)


@dataclass
class PlexAccount:
    """A Plex account the server owner shares with: what `import-from-plex` can import."""

    plex_id: str
    username: str
    email: str
    thumb: str
    has_access: bool = True


@dataclass
class CatalogSeason:
    season_number: int
    episode_count: int
    name: str
    air_date: str | None = None


@dataclass
class CatalogTitle:
    """What TMDB would return for one movie or show."""

    media_type: MediaType
    tmdb_id: int
    title: str
    date: str | None
    overview: str = ""
    poster_path: str | None = None
    backdrop_path: str | None = None
    vote_average: float = 7.0
    vote_count: int = 1000
    popularity: float = 10.0
    original_language: str = "en"
    genre_ids: list[int] = field(default_factory=list)
    imdb_id: str | None = None
    tvdb_id: int | None = None
    seasons: list[CatalogSeason] = field(default_factory=list)

    @property
    def requestable_seasons(self) -> list[int]:
        """Season numbers that "all" stands for: every season except specials (0)."""
        return [s.season_number for s in self.seasons if s.season_number != 0]


@dataclass
class CatalogPerson:
    tmdb_id: int
    name: str
    profile_path: str | None = None
    known_for: list[tuple[MediaType, int]] = field(default_factory=list)


@dataclass
class SeasonState:
    """Availability of one season of a show (Overseerr's `Season` entity)."""

    id: int
    season_number: int
    created_at: datetime
    updated_at: datetime
    status: MediaStatus = MediaStatus.UNKNOWN
    status4k: MediaStatus = MediaStatus.UNKNOWN

    def get(self, is4k: bool) -> MediaStatus:
        return self.status4k if is4k else self.status


@dataclass
class Media:
    """Overseerr's record of a title it knows about (`MediaInfo` in the API)."""

    id: int
    media_type: MediaType
    tmdb_id: int
    created_at: datetime
    updated_at: datetime
    tvdb_id: int | None = None
    imdb_id: str | None = None
    status: MediaStatus = MediaStatus.UNKNOWN
    status4k: MediaStatus = MediaStatus.UNKNOWN
    seasons: list[SeasonState] = field(default_factory=list)
    media_added_at: datetime | None = None

    def get_status(self, is4k: bool) -> MediaStatus:
        return self.status4k if is4k else self.status

    def set_status(self, is4k: bool, value: MediaStatus) -> None:
        if is4k:
            self.status4k = value
        else:
            self.status = value


@dataclass
class SeasonRequest:
    id: int
    season_number: int
    status: MediaRequestStatus
    created_at: datetime
    updated_at: datetime


@dataclass
class MediaRequest:
    id: int
    status: MediaRequestStatus
    media: Media
    requested_by: User
    type: MediaType
    is4k: bool
    created_at: datetime
    updated_at: datetime
    modified_by: User | None = None
    seasons: list[SeasonRequest] = field(default_factory=list)
    server_id: int | None = None
    profile_id: int | None = None
    root_folder: str | None = None
    language_profile_id: int | None = None
    tags: list[int] | None = None
    is_auto_request: bool = False


@dataclass
class NotificationEvent:
    """What Overseerr hands its notification agents (`NotificationPayload`)."""

    kind: Notification
    subject: str
    event: str | None = None
    message: str | None = None
    image: str | None = None
    media: Media | None = None
    request: MediaRequest | None = None
    notify_user: User | None = None
    extra: list[dict[str, str]] = field(default_factory=list)
    notify_system: bool = True
