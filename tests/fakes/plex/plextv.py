"""FakePlexTv: the plex.tv v2 endpoints of the PIN sign-in flow, `/user` and `/resources`.

Behaviour copied from plex.tv because clients depend on it:
* Every v2 call needs `X-Plex-Client-Identifier` (header, query or form field); without
  it plex.tv answers 400 with error code 1000.
* A PIN is bound to the client identifier that created it; asking with another one, an
  unknown id or after expiry gives 404 code 1020 (as the community spec documents).
* Linking a PIN mints a per-device token for that client, distinct from the account's
  own token, so revoking one device leaves the others working.
* Bad or revoked tokens get 401 code 1001. Errors are JSON `{"errors": [...]}` or XML.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Iterable
from typing import Any, Literal
from xml.etree import ElementTree as ET

from aiohttp import web

from ..base import FakeServer
from .markup import XML_DECLARATION, respond_data, wants_json
from .models import Pin, PinPoll, PlexAccount, Role
from .params import iso_z, new_token, now_epoch, plex_value, truthy
from .server import FakePlexServer

STRONG_CODE_LENGTH = 25
STRONG_LIFETIME = 1800.0
SHORT_LIFETIME = 900.0
_SHORT_ALPHABET = string.ascii_uppercase + string.digits
_STRONG_ALPHABET = string.ascii_lowercase + string.digits
_LOCATION = {
    "code": "US",
    "european_union_member": False,
    "continent_code": "NA",
    "country": "United States",
    "city": "Springfield",
    "time_zone": "America/Chicago",
    "postal_code": "62701",
    "in_privacy_restricted_country": False,
    "in_privacy_restricted_region": False,
    "subdivisions": "Illinois",
    "coordinates": "39.7817, -89.6501",
}
_USER_XML_TAGS = {
    "subscriptions": "subscription",
    "features": "feature",
    "entitlements": "entitlement",
    "roles": "role",
    "services": "service",
}
_RESOURCE_XML_TAGS = {"resources": "resource", "connections": "connection"}
ExpiredPinBehaviour = Literal["not_found", "stale"]
ServerRef = FakePlexServer | str


def plex_error(request: web.Request, status: int, code: int, message: str) -> web.Response:
    """plex.tv's error document, in JSON or XML like the rest of its answers."""
    if wants_json(request):
        data = {"errors": [{"code": code, "message": message, "status": status}]}
        return respond_data(request, data, "errors", status=status)
    root = ET.Element("errors")
    ET.SubElement(root, "error", {"code": str(code), "message": message, "status": str(status)})
    body = XML_DECLARATION + ET.tostring(root, encoding="utf-8")
    return web.Response(body=body, status=status, headers={"Content-Type": "application/xml; charset=utf-8"})


class FakePlexTv(FakeServer):
    def __init__(self) -> None:
        self.accounts: dict[int, PlexAccount] = {}
        self.pins: dict[int, Pin] = {}
        self.servers: dict[str, FakePlexServer] = {}
        self.revoked_tokens: set[str] = set()
        self.pin_lifetime: float | None = None
        self.expired_pin_behaviour: ExpiredPinBehaviour = "not_found"
        self.list_player_devices = True
        self._relay: dict[str, bool] = {}
        self._next_account_id = 20_000_001
        self._next_pin_id = 373_040_001
        super().__init__()

    # ------------------------------------------------------------------ test API: accounts

    def add_account(
        self,
        username: str,
        *,
        email: str | None = None,
        owner_of: Iterable[ServerRef] = (),
        shared: Iterable[ServerRef] = (),
        token: str | None = None,
        plex_pass: bool = False,
    ) -> PlexAccount:
        account = PlexAccount(
            id=self._next_account_id,
            uuid=secrets.token_hex(8),
            username=username,
            email=email or f"{username.lower()}@example.com",
            token=token or new_token(),
            joined_at=now_epoch() - 86_400 * 365,
            plex_pass=plex_pass,
        )
        self._next_account_id += 1
        self.accounts[account.id] = account
        for server in owner_of:
            machine_id = self._machine_id(server)
            account.owner_of.append(machine_id)
            if machine_id in self.servers:
                self.servers[machine_id].owner_username = username
        for server in shared:
            self.share(account, server)
        return account

    def share(self, account: PlexAccount, server: ServerRef) -> str:
        """Share a server with the account; returns the share's accessToken."""
        machine_id = self._machine_id(server)
        if machine_id not in account.shared:
            account.shared.append(machine_id)
        token = account.share_tokens.setdefault(machine_id, new_token())
        if machine_id in self.servers:
            self.servers[machine_id].allow_token(token)
        return token

    def unshare(self, account: PlexAccount, server: ServerRef) -> None:
        machine_id = self._machine_id(server)
        if machine_id in account.shared:
            account.shared.remove(machine_id)
        token = account.share_tokens.pop(machine_id, None)
        if token and machine_id in self.servers:
            self.servers[machine_id].revoke_token(token)

    def register_server(self, server: FakePlexServer, *, relay: bool = True) -> None:
        """Make plex.tv know the server: it appears in /resources with its real address,
        and it accepts owner (admin) and friend (shared) plex.tv tokens, as PMS does by
        asking plex.tv. `relay` adds an unreachable relay connection when asked for."""
        self.servers[server.machine_id] = server
        self._relay[server.machine_id] = relay
        server.set_token_resolver(lambda token: self.role_on(server.machine_id, token))
        for account in self.accounts.values():
            if server.machine_id in account.owner_of:
                server.owner_username = account.username
            if server.machine_id in account.share_tokens:
                server.allow_token(account.share_tokens[server.machine_id])

    def revoke_token(self, token: str) -> None:
        """Sign a device out: the token stops working on plex.tv and on linked servers."""
        self.revoked_tokens.add(token)
        for server in self.servers.values():
            server.revoke_token(token)

    def account_for_token(self, token: str | None) -> PlexAccount | None:
        if not token or token in self.revoked_tokens:
            return None
        for account in self.accounts.values():
            if token == account.token or token in account.device_tokens.values():
                return account
        return None

    def role_on(self, machine_id: str, token: str) -> Role | None:
        account = self.account_for_token(token)
        if account is None:
            return None
        if machine_id in account.owner_of:
            return "admin"
        return "shared" if machine_id in account.shared else None

    # ------------------------------------------------------------------ test API: PINs

    def set_pin_lifetime(self, seconds: float | None) -> None:
        """Lifetime of PINs created from now on; None restores 1800 s strong / 900 s short."""
        self.pin_lifetime = seconds

    def set_expired_pin_behaviour(self, behaviour: ExpiredPinBehaviour) -> None:
        """ "not_found": 404 code 1020 (documented); "stale": 200 with authToken null and
        expiresIn 0, for clients that must also cope with that."""
        self.expired_pin_behaviour = behaviour

    def pin(self, pin_id_or_code: int | str) -> Pin:
        """A PIN by id (int or digit string, as plexapi keeps it) or by code."""
        as_text = str(pin_id_or_code)
        if isinstance(pin_id_or_code, int) or (as_text.isdigit() and int(as_text) in self.pins):
            found = self.pins.get(int(as_text))
        else:
            found = next((p for p in self.pins.values() if p.code.casefold() == pin_id_or_code.casefold()), None)
        if found is None:
            raise KeyError(f"no PIN {pin_id_or_code!r}")
        return found

    def latest_pin(self, client_identifier: str | None = None) -> Pin | None:
        candidates = [p for p in self.pins.values() if client_identifier in (None, p.client_identifier)]
        return max(candidates, key=lambda p: p.id, default=None)

    def pending_pins(self) -> list[Pin]:
        return [p for p in self.pins.values() if not p.authorized and not p.is_expired()]

    def authorize_pin(self, pin_id_or_code: int | str, account: PlexAccount) -> str:
        """What the user does at app.plex.tv/auth: link the PIN. Returns the device token
        the client will receive (reused if this client was linked before)."""
        pin = self.pin(pin_id_or_code)
        if pin.is_expired():
            raise ValueError(f"PIN {pin.id} has expired; plex.tv would not accept it")
        token = account.device_tokens.get(pin.client_identifier)
        if token is None or token in self.revoked_tokens:
            token = account.device_tokens[pin.client_identifier] = new_token()
        pin.auth_token, pin.account = token, account
        return token

    def expire_pin(self, pin_id_or_code: int | str) -> None:
        self.pin(pin_id_or_code).forced_expired = True

    # ------------------------------------------------------------------ routes

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/v2/pins", self.handle_create_pin)
        router.add_get("/api/v2/pins/{pin_id}", self.handle_get_pin)
        router.add_get("/api/v2/user", self.handle_user)
        router.add_get("/api/v2/resources", self.handle_resources)

    async def handle_create_pin(self, request: web.Request) -> web.Response:
        client_id = await plex_value(request, "X-Plex-Client-Identifier")
        if not client_id:
            return plex_error(request, 400, 1000, "X-Plex-Client-Identifier is missing")
        strong = truthy(request.query.get("strong") or await plex_value(request, "strong"))
        lifetime = self.pin_lifetime or (STRONG_LIFETIME if strong else SHORT_LIFETIME)
        pin = Pin(
            id=self._next_pin_id,
            code=_code(strong),
            strong=strong,
            client_identifier=client_id,
            product=await plex_value(request, "X-Plex-Product") or "",
            created_at=time.time(),
            lifetime=lifetime,
            headers=dict(request.headers),
        )
        self._next_pin_id += 1
        self.pins[pin.id] = pin
        return respond_data(request, self._pin_json(pin), "pin", status=201)

    async def handle_get_pin(self, request: web.Request) -> web.Response:
        client_id = await plex_value(request, "X-Plex-Client-Identifier")
        raw_id = request.match_info["pin_id"]
        pin = self.pins.get(int(raw_id)) if raw_id.isdigit() else None
        status, response = await self._pin_answer(request, pin, client_id)
        if pin is not None:
            pin.polls.append(PinPoll(at=time.monotonic(), client_identifier=client_id, status=status))
        return response

    async def _pin_answer(
        self, request: web.Request, pin: Pin | None, client_id: str | None
    ) -> tuple[int, web.Response]:
        if not client_id:
            return 400, plex_error(request, 400, 1000, "X-Plex-Client-Identifier is missing")
        code = await plex_value(request, "code")
        if pin is None or pin.client_identifier != client_id or (code and code != pin.code):
            return 404, plex_error(request, 404, 1020, "Code not found or expired")
        if pin.is_expired():
            if self.expired_pin_behaviour == "not_found":
                return 404, plex_error(request, 404, 1020, "Code not found or expired")
            return 200, respond_data(request, self._pin_json(pin, hide_token=True), "pin")
        return 200, respond_data(request, self._pin_json(pin), "pin")

    async def handle_user(self, request: web.Request) -> web.Response:
        denied = await self._check_client(request)
        if denied is not None:
            return denied
        token = _token(request)
        account = self.account_for_token(token)
        if account is None or token is None:
            return plex_error(request, 401, 1001, "User could not be authenticated")
        return respond_data(request, _user_json(account, token), "user", _USER_XML_TAGS)

    async def handle_resources(self, request: web.Request) -> web.Response:
        denied = await self._check_client(request)
        if denied is not None:
            return denied
        account = self.account_for_token(_token(request))
        if account is None:
            return plex_error(request, 401, 1001, "User could not be authenticated")
        relay = truthy(request.query.get("includeRelay"))
        devices = [self._server_resource(account, mid, relay) for mid in account.owner_of + account.shared]
        if self.list_player_devices:
            devices.append(_player_device(account))
        return respond_data(request, devices, "resources", _RESOURCE_XML_TAGS)

    # ------------------------------------------------------------------ documents

    async def _check_client(self, request: web.Request) -> web.Response | None:
        if await plex_value(request, "X-Plex-Client-Identifier"):
            return None
        return plex_error(request, 400, 1000, "X-Plex-Client-Identifier is missing")

    def _pin_json(self, pin: Pin, hide_token: bool = False) -> dict[str, Any]:
        return {
            "id": pin.id,
            "code": pin.code,
            "product": pin.product,
            "trusted": False,
            "qr": f"https://plex.tv/api/v2/pins/qr/{pin.code}",
            "clientIdentifier": pin.client_identifier,
            "location": dict(_LOCATION),
            "expiresIn": pin.remaining(),
            "createdAt": iso_z(pin.created_at),
            "expiresAt": iso_z(pin.expires_at),
            "authToken": None if hide_token else pin.auth_token,
            "newRegistration": None,
        }

    def _server_resource(self, account: PlexAccount, machine_id: str, include_relay: bool) -> dict[str, Any]:
        server = self.servers.get(machine_id)
        owned = machine_id in account.owner_of
        owner = next((a for a in self.accounts.values() if machine_id in a.owner_of), None)
        if owned:
            access_token = server.admin_token if server else account.token
        else:
            access_token = account.share_tokens.get(machine_id, account.token)
        connections: list[dict[str, Any]] = []
        if server is not None:
            connections.append(
                {
                    "protocol": "http",
                    "address": server.host,
                    "port": server.port,
                    "uri": server.url,
                    "local": True,
                    "relay": False,
                    "IPv6": False,
                }
            )
            if include_relay and self._relay.get(machine_id):
                # TEST-NET-3 address: present like a real relay, never reachable.
                connections.append(
                    {
                        "protocol": "https",
                        "address": "203.0.113.7",
                        "port": 8443,
                        "uri": f"https://203-0-113-7.{machine_id[:32]}.plex.direct:8443",
                        "local": False,
                        "relay": True,
                        "IPv6": False,
                    }
                )
        created = iso_z(account.joined_at)
        return {
            "name": server.name if server else "Plex Media Server",
            "product": "Plex Media Server",
            "productVersion": server.version if server else "1.41.3.9314-a0bfb8370",
            "platform": "Linux",
            "platformVersion": "6.1",
            "device": "PC",
            "clientIdentifier": machine_id,
            "createdAt": created,
            "lastSeenAt": iso_z(time.time()),
            "provides": "server",
            "ownerId": None if owned else (owner.id if owner else None),
            "sourceTitle": None if owned else (owner.username if owner else None),
            "publicAddress": "203.0.113.7",
            "accessToken": access_token,
            "owned": owned,
            "home": False,
            "synced": False,
            "relay": self._relay.get(machine_id, False),
            "presence": bool(server and server.is_up),
            "httpsRequired": False,
            "publicAddressMatches": True,
            "dnsRebindingProtection": False,
            "natLoopbackSupported": False,
            "connections": connections,
        }

    def _machine_id(self, server: ServerRef) -> str:
        if isinstance(server, FakePlexServer):
            if server.machine_id not in self.servers:
                self.register_server(server)
            return server.machine_id
        return server


def _token(request: web.Request) -> str | None:
    return request.headers.get("X-Plex-Token") or request.query.get("X-Plex-Token") or None


def _code(strong: bool) -> str:
    if strong:
        return "".join(secrets.choice(_STRONG_ALPHABET) for _ in range(STRONG_CODE_LENGTH))
    return "".join(secrets.choice(_SHORT_ALPHABET) for _ in range(4))


def _user_json(account: PlexAccount, token: str) -> dict[str, Any]:
    """`/api/v2/user` as plex.tv sends it; `authToken` echoes the token that asked."""
    subscription: dict[str, Any] = {
        "active": account.plex_pass,
        "subscribedAt": iso_z(account.joined_at) if account.plex_pass else None,
        "status": "Active" if account.plex_pass else "Inactive",
        "paymentService": "braintree" if account.plex_pass else None,
        "plan": "lifetime" if account.plex_pass else None,
        "features": ["hardware_transcoding", "webhooks"] if account.plex_pass else [],
    }
    return {
        "id": account.id,
        "uuid": account.uuid,
        "username": account.username,
        "title": account.title,
        "email": account.email,
        "friendlyName": "",
        "locale": None,
        "confirmed": True,
        "joinedAt": account.joined_at,
        "emailOnlyAuth": False,
        "hasPassword": True,
        "protected": False,
        "thumb": account.thumb,
        "authToken": token,
        "mailingListStatus": "active",
        "mailingListActive": False,
        "scrobbleTypes": "",
        "country": "US",
        "subscription": subscription,
        "subscriptionDescription": None,
        "restricted": False,
        "anonymous": None,
        "home": False,
        "guest": False,
        "homeSize": 1,
        "homeAdmin": False,
        "maxHomeSize": 15,
        "rememberExpiresAt": now_epoch() + 14 * 86_400,
        "profile": {
            "autoSelectAudio": True,
            "defaultAudioLanguage": "en",
            "defaultSubtitleLanguage": "en",
            "autoSelectSubtitle": 0,
            "defaultSubtitleAccessibility": 0,
            "defaultSubtitleForced": 0,
            "watchedIndicator": 1,
            "mediaReviewsVisibility": 0,
        },
        "entitlements": [],
        "roles": ["plexpass"] if account.plex_pass else [],
        "services": [],
        "adsConsent": None,
        "adsConsentSetAt": None,
        "adsConsentReminderAt": None,
        "experimentalFeatures": False,
        "twoFactorEnabled": False,
        "backupCodesCreated": False,
        "attributionPartner": None,
    }


def _player_device(account: PlexAccount) -> dict[str, Any]:
    """A phone app: /resources lists clients too, so clients must filter on `provides`."""
    seen = iso_z(time.time())
    return {
        "name": f"{account.username}'s iPhone",
        "product": "Plex for iOS",
        "productVersion": "8.40",
        "platform": "iOS",
        "platformVersion": "17.5",
        "device": "iPhone",
        "clientIdentifier": f"{account.uuid}-iphone",
        "createdAt": iso_z(account.joined_at),
        "lastSeenAt": seen,
        "provides": "client,player,pubsub-player,provider-playback",
        "ownerId": None,
        "sourceTitle": None,
        "publicAddress": "198.51.100.23",
        "accessToken": f"device-{account.uuid}",
        "owned": True,
        "home": False,
        "synced": False,
        "relay": False,
        "presence": False,
        "httpsRequired": False,
        "publicAddressMatches": False,
        "dnsRebindingProtection": False,
        "natLoopbackSupported": False,
        "connections": [],
    }
