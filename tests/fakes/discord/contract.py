"""Checks every REST exchange against Discord's published OpenAPI spec.

Why: the fake is only useful if it behaves like Discord. Validating the bot's
request bodies catches bot bugs that Discord would reject; validating the fake's
own replies catches the fake drifting from Discord (a missing required field that
discord.py happens to tolerate today). A mismatch is recorded, never raised inside
the handler, and the pytest fixture fails the test at teardown.

Loading the spec with openapi-core takes about 4 s, so it is done once per process,
lazily, in a worker thread (started when the first fake starts, overlapping the
bot's start-up). Validation also runs on that single worker thread so it never
delays an answer to the bot; `drain()` waits for the backlog before assertions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path("/work/shared/specs/discord-openapi-v10.json")
SPEC_SERVER = "https://discord.com"
SPEC_BASE = "/api/v10"

_spec_lock = threading.Lock()
_spec: Any = None


def load_spec() -> Any:
    """The openapi-core `OpenAPI` object for Discord's spec, loaded once per process."""
    global _spec
    with _spec_lock:
        if _spec is None:
            from openapi_core import OpenAPI

            _spec = OpenAPI.from_file_path(str(SPEC_PATH))
        return _spec


@dataclass(frozen=True)
class SpecException:
    """One narrow, documented place where the spec is stricter than Discord really is.

    Rather than ignoring an error, it rewrites just that field before validation,
    so everything else in the body is still checked.
    """

    direction: str  # "request" or "response"
    method: str  # or "*"
    path: re.Pattern[str]
    fix: Callable[[Any], None]
    reason: str


# Keys whose values are snowflakes wherever they appear in a request body.
SNOWFLAKE_KEYS = {"id", "recipient_id", "message_id", "channel_id", "guild_id", "parent_id"}
SNOWFLAKE_LIST_KEYS = {"users", "roles", "sticker_ids", "applied_tags"}


def _stringify_snowflakes(body: Any) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in SNOWFLAKE_KEYS and isinstance(value, int) and not isinstance(value, bool):
                    node[key] = str(value)
                elif key in SNOWFLAKE_LIST_KEYS and isinstance(value, list):
                    node[key] = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
                    walk(node[key])
                else:
                    walk(value)

    walk(body)


def _numeric_field_error_codes(body: Any) -> None:
    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for item in node.get("_errors") or []:
            if isinstance(item, dict) and isinstance(item.get("code"), str):
                item["code"] = 0
        for key, value in node.items():
            if key != "_errors":
                walk(value)

    if isinstance(body, dict):
        walk(body.get("errors"))


ALLOW_LIST: list[SpecException] = [
    SpecException(
        "request",
        "*",
        re.compile(r".*"),
        _stringify_snowflakes,
        "discord.py 2.7.1 serialises snowflakes as JSON integers in request bodies: recipient_id "
        "(start_private_message), message_reference ids, allowed_mentions users/roles, member "
        "roles, and the files[n] index used as attachment id. Discord accepts integer snowflakes "
        "(and documents the upload index as an integer); the spec types them only as strings. "
        "Only integer values under these snowflake keys are rewritten.",
    ),
    SpecException(
        "response",
        "*",
        re.compile(r".*"),
        _numeric_field_error_codes,
        "50035 field errors carry string codes ({'code': 'BASE_TYPE_REQUIRED', ...}) in Discord's "
        "docs and real answers, and discord.py prints them as strings; the spec reuses the "
        "top-level Error schema whose code is an integer.",
    ),
]


def _apply_exceptions(direction: str, method: str, path: str, body: Any) -> Any:
    if body is None:
        return None
    body = copy.deepcopy(body)
    for entry in ALLOW_LIST:
        if entry.direction == direction and entry.method in ("*", method) and entry.path.fullmatch(path):
            entry.fix(body)
    return body


@dataclass(frozen=True)
class ContractError:
    """One mismatch between an exchange and the spec."""

    direction: str  # "request" (the bot's body) or "response" (the fake's reply)
    method: str
    path: str
    status: int | None
    error: str

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        return f"[{self.direction}] {self.method} {self.path}{status}: {self.error}"


def _describe(exc: BaseException) -> str:
    """Flatten openapi-core's nested exceptions into one readable line per schema error."""
    parts = [f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"]
    cause = exc.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    for err in schema_errors or ():
        where = "/".join(str(p) for p in getattr(err, "absolute_path", []))
        parts.append(f"  at {where or '<body>'}: {getattr(err, 'message', err)}"[:400])
        for sub in (getattr(err, "context", None) or [])[:6]:
            sub_where = "/".join(str(p) for p in getattr(sub, "absolute_path", []))
            parts.append(f"    - {sub_where}: {sub.message}"[:300])
    return "\n".join(parts)


def validate_exchange(
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: Any,
    status: int | None = None,
    response_body: Any = None,
    response_headers: dict[str, str] | None = None,
) -> list[ContractError]:
    """Validate a request (and, if `status` is given, its response). Synchronous.

    `path` is relative to /api/v10; `body` is the decoded JSON (multipart uploads are
    presented as their `payload_json`, which is what the spec's JSON schema covers).
    Routes the spec does not describe are skipped: there is nothing to check.
    """
    from openapi_core.templating.paths.exceptions import PathError
    from openapi_core.testing import MockRequest, MockResponse

    spec = load_spec()
    errors: list[ContractError] = []
    body = _apply_exceptions("request", method, path, body)
    response_body = _apply_exceptions("response", method, path, response_body)
    raw = json.dumps(body).encode() if body is not None else None
    request = MockRequest(
        SPEC_SERVER,
        method,
        SPEC_BASE + path,
        args=query,
        headers={k: v for k, v in headers.items() if k.lower() == "authorization"},
        data=raw,
        content_type="application/json",
    )
    try:
        spec.validate_request(request)
    except PathError:
        return []
    except Exception as exc:  # openapi-core raises many unrelated classes
        errors.append(ContractError("request", method, path, None, _describe(exc)))
    if status is None:
        return errors
    has_body = response_body is not None
    response = MockResponse(
        json.dumps(response_body).encode() if has_body else b"",
        status_code=status,
        headers=response_headers or {},
        content_type="application/json" if has_body else None,  # type: ignore[arg-type]
    )
    try:
        spec.validate_response(request, response)
    except PathError:
        pass
    except Exception as exc:
        errors.append(ContractError("response", method, path, status, _describe(exc)))
    return errors


class ContractChecker:
    """Queues exchanges for validation on one background thread and keeps the errors."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.errors: list[ContractError] = []
        self.checked = 0
        # One worker: openapi-core objects are not shared across threads, and FIFO
        # order lets `drain` wait for everything by queueing a no-op behind it.
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="discord-contract")

    def preload(self) -> None:
        """Start loading the spec now, so the first real check does not wait 4 s."""
        if self.enabled:
            self._submit(load_spec)

    def submit(self, **exchange: Any) -> None:
        if self.enabled:
            self._submit(self._run, exchange)

    def _submit(self, fn: Any, *args: Any) -> None:
        self._pool.submit(fn, *args)

    def _run(self, exchange: dict[str, Any]) -> None:
        try:
            found = validate_exchange(**exchange)
        except Exception as exc:  # a crash in validation is itself worth reporting
            found = [ContractError("validator", exchange["method"], exchange["path"], None, repr(exc))]
        self.checked += 1
        self.errors.extend(found)

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait until every queued exchange has been validated."""
        if self.enabled:
            await asyncio.wait_for(asyncio.wrap_future(self._pool.submit(lambda: None)), timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
