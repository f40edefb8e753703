"""Discord's rate limits: per-route buckets, a global cap, and 429s on demand.

Why a fake needs them: discord.py schedules requests from the X-RateLimit-*
headers and retries 429s itself. A bot that bursts messages or that must answer
an interaction while the callback route is limited behaves differently under
these rules, and tests should see that, not an infinitely fast Discord.

Notes on discord.py 2.7.1 that shaped this module:
* a 429 without a `Via` header is taken for a Cloudflare ban and raised at once,
  so every reply carries `Via: 1.1 google` as Discord's do;
* it reads `retry_after` from the JSON body, and `global` to block all routes;
* interaction callbacks and webhook-token routes are exempt from the global limit.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field

RATE_LIMITED_MESSAGE = "You are being rate limited."

# (method, route template) -> (requests, window seconds). Values follow what
# Discord advertises for the routes bots hit most; everything else gets DEFAULT.
DEFAULT_BUCKETS: dict[tuple[str, str], tuple[int, float]] = {
    ("POST", "/channels/{channel_id}/messages"): (5, 5.0),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): (5, 5.0),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"): (5, 1.0),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"): (5, 2.0),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"): (5, 2.0),
}
DEFAULT_BUCKET = (50, 1.0)


@dataclass
class ForcedLimit:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    retry_after: float
    is_global: bool


@dataclass
class _Window:
    limit: int
    window: float
    count: int = 0
    resets_at: float = 0.0


@dataclass
class RateLimitHit:
    """A 429 the fake answered, for assertions ("the bot was limited and retried")."""

    method: str
    path: str
    scope: str  # "forced", "user" (bucket) or "global"
    retry_after: float
    at: float = field(default_factory=time.monotonic)


@dataclass
class Decision:
    headers: dict[str, str]
    limited: bool = False
    body: dict[str, object] | None = None


def template_regex(path_pattern: str) -> re.Pattern[str]:
    """`/interactions/{id}/{token}/callback` -> a regex matching concrete paths."""
    parts = re.split(r"(\{[^}]+\})", path_pattern)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


class RateLimiter:
    def __init__(
        self,
        buckets: dict[tuple[str, str], tuple[int, float]] | None = None,
        global_limit: int = 50,
        enabled: bool = True,
    ) -> None:
        self.buckets = {**DEFAULT_BUCKETS, **(buckets or {})}
        self.global_limit = global_limit
        self.enabled = enabled
        self.hits: list[RateLimitHit] = []
        self._forced: list[ForcedLimit] = []
        self._windows: dict[str, _Window] = {}
        self._global: deque[float] = deque()

    def force(
        self, method: str, path_pattern: str, n: int = 1, retry_after: float = 1.0, is_global: bool = False
    ) -> None:
        """Make the next `n` matching requests answer 429 (path relative to /api/v10)."""
        self._forced.append(ForcedLimit(method.upper(), template_regex(path_pattern), n, retry_after, is_global))

    @staticmethod
    def bucket_hash(method: str, template: str) -> str:
        return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:32]

    def check(self, method: str, template: str, path: str, major: str, global_exempt: bool) -> Decision:
        """Decide whether this request passes, and the X-RateLimit-* headers to send."""
        now = time.monotonic()
        limit, window = self.buckets.get((method, template), DEFAULT_BUCKET)
        bucket = self.bucket_hash(method, template)
        key = f"{bucket}:{major}"
        state = self._windows.get(key)
        if state is None or now >= state.resets_at:
            state = self._windows[key] = _Window(limit, window, 0, now + window)
        reset_after = max(state.resets_at - now, 0.0)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "Via": "1.1 google",
        }
        forced = next((f for f in self._forced if f.method == method and f.pattern.fullmatch(path)), None)
        if forced is not None:
            forced.remaining -= 1
            if forced.remaining <= 0:
                self._forced.remove(forced)
            return self._limited(method, path, headers, "forced", forced.retry_after, forced.is_global)
        if not self.enabled:
            headers["X-RateLimit-Remaining"] = str(max(limit - state.count, 0))
            return Decision(headers)
        if not global_exempt:
            while self._global and now - self._global[0] >= 1.0:
                self._global.popleft()
            if len(self._global) >= self.global_limit:
                return self._limited(method, path, headers, "global", 1.0 - (now - self._global[0]), True)
            self._global.append(now)
        if state.count >= limit:
            return self._limited(method, path, headers, "user", reset_after, False)
        state.count += 1
        headers["X-RateLimit-Remaining"] = str(limit - state.count)
        return Decision(headers)

    def _limited(
        self, method: str, path: str, headers: dict[str, str], scope: str, retry_after: float, is_global: bool
    ) -> Decision:
        retry_after = round(max(retry_after, 0.001), 3)
        self.hits.append(RateLimitHit(method, path, scope, retry_after))
        headers = {
            **headers,
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body: dict[str, object] = {
            "message": RATE_LIMITED_MESSAGE,
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        return Decision(headers, limited=True, body=body)
