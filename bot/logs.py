"""Logging set-up: JSON or console lines, each with the correlation id, secrets redacted.

Redaction works two ways: exact values registered at start (the Discord token, API
keys, the database password) or when first seen (a user's Plex token), and patterns
for the places tokens travel (query strings, headers, JSON fields) so a token we
never registered is still hidden.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from bot.correlation import correlation_id

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"(?i)(x-plex-token[=:]\s*)([^&\s\"',}]+)"),
    re.compile(r"(?i)(x-api-key[=:]\s*)([^&\s\"',}]+)"),
    re.compile(
        r"(?i)([\"']?(?:authToken|accessToken|token|api_?key|password|secret)[\"']?\s*[=:]\s*[\"']?)([^&\s\"',}]{6,})"
    ),
    re.compile(r"(?i)(authorization[\"']?\s*[=:]\s*[\"']?(?:bot|bearer|basic)?\s*)([^\s\"',}]{6,})"),
    re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)"),
]

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Make sure `value` never appears in a log line. Short values are ignored."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups == 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
        else:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(self.render(record))

    def render(self, record: logging.LogRecord) -> str:
        return super().format(record)


class ConsoleFormatter(_Redacting):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s [%(correlation_id)s] %(name)s: %(message)s")


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "correlation_id",
}


class JsonFormatter(_Redacting):
    def render(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "correlation_id": getattr(record, "correlation_id", "-"),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "console") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py's gateway chatter at DEBUG includes payloads; keep it at INFO at most.
    for noisy in ("discord.gateway", "discord.http", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.INFO))
    # one line per HTTP call is noise; our clients log what matters
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.getLevelName(level), logging.WARNING))
