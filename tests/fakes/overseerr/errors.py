"""Errors the fake raises, each carrying the status and body Overseerr answers with.

Overseerr reports most failures through its Express error handler, whose body is
`{"message": ..., "errors": ...}` (`errors` is dropped when undefined). Its
`isAuthenticated` middleware is the exception: it answers
`{"status": 403, "error": "You do not have permission to access this endpoint"}`.
"""

from __future__ import annotations

from typing import Any


class OverseerrError(Exception):
    """A failure answered with `status` and Overseerr's `{"message": ...}` body."""

    status = 500

    def __init__(self, message: str, status: int | None = None, errors: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class RequestPermissionError(OverseerrError):
    status = 403


class QuotaRestrictedError(OverseerrError):
    status = 403


class DuplicateMediaRequestError(OverseerrError):
    status = 409


class NoSeasonsAvailableError(OverseerrError):
    """Every requested season is already requested or available (answered 202)."""

    status = 202


class NotFoundError(OverseerrError):
    status = 404


class EndpointForbidden(OverseerrError):
    """`isAuthenticated()` refusing: no user, or the user lacks the permission."""

    status = 403

    def __init__(self) -> None:
        super().__init__("You do not have permission to access this endpoint")

    def body(self) -> dict[str, Any]:
        return {"status": 403, "error": self.message}
