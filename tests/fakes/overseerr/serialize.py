"""JSON shapes of Overseerr's responses, built from the fake's records.

Field names and nulls follow what Overseerr's entities serialise to (TypeORM
columns that are NULL come out as `null`, values that are `undefined` are left
out), not only what the OpenAPI spec lists: a client must cope with the real
thing. Where the two disagree, `contract.py` carries a narrow allow-list entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .constants import Flavour
from .models import (
    CatalogPerson,
    CatalogTitle,
    Media,
    MediaRequest,
    SeasonRequest,
    SeasonState,
    User,
    UserSettings,
)


def ts(value: datetime | None) -> str | None:
    """A JavaScript `Date.toJSON()` string: UTC with milliseconds and a `Z`."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def settings_json(settings: UserSettings, flavour: Flavour) -> dict[str, Any]:
    """The `UserSettings` entity as it appears nested in a user (`/auth/me`, `/user/{id}`)."""
    out: dict[str, Any] = {
        "id": settings.id,
        "locale": settings.locale,
        "region": None,
        "originalLanguage": None,
        "pgpKey": settings.pgp_key,
        "pushbulletAccessToken": settings.pushbullet_access_token,
        "pushoverApplicationToken": settings.pushover_application_token,
        "pushoverUserKey": settings.pushover_user_key,
        "pushoverSound": settings.pushover_sound,
        "telegramChatId": settings.telegram_chat_id,
        "telegramSendSilently": settings.telegram_send_silently,
        "watchlistSyncMovies": None,
        "watchlistSyncTv": None,
        "notificationTypes": dict(settings.notification_types),
    }
    if flavour == "seerr":
        out["discordIds"] = list(settings.discord_ids)
    else:
        out["discordId"] = settings.discord_id
    return out


def user_json(
    user: User,
    flavour: Flavour,
    *,
    show_filtered: bool = True,
    request_count: int | None = None,
    with_settings: bool = False,
) -> dict[str, Any]:
    """A `User` entity. `show_filtered=False` is `User.filter()`: no email, no plexId."""
    out: dict[str, Any] = {
        "permissions": user.permissions,
        "id": user.id,
        "email": user.email,
        "plexUsername": user.plex_username,
        "username": user.username,
        "recoveryLinkExpirationDate": None,
        "userType": int(user.user_type),
        "plexId": user.plex_id,
        "avatar": user.avatar,
        "movieQuotaLimit": user.movie_quota_limit,
        "movieQuotaDays": user.movie_quota_days,
        "tvQuotaLimit": user.tv_quota_limit,
        "tvQuotaDays": user.tv_quota_days,
        "createdAt": ts(user.created_at),
        "updatedAt": ts(user.updated_at),
        "displayName": user.display_name,
    }
    if request_count is not None:
        out["requestCount"] = request_count
    if with_settings:
        out["settings"] = settings_json(user.settings, flavour) if user.settings else None
    if not show_filtered:
        out.pop("email")
        out.pop("plexId")
    return out


def season_state_json(season: SeasonState) -> dict[str, Any]:
    return {
        "id": season.id,
        "seasonNumber": season.season_number,
        "status": int(season.status),
        "status4k": int(season.status4k),
        "createdAt": ts(season.created_at),
        "updatedAt": ts(season.updated_at),
    }


def media_json(media: Media, *, requests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A `Media` entity (`MediaInfo`); `requests` only where Overseerr loads that relation."""
    out: dict[str, Any] = {
        "downloadStatus": [],
        "downloadStatus4k": [],
        "id": media.id,
        "mediaType": media.media_type,
        "tmdbId": media.tmdb_id,
        "tvdbId": media.tvdb_id,
        "imdbId": media.imdb_id,
        "status": int(media.status),
        "status4k": int(media.status4k),
        "createdAt": ts(media.created_at),
        "updatedAt": ts(media.updated_at),
        "lastSeasonChange": ts(media.created_at),
        "mediaAddedAt": ts(media.media_added_at),
        "serviceId": None,
        "serviceId4k": None,
        "externalServiceId": None,
        "externalServiceId4k": None,
        "externalServiceSlug": None,
        "externalServiceSlug4k": None,
        "ratingKey": None,
        "ratingKey4k": None,
        "seasons": [season_state_json(s) for s in media.seasons],
    }
    if requests is not None:
        out["requests"] = requests
    return out


def season_request_json(season: SeasonRequest) -> dict[str, Any]:
    return {
        "id": season.id,
        "seasonNumber": season.season_number,
        "status": int(season.status),
        "createdAt": ts(season.created_at),
        "updatedAt": ts(season.updated_at),
    }


def request_json(request: MediaRequest, flavour: Flavour, *, include_media: bool = True) -> dict[str, Any]:
    """A `MediaRequest` with its media, seasons, requester and modifier, as `GET /request` returns it."""
    out: dict[str, Any] = {
        "id": request.id,
        "status": int(request.status),
        "createdAt": ts(request.created_at),
        "updatedAt": ts(request.updated_at),
        "type": request.type,
        "is4k": request.is4k,
        "serverId": request.server_id,
        "profileId": request.profile_id,
        "rootFolder": request.root_folder,
        "languageProfileId": request.language_profile_id,
        "tags": request.tags,
        "isAutoRequest": request.is_auto_request,
        "requestedBy": user_json(request.requested_by, flavour),
        "modifiedBy": user_json(request.modified_by, flavour) if request.modified_by else None,
        "seasons": [season_request_json(s) for s in request.seasons],
        "seasonCount": len(request.seasons),
    }
    if include_media:
        out["media"] = media_json(request.media)
    return out


def movie_result(title: CatalogTitle, media: Media | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": title.tmdb_id,
        "mediaType": "movie",
        "adult": False,
        "genreIds": list(title.genre_ids),
        "originalLanguage": title.original_language,
        "originalTitle": title.title,
        "overview": title.overview,
        "popularity": title.popularity,
        "releaseDate": title.date or "",
        "title": title.title,
        "video": False,
        "voteAverage": title.vote_average,
        "voteCount": title.vote_count,
        "backdropPath": title.backdrop_path,
        "posterPath": title.poster_path,
    }
    if media is not None:
        out["mediaInfo"] = media_json(media)
    return out


def tv_result(title: CatalogTitle, media: Media | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": title.tmdb_id,
        "mediaType": "tv",
        "firstAirDate": title.date or "",
        "genreIds": list(title.genre_ids),
        "name": title.title,
        "originCountry": ["US"],
        "originalLanguage": title.original_language,
        "originalName": title.title,
        "overview": title.overview,
        "popularity": title.popularity,
        "voteAverage": title.vote_average,
        "voteCount": title.vote_count,
        "backdropPath": title.backdrop_path,
        "posterPath": title.poster_path,
    }
    if media is not None:
        out["mediaInfo"] = media_json(media)
    return out


def person_result(person: CatalogPerson, known_for: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": person.tmdb_id,
        "name": person.name,
        "popularity": 1.0,
        "profilePath": person.profile_path,
        "adult": False,
        "mediaType": "person",
        "knownFor": known_for,
    }


def movie_details(title: CatalogTitle, media_info: dict[str, Any] | None) -> dict[str, Any]:
    """`mapMovieDetails` (`server/models/Movie.ts`), with empty credits and extras."""
    out: dict[str, Any] = {
        "id": title.tmdb_id,
        "imdbId": title.imdb_id,
        "adult": False,
        "backdropPath": title.backdrop_path,
        "posterPath": title.poster_path,
        "budget": 0,
        "genres": [],
        "homepage": "",
        "relatedVideos": [],
        "originalLanguage": title.original_language,
        "originalTitle": title.title,
        "overview": title.overview,
        "popularity": title.popularity,
        "productionCompanies": [],
        "productionCountries": [],
        "releaseDate": title.date or "",
        "releases": {"results": []},
        "revenue": 0,
        "runtime": 120,
        "spokenLanguages": [],
        "status": "Released",
        "tagline": "",
        "title": title.title,
        "video": False,
        "voteAverage": title.vote_average,
        "voteCount": title.vote_count,
        "credits": {"cast": [], "crew": []},
        "externalIds": {"imdbId": title.imdb_id, "facebookId": None, "instagramId": None, "twitterId": None},
        "watchProviders": [],
        "keywords": [],
    }
    if media_info is not None:
        out["mediaInfo"] = media_info
    return out


def tv_details(title: CatalogTitle, media_info: dict[str, Any] | None) -> dict[str, Any]:
    """`mapTvDetails` (`server/models/Tv.ts`): the TMDB seasons list, specials included."""
    seasons = [
        {
            "airDate": s.air_date,
            "episodeCount": s.episode_count,
            "id": title.tmdb_id * 100 + s.season_number,
            "name": s.name,
            "overview": "",
            "posterPath": title.poster_path,
            "seasonNumber": s.season_number,
        }
        for s in title.seasons
    ]
    out: dict[str, Any] = {
        "id": title.tmdb_id,
        "backdropPath": title.backdrop_path,
        "posterPath": title.poster_path,
        "contentRatings": {"results": []},
        "createdBy": [],
        "episodeRunTime": [45],
        "firstAirDate": title.date or "",
        "genres": [],
        "homepage": "",
        "inProduction": False,
        "languages": [title.original_language],
        "lastAirDate": title.seasons[-1].air_date if title.seasons and title.seasons[-1].air_date else title.date or "",
        "name": title.title,
        "networks": [],
        "numberOfEpisodes": sum(s.episode_count for s in title.seasons if s.season_number != 0),
        "numberOfSeasons": len(title.requestable_seasons),
        "originCountry": ["US"],
        "originalLanguage": title.original_language,
        "originalName": title.title,
        "overview": title.overview,
        "popularity": title.popularity,
        "productionCompanies": [],
        "productionCountries": [],
        "spokenLanguages": [],
        "seasons": seasons,
        "status": "Returning Series",
        "tagline": "",
        "type": "Scripted",
        "voteAverage": title.vote_average,
        "voteCount": title.vote_count,
        "credits": {"cast": [], "crew": []},
        "externalIds": {"imdbId": title.imdb_id, "tvdbId": title.tvdb_id},
        "keywords": [],
        "watchProviders": [],
    }
    if media_info is not None:
        out["mediaInfo"] = media_info
    return out
