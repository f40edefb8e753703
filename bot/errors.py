"""The one error type the application raises on purpose.

Codes are the seed's `ErrorCode` values; the status is HTTP-like so the web
endpoints and the Discord error embed share one vocabulary. Anything that is
not an AppError is a bug and is shown to users as INTERNAL_ERROR.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHORIZED = "UNAUTHORIZED"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 - an error code, not a secret
    SESSION_EXPIRED = "SESSION_EXPIRED"
    INSUFFICIENT_PRIVILEGES = "INSUFFICIENT_PRIVILEGES"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_YOUTUBE_URL = "INVALID_YOUTUBE_URL"
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    OPERATION_FAILED = "OPERATION_FAILED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    EXTERNAL_SERVICE_ERROR = "EXTERNAL_SERVICE_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DATABASE_ERROR = "DATABASE_ERROR"


_DEFAULT_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.SESSION_EXPIRED: 401,
    ErrorCode.INSUFFICIENT_PRIVILEGES: 403,
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.INVALID_YOUTUBE_URL: 400,
    ErrorCode.DUPLICATE_REQUEST: 409,
    ErrorCode.RESOURCE_NOT_FOUND: 404,
    ErrorCode.OPERATION_FAILED: 422,
    ErrorCode.QUOTA_EXCEEDED: 429,
    ErrorCode.EXTERNAL_SERVICE_ERROR: 502,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.RATE_LIMIT_EXCEEDED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.DATABASE_ERROR: 500,
}

_TITLES: dict[ErrorCode, str] = {
    ErrorCode.UNAUTHORIZED: "Not linked",
    ErrorCode.INVALID_TOKEN: "Plex sign-in expired",
    ErrorCode.SESSION_EXPIRED: "Session expired",
    ErrorCode.INSUFFICIENT_PRIVILEGES: "Not allowed",
    ErrorCode.VALIDATION_ERROR: "Check your input",
    ErrorCode.INVALID_INPUT: "Check your input",
    ErrorCode.INVALID_YOUTUBE_URL: "Not a YouTube link",
    ErrorCode.DUPLICATE_REQUEST: "Already requested",
    ErrorCode.RESOURCE_NOT_FOUND: "Not found",
    ErrorCode.OPERATION_FAILED: "That did not work",
    ErrorCode.QUOTA_EXCEEDED: "Quota used up",
    ErrorCode.EXTERNAL_SERVICE_ERROR: "A service answered with an error",
    ErrorCode.SERVICE_UNAVAILABLE: "Service unavailable",
    ErrorCode.RATE_LIMIT_EXCEEDED: "Slow down",
    ErrorCode.INTERNAL_ERROR: "Something went wrong",
    ErrorCode.DATABASE_ERROR: "Something went wrong",
}


class AppError(Exception):
    """An expected failure with a message written for the user.

    `message` is shown to the user as is, so it must say what to do next and must
    never hold a secret. `details` are structured extras (retry time, ids) that
    renderers and logs may use.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else _DEFAULT_STATUS[code]
        self.details = details or {}

    @property
    def title(self) -> str:
        return _TITLES[self.code]

    def __repr__(self) -> str:
        return f"AppError({self.code.value}, {self.message!r})"
