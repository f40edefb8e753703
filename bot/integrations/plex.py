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
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR, "plex.tv would not start a sign-in. Try again later."
            )
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
