"""Overseerr's CSRF protection: the `csurf` middleware with cookie-stored secrets.

With "Enable CSRF Protection" on, Overseerr mounts `csurf({cookie: {httpOnly,
sameSite, secure: !dev}})` in front of everything, API-key requests included.
Every answer carries the secret cookie `_csrf` (when the client had none) and
an `XSRF-TOKEN` cookie; a POST/PUT/PATCH/DELETE must send a token made from the
secret in its cookie, in `X-XSRF-TOKEN` (or `CSRF-Token`, `XSRF-Token`,
`X-CSRF-Token`, or `_csrf` in the body or query), or csurf fails it with 403
`invalid csrf token`. In production both cookies are `Secure`, so a client on
plain HTTP whose cookie jar honours that never sends them back.

Tokens are built as the `csrf` package builds them: `salt-base64url(sha1(salt-secret))`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping
from typing import Any

SECRET_COOKIE = "_csrf"
TOKEN_COOKIE = "XSRF-TOKEN"
TOKEN_HEADERS = ("csrf-token", "xsrf-token", "x-csrf-token", "x-xsrf-token")
IGNORED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _b64url(raw: bytes) -> str:
    return base64.b64encode(raw).decode().replace("+", "-").replace("/", "_").rstrip("=")


def new_secret() -> str:
    """`uid-safe.sync(18)`: 18 random bytes, base64url."""
    return _b64url(secrets.token_bytes(18))


def _tokenize(secret: str, salt: str) -> str:
    digest = hashlib.sha1(f"{salt}-{secret}".encode("ascii")).digest()
    return f"{salt}-{_b64url(digest)}"


SALT_CHARS = string.ascii_letters + string.digits


def new_token(secret: str) -> str:
    """A fresh token; the salt is alphanumeric (`rndm`), so the first `-` ends it."""
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(8))
    return _tokenize(secret, salt)


def verify(secret: str | None, token: str | None) -> bool:
    if not secret or not token or "-" not in token:
        return False
    salt = token[: token.index("-")]
    return hmac.compare_digest(token, _tokenize(secret, salt))


def submitted_token(headers: Mapping[str, str], query: Mapping[str, str], body: Any) -> str | None:
    """Where csurf's default `value(req)` looks, in its order."""
    if isinstance(body, dict) and isinstance(body.get("_csrf"), str):
        return str(body["_csrf"])
    if query.get("_csrf"):
        return query["_csrf"]
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in TOKEN_HEADERS:
        if lowered.get(name):
            return lowered[name]
    return None


def cookie_header(name: str, value: str, *, http_only: bool, secure: bool) -> str:
    """A `Set-Cookie` value as Express writes it for `res.cookie(name, value, {sameSite: true, ...})`."""
    parts = [f"{name}={value}", "Path=/"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    parts.append("SameSite=Strict")
    return "; ".join(parts)
