"""State records of the Plex fakes, kept as plain dataclasses so tests can inspect them.

Times named `*_at` are wall-clock epoch seconds (what Plex puts on the wire); `at` on a
poll record is `time.monotonic()` so tests can measure polling intervals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

SectionType = Literal["movie", "show", "artist", "photo"]
Role = Literal["admin", "shared"]


# --------------------------------------------------------------------------- plex.tv


@dataclass
class PlexAccount:
    """A plex.tv account. `token` is the account's own token (its browser session);
    each PIN a client links mints a separate per-device token, as plex.tv does."""

    id: int
    uuid: str
    username: str
    email: str
    token: str
    joined_at: int
    plex_pass: bool = False
    owner_of: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    # client identifier -> device token minted when that client's PIN was linked
    device_tokens: dict[str, str] = field(default_factory=dict)
    # machine id -> accessToken of a share (what /resources hands out for that server)
    share_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.username

    @property
    def thumb(self) -> str:
        return f"https://plex.tv/users/{self.uuid}/avatar?c={self.joined_at}"


@dataclass
class PinPoll:
    """One GET of a PIN, kept so a test can check the client's polling rhythm."""

    at: float
    client_identifier: str | None
    status: int


@dataclass
class Pin:
    """A PIN as plex.tv keeps it; `auth_token` is set once a test links it to an account."""

    id: int
    code: str
    strong: bool
    client_identifier: str
    product: str
    created_at: float
    lifetime: float
    headers: dict[str, str]
    auth_token: str | None = None
    account: PlexAccount | None = None
    forced_expired: bool = False
    polls: list[PinPoll] = field(default_factory=list)

    @property
    def expires_at(self) -> float:
        return self.created_at + self.lifetime

    def is_expired(self, now: float | None = None) -> bool:
        return self.forced_expired or (now if now is not None else time.time()) >= self.expires_at

    def remaining(self, now: float | None = None) -> int:
        if self.forced_expired:
            return 0
        return max(0, round(self.expires_at - (now if now is not None else time.time())))

    @property
    def authorized(self) -> bool:
        return self.auth_token is not None


# --------------------------------------------------------------------------- Plex Media Server


@dataclass
class Location:
    id: int
    path: str


@dataclass
class Section:
    """A library section ("library" in the Plex UI)."""

    key: int
    title: str
    type: SectionType
    agent: str
    scanner: str
    language: str
    uuid: str
    locations: list[Location]
    created_at: int
    updated_at: int
    scanned_at: int
    content_changed_at: int
    refreshing: bool = False

    @property
    def is_personal_media(self) -> bool:
        """Sections without a metadata agent ("Other videos") title items by file name."""
        return self.agent in {"tv.plex.agents.none", "com.plexapp.agents.none"}


@dataclass
class Item:
    """A metadata item with (for videos) one Media and one Part pointing at its file."""

    rating_key: int
    section_key: int
    type: str
    title: str
    file: str | None
    guid: str
    added_at: int
    updated_at: int
    year: int | None = None
    size: int | None = None
    duration: int | None = None

    @property
    def key(self) -> str:
        return f"/library/metadata/{self.rating_key}"

    @property
    def container(self) -> str | None:
        if not self.file or "." not in self.file.rsplit("/", 1)[-1]:
            return None
        return self.file.rsplit(".", 1)[-1].lower()


@dataclass
class Collection:
    """A collection. Smart ones keep the filter uri and have no fixed items."""

    rating_key: int
    section_key: int
    title: str
    subtype: str
    guid: str
    added_at: int
    updated_at: int
    smart: bool = False
    item_keys: list[int] = field(default_factory=list)
    content: str | None = None

    @property
    def key(self) -> str:
        return f"/library/collections/{self.rating_key}/children"


@dataclass
class Scan:
    """One scan request: `path` is the partial-scan folder (None = whole section)."""

    section_key: int
    path: str | None
    force: bool
    requested_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    finished_at: float | None = None
    cancelled: bool = False
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.finished_at is not None or self.cancelled
