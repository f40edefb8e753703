"""Overseerr's enums, with the numeric values its database and API use.

Values come from Overseerr's source (`server/lib/permissions.ts`,
`server/constants/media.ts`, `server/constants/user.ts`,
`server/lib/notifications/index.ts`). They are copied rather than invented so a
client written against the fake sends and reads the same numbers as against the
real server.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Literal

Flavour = Literal["overseerr", "jellyseerr", "seerr"]
FLAVOURS: tuple[Flavour, ...] = ("overseerr", "jellyseerr", "seerr")

#: What `/api/v1/status` reports for each flavour (a recent release of each).
FLAVOUR_VERSIONS: dict[Flavour, str] = {
    "overseerr": "1.34.0",
    "jellyseerr": "2.5.2",
    "seerr": "3.3.0",
}


class Permission(IntFlag):
    """User permission bits (`server/lib/permissions.ts`)."""

    NONE = 0
    ADMIN = 2
    MANAGE_SETTINGS = 4
    MANAGE_USERS = 8
    MANAGE_REQUESTS = 16
    REQUEST = 32
    VOTE = 64
    AUTO_APPROVE = 128
    AUTO_APPROVE_MOVIE = 256
    AUTO_APPROVE_TV = 512
    REQUEST_4K = 1024
    REQUEST_4K_MOVIE = 2048
    REQUEST_4K_TV = 4096
    REQUEST_ADVANCED = 8192
    REQUEST_VIEW = 16384
    AUTO_APPROVE_4K = 32768
    AUTO_APPROVE_4K_MOVIE = 65536
    AUTO_APPROVE_4K_TV = 131072
    REQUEST_MOVIE = 262144
    REQUEST_TV = 524288
    MANAGE_ISSUES = 1048576
    VIEW_ISSUES = 2097152
    CREATE_ISSUES = 4194304
    AUTO_REQUEST = 8388608
    AUTO_REQUEST_MOVIE = 16777216
    AUTO_REQUEST_TV = 33554432
    RECENT_VIEW = 67108864
    WATCHLIST_VIEW = 134217728


def has_permission(wanted: int | list[int], value: int, check: Literal["and", "or"] = "and") -> bool:
    """Overseerr's `hasPermission`: ADMIN passes every check; 0 asks for nothing.

    A single permission passes if its bit is set. A list passes if all (`and`,
    the default) or any (`or`) of its bits are set.
    """
    if isinstance(wanted, list):
        if value & Permission.ADMIN:
            return True
        if check == "and":
            return all(value & p for p in wanted)
        return any(value & p for p in wanted)
    if wanted == 0:
        return True
    return bool(value & Permission.ADMIN) or bool(value & wanted)


class MediaStatus(IntEnum):
    """Availability of a title (`MediaInfo.status` / `status4k`)."""

    UNKNOWN = 1
    PENDING = 2
    PROCESSING = 3
    PARTIALLY_AVAILABLE = 4
    AVAILABLE = 5
    DELETED = 6


class MediaRequestStatus(IntEnum):
    """State of one request (`MediaRequest.status`).

    COMPLETED is set when the media of an approved request becomes available.
    """

    PENDING = 1
    APPROVED = 2
    DECLINED = 3
    FAILED = 4
    COMPLETED = 5


class UserType(IntEnum):
    PLEX = 1
    LOCAL = 2


class Notification(IntEnum):
    """Notification types; also the bits of an agent's `types` mask."""

    NONE = 0
    MEDIA_PENDING = 2
    MEDIA_APPROVED = 4
    MEDIA_AVAILABLE = 8
    MEDIA_FAILED = 16
    TEST_NOTIFICATION = 32
    MEDIA_DECLINED = 64
    MEDIA_AUTO_APPROVED = 128
    ISSUE_CREATED = 256
    ISSUE_COMMENT = 512
    ISSUE_RESOLVED = 1024
    ISSUE_REOPENED = 2048
    MEDIA_AUTO_REQUESTED = 4096


#: Every request-related notification: the default `types` of the fake's webhook agent.
ALL_MEDIA_NOTIFICATIONS = (
    Notification.MEDIA_PENDING
    | Notification.MEDIA_APPROVED
    | Notification.MEDIA_AVAILABLE
    | Notification.MEDIA_FAILED
    | Notification.MEDIA_DECLINED
    | Notification.MEDIA_AUTO_APPROVED
)


def has_notification_type(kind: Notification, mask: int) -> bool:
    """Overseerr's `hasNotificationType`: test notifications are always enabled."""
    if kind == 0:
        return True
    if not mask & Notification.TEST_NOTIFICATION:
        mask += Notification.TEST_NOTIFICATION
    return bool(mask & kind)
