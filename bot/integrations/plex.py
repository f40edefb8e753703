"""plex.tv (PIN sign-in, accounts, resources) and the Plex Media Server.

Both speak JSON when asked with `Accept: application/json`. plex.tv wants the
X-Plex-* client headers on every call; a user's token travels only in the
X-Plex-Token header, never in a URL that could end up in a log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import AppError, ErrorCode
from bot.integrations.breaker import CircuitBreaker
from bot.integrations.http import ServiceClient

PRODUCT = "MediaNest"
VERSION = "0.1.0"


class PlexTokenRejected(Exception):
    """plex.tv answered 401 to a user's token: it was revoked or expired."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class PlexPin(_Model):
    id: int
    code: str
    expires_in: int = Field(alias="expiresIn")
    expires_at: datetime | None = Field(default=None, alias="expiresAt")
    auth_token: str | None = Field(default=None, alias="authToken")


class PlexAccount(_Model):
    id: int
    uuid: str
    username: str
    email: str | None = None
    title: str | None = None


class PlexResource(_Model):
    name: str = ""
    client_identifier: str = Field(alias="clientIdentifier")
    provides: str = ""
    owned: bool = False


class PlexTvClient(ServiceClient):
    def __init__(self, *, base_url: str, client_id: str, timeout: float, breaker: CircuitBreaker) -> None:
        super().__init__(
            "plex.tv",
            base_url=base_url,
            timeout=timeout,
            breaker=breaker,
            headers={
                "Accept": "application/json",
                "X-Plex-Product": PRODUCT,
                "X-Plex-Version": VERSION,
                "X-Plex-Client-Identifier": client_id,
                "X-Plex-Device-Name": "MediaNest Discord bot",
                "X-Plex-Platform": "Discord",
            },
        )
        self.client_id = client_id

    async def create_pin(self) -> PlexPin:
        response = await self.request("POST", "/api/v2/pins", params={"strong": "true"})
        if response.status_code not in (200, 201):
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "plex.tv would not start a sign-in. Try again later.")
        return PlexPin.model_validate(self.json(response))

    async def get_pin(self, pin_id: int) -> PlexPin | None:
        """The PIN, or None once plex.tv has forgotten it (expired)."""
        response = await self.request("GET", f"/api/v2/pins/{pin_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "plex.tv could not check the sign-in.")
        return PlexPin.model_validate(self.json(response))

    async def account(self, token: str) -> PlexAccount:
        response = await self.request("GET", "/api/v2/user", headers={"X-Plex-Token": token})
        if response.status_code == 401:
            raise PlexTokenRejected
        if response.status_code != 200:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "plex.tv could not load the account.")
        return PlexAccount.model_validate(self.json(response))

    async def resources(self, token: str) -> list[PlexResource]:
        response = await self.request(
            "GET",
            "/api/v2/resources",
            params={"includeHttps": "1", "includeRelay": "1"},
            headers={"X-Plex-Token": token},
        )
        if response.status_code == 401:
            raise PlexTokenRejected
        if response.status_code != 200:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "plex.tv could not list the account's servers.")
        return [PlexResource.model_validate(item) for item in self.json(response)]

    def auth_url(self, app_url: str, code: str) -> str:
        """The sign-in page for a PIN (Plex reads the parameters from the URL fragment)."""
        params = urlencode(
            {"clientID": self.client_id, "code": code, "context[device][product]": PRODUCT},
            quote_via=quote,
        )
        return f"{app_url.rstrip('/')}/auth#?{params}"


class PlexServerClient(ServiceClient):
    """The configured Plex Media Server, always called with its admin token."""

    def __init__(self, *, base_url: str, token: str, timeout: float, breaker: CircuitBreaker) -> None:
        super().__init__(
            "Plex",
            base_url=base_url,
            timeout=timeout,
            breaker=breaker,
            headers={
                "Accept": "application/json",
                "X-Plex-Token": token,
                "X-Plex-Product": PRODUCT,
                "X-Plex-Version": VERSION,
            },
        )
        self._machine_id: str | None = None

    async def container(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.request("GET", path, params=params or None)
        if response.status_code == 401:
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR,
                "The Plex server refused the bot's token. An admin should check PLEX_SERVER_TOKEN.",
            )
        if response.status_code == 404:
            raise AppError(ErrorCode.RESOURCE_NOT_FOUND, "The Plex server does not know that item.")
        if response.status_code != 200:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, f"Plex answered {response.status_code}.")
        body = self.json(response)
        container = body.get("MediaContainer") if isinstance(body, dict) else None
        if not isinstance(container, dict):
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "Plex sent an answer we could not read.")
        return container

    async def machine_identifier(self) -> str:
        """The server's id, as plex.tv lists it among an account's resources (cached)."""
        if self._machine_id is None:
            identity = await self.container("/identity")
            self._machine_id = str(identity["machineIdentifier"])
        return self._machine_id


class PlexSection(_Model):
    key: str
    title: str
    type: str
    locations: list[str] = Field(default_factory=list)


class PlexItem(_Model):
    rating_key: str
    title: str
    files: list[str]


def _section(raw: dict[str, Any]) -> PlexSection:
    return PlexSection(
        key=str(raw["key"]),
        title=str(raw.get("title", "")),
        type=str(raw.get("type", "")),
        locations=[str(loc["path"]) for loc in raw.get("Location", []) if "path" in loc],
    )


def _item(raw: dict[str, Any]) -> PlexItem:
    files = [str(part["file"]) for media in raw.get("Media", []) for part in media.get("Part", []) if "file" in part]
    return PlexItem(rating_key=str(raw["ratingKey"]), title=str(raw.get("title", "")), files=files)


class PlexLibrary:
    """Library operations on the server: sections, partial scans, items by file, collections."""

    PAGE = 200

    def __init__(self, server: PlexServerClient) -> None:
        self.server = server

    async def sections(self) -> list[PlexSection]:
        container = await self.server.container("/library/sections")
        return [_section(d) for d in container.get("Directory", [])]

    async def find_section(self, ref: str | None, root_as_plex_sees_it: str) -> PlexSection:
        """The section by id or title, or else the one whose folder holds the download root."""
        sections = await self.sections()
        if ref:
            for section in sections:
                if ref in (section.key, section.title):
                    return section
            raise AppError(
                ErrorCode.RESOURCE_NOT_FOUND,
                f"The Plex library {ref!r} (PLEX_DOWNLOAD_SECTION) does not exist on the server.",
            )
        root = root_as_plex_sees_it.rstrip("/") + "/"
        for section in sections:
            if any(root.startswith(loc.rstrip("/") + "/") for loc in section.locations):
                return section
        raise AppError(
            ErrorCode.RESOURCE_NOT_FOUND,
            "No Plex library holds the download folder. An admin should add it to a library "
            "or set PLEX_DOWNLOAD_SECTION.",
        )

    async def scan(self, section_key: str, path: str) -> None:
        """Ask Plex to scan one folder (not the whole library)."""
        response = await self.server.request("GET", f"/library/sections/{section_key}/refresh", params={"path": path})
        if response.status_code != 200:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, f"Plex would not scan ({response.status_code}).")

    async def items(self, section_key: str) -> list[PlexItem]:
        found: list[PlexItem] = []
        start = 0
        while True:
            container = await self.server.container(
                f"/library/sections/{section_key}/all",
                type="1",
                **{"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(self.PAGE)},
            )
            page = [_item(m) for m in container.get("Metadata", [])]
            found.extend(page)
            total = int(container.get("totalSize", len(found)))
            start += len(page)
            if not page or start >= total:
                return found

    async def recent_items(self, section_key: str, count: int) -> list[PlexItem]:
        """The newest items first: where just-scanned downloads appear, without listing the whole library."""
        container = await self.server.container(
            f"/library/sections/{section_key}/all",
            type="1",
            sort="addedAt:desc",
            **{"X-Plex-Container-Start": "0", "X-Plex-Container-Size": str(count)},
        )
        return [_item(m) for m in container.get("Metadata", [])]

    async def collection_by_title(self, section_key: str, title: str) -> str | None:
        container = await self.server.container(f"/library/sections/{section_key}/collections")
        for raw in container.get("Metadata", []):
            if raw.get("title") == title:
                return str(raw["ratingKey"])
        return None

    async def collection_items(self, collection_key: str) -> list[str]:
        container = await self.server.container(f"/library/collections/{collection_key}/children")
        return [str(m["ratingKey"]) for m in container.get("Metadata", [])]

    def _uri(self, machine_id: str, rating_keys: list[str]) -> str:
        return f"server://{machine_id}/com.plexapp.plugins.library/library/metadata/{','.join(rating_keys)}"

    async def create_collection(self, section_key: str, title: str, rating_keys: list[str]) -> str:
        machine_id = await self.server.machine_identifier()
        response = await self.server.request(
            "POST",
            "/library/collections",
            params={
                "type": "1",
                "title": title,
                "smart": "0",
                "sectionId": section_key,
                "uri": self._uri(machine_id, rating_keys),
            },
        )
        if response.status_code != 200:
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR,
                f"Plex would not create the collection ({response.status_code}).",
            )
        return str(self.server.json(response)["MediaContainer"]["Metadata"][0]["ratingKey"])

    async def add_to_collection(self, collection_key: str, rating_keys: list[str]) -> None:
        machine_id = await self.server.machine_identifier()
        response = await self.server.request(
            "PUT",
            f"/library/collections/{collection_key}/items",
            params={"uri": self._uri(machine_id, rating_keys)},
        )
        if response.status_code != 200:
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR,
                f"Plex would not extend the collection ({response.status_code}).",
            )
