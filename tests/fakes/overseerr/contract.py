"""Checking traffic against Overseerr's OpenAPI spec.

Every request the fake receives and every JSON response it sends is validated
with openapi-core against the upstream spec, presented under the spec's own
server URL (`http://localhost:5055/api/v1`). Mismatches are collected as
`ContractError`s so a test fails when the client sends what Overseerr would
refuse, or when the fake drifts from what real clients rely on.

Real Overseerr also validates requests against this spec (express-openapi-validator
runs before its routes), so `enforcement()` turns a request mismatch into the
answer Overseerr gives: 401 without credentials, 404/405 for unknown paths or
methods, 400 otherwise.

The spec is wrong in a few places about what Overseerr actually returns; those
are the narrow, commented `ALLOW_LIST` entries below.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import SecurityValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .constants import Flavour

SPECS_DIR = Path(os.environ.get("MEDIANEST_SPECS_DIR", "/work/shared/specs"))

#: Jellyseerr's spec is a superset of Overseerr's; Seerr's own spec is not available here,
#: so the Seerr flavour is checked against Jellyseerr's, its direct ancestor.
SPEC_FILES: dict[Flavour, str] = {
    "overseerr": "overseerr-api.yml",
    "jellyseerr": "jellyseerr-api.yml",
    "seerr": "jellyseerr-api.yml",
}


@dataclass(frozen=True)
class ContractError:
    """One mismatch between traffic and the spec."""

    direction: str  # "request" or "response"
    method: str
    path: str
    route: str
    status: int | None
    error: str

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        return f"{self.direction} {self.method} {self.path} [{self.route}]{status}: {self.error}"


@dataclass(frozen=True)
class AllowRule:
    """A place where real Overseerr departs from its spec, so the fake may too.

    A schema error is forgiven when the spec route, the JSON path of the field
    (`results/0/username`) and the failing keyword all match, and, with
    `only_null`, the offending value is null.
    """

    reason: str
    route: str
    field: str
    validator: str = "type"
    only_null: bool = True

    def allows(self, route: str, field: str, error: SchemaError) -> bool:
        if error.validator != self.validator:
            return False
        if self.only_null and error.instance is not None:
            return False
        return bool(re.fullmatch(self.route, route) and re.fullmatch(self.field, field))


ALLOW_LIST: tuple[AllowRule, ...] = (
    AllowRule(
        # server/entity/User.ts: `username` and `plexUsername` are nullable columns. A
        # Plex user has no local username until one is set, a local user no Plex name.
        reason="User.username / User.plexUsername are null in real responses",
        route=r".*",
        field=r"(.*/)?(username|plexUsername)",
    ),
    AllowRule(
        # server/entity/MediaRequest.ts: serverId, profileId and rootFolder are nullable
        # columns, left null unless the requester picked a non-default server.
        reason="MediaRequest.serverId / profileId / rootFolder are null unless overridden",
        route=r".*",
        field=r"(.*/)?(serverId|profileId|rootFolder)",
    ),
    AllowRule(
        # TMDB answers null for titles without art and Overseerr passes it through
        # (server/models/Movie.ts, Tv.ts map poster_path/backdrop_path unchanged).
        reason="posterPath / backdropPath are null for titles without art",
        route=r"/(movie/\{movieId\}|tv/\{tvId\}|search)",
        field=r"(.*/)?(posterPath|backdropPath)",
    ),
    AllowRule(
        # server/routes/user/index.ts: GET /user and GET /user/{id} apply User.filter()
        # (drops email and plexId) for callers without MANAGE_USERS, and
        # import-from-plex always returns User.filterMany(createdUsers) without them.
        reason="User.email is left out for non-managers and by import-from-plex",
        route=r"/user(/\{userId\}|/import-from-plex)?",
        field=r"((results/)?\d+/)?email",
        validator="required",
        only_null=False,
    ),
)

#: Undocumented response statuses Overseerr really sends, by (method, route).
ALLOWED_STATUSES: dict[tuple[str, str], set[int]] = {
    # MediaRequest.request throws NoSeasonsAvailableError, answered 202 with
    # {"message": "No seasons available to request"} (server/routes/request.ts).
    ("post", "/request"): {202},
}


@dataclass
class LoadedSpec:
    api: OpenAPI
    host_url: str
    base_path: str
    routes: list[tuple[re.Pattern[str], str]]


@functools.cache
def load_spec(flavour: Flavour) -> LoadedSpec:
    """Parse and index a spec once per process (it takes about a second)."""
    path = SPECS_DIR / SPEC_FILES[flavour]
    spec = yaml.safe_load(path.read_text())
    server = spec["servers"][0]
    url = server["url"]
    for name, var in server.get("variables", {}).items():
        url = url.replace("{" + name + "}", var["default"])
    parts = urlsplit(url)
    routes = []
    for template in spec["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", r"[^/]+", re.escape(template))
        routes.append((re.compile(pattern + r"/?"), template))
    # Literal segments win over parameters (/request/count before /request/{requestId}).
    routes.sort(key=lambda item: (item[1].count("{"), -len(item[1])))
    return LoadedSpec(
        api=OpenAPI.from_dict(spec),
        host_url=f"{parts.scheme}://{parts.netloc}",
        base_path=parts.path.rstrip("/"),
        routes=routes,
    )


@dataclass
class SpecRequest:
    """A request as openapi-core sees it, moved under the spec's server URL."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class SpecResponse:
    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers


@dataclass
class Problem:
    """One spec violation: the reporting exception class, a full text for the
    contract log, a short `summary` for the 400 body, and per-field detail."""

    kind: type[Exception]
    text: str
    summary: str
    detail: list[dict[str, str]]


def _field(error: SchemaError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.match(r"'(.+?)' is a required property", error.message)
        if missing:
            parts.append(missing.group(1))
    return "/".join(parts)


class ContractChecker:
    """Validates one fake's traffic and keeps the errors."""

    def __init__(self, flavour: Flavour, allow: Iterable[AllowRule] = ALLOW_LIST) -> None:
        self.flavour = flavour
        self.allow = tuple(allow)
        self.errors: list[ContractError] = []

    @property
    def spec(self) -> LoadedSpec:
        return load_spec(self.flavour)

    def route_of(self, path: str) -> str:
        """The spec's path template for an `/api/v1/...` path, or "?" when it has none."""
        spec = self.spec
        local = path[len(spec.base_path) :] if path.startswith(spec.base_path) else path
        for pattern, template in spec.routes:
            if pattern.fullmatch(local):
                return template
        return "?"

    def _request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | Iterable[tuple[str, str]],
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> SpecRequest:
        items = list(query.items()) if isinstance(query, Mapping) else list(query)
        return SpecRequest(
            host_url=self.spec.host_url,
            path=path,
            method=method.lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(items),
                header=Headers(list(headers.items())),
                cookie=ImmutableMultiDict(list(cookies.items())),
            ),
            body=body or None,
            content_type=content_type if body else "",
        )

    def _allowed(self, route: str, error: SchemaError) -> bool:
        """Allowed by a rule, or an anyOf/oneOf with a branch whose every failure is allowed.

        The second case matters for `MediaRequest.modifiedBy` (a User or null): a
        user whose `username` is null fails the User branch only by that null.
        """
        if any(rule.allows(route, _field(error), error) for rule in self.allow):
            return True
        if error.validator in ("anyOf", "oneOf") and error.context:
            branches: dict[Any, list[SchemaError]] = {}
            for sub in error.context:
                branches.setdefault(sub.relative_schema_path[0], []).append(sub)
            return any(all(self._allowed(route, sub) for sub in subs) for subs in branches.values())
        return False

    def _problems(self, route: str, errors: Iterable[Exception]) -> list[Problem]:
        problems = []
        for exc in errors:
            schema_errors: tuple[SchemaError, ...] = getattr(exc.__cause__, "schema_errors", None) or ()
            if schema_errors:
                kept = [e for e in schema_errors if not self._allowed(route, e)]
                if not kept:
                    continue
                # express-openapi-validator style locations: /body/x, /query/take, /path/userId.
                where = getattr(exc, "location", None) or (
                    "body" if "body" in type(exc).__name__.lower() else "response"
                )
                name = getattr(exc, "name", None)
                prefix = f"/{where}" + (f"/{name}" if name else "")
                detail = [{"path": f"{prefix}/{_field(e)}".rstrip("/"), "message": e.message} for e in kept]
                summary = ", ".join(f"request{d['path']} {d['message']}" for d in detail)
                text = f"{type(exc).__name__}: " + "; ".join(f"{d['path']}: {d['message']}" for d in detail)
                problems.append(Problem(type(exc), text, summary, detail))
            else:
                cause = f" ({exc.__cause__!r})" if exc.__cause__ is not None else ""
                problems.append(Problem(type(exc), f"{exc}{cause}", str(exc), [{"path": route, "message": str(exc)}]))
        return problems

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | Iterable[tuple[str, str]],
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> list[Problem]:
        """Validate one incoming request; record and return what is wrong with it."""
        request = self._request(method, path, query, headers, cookies, body, content_type)
        route = self.route_of(path)
        problems = self._problems(route, self.spec.api.iter_request_errors(request))
        for p in problems:
            self.errors.append(ContractError("request", method.upper(), path, route, None, p.text))
        return problems

    def check_response(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | Iterable[tuple[str, str]],
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        body: bytes,
        content_type: str,
        status: int,
        response_body: bytes | None,
        response_content_type: str,
    ) -> list[Problem]:
        """Validate one outgoing response; undocumented error statuses are skipped.

        Overseerr's spec documents success bodies only; its errors all come from
        the Express error handler as `{"message": ..., "errors": ...}`.
        """
        request = self._request(method, path, query, headers, cookies, body, content_type)
        route = self.route_of(path)
        response = SpecResponse(
            status_code=status,
            data=response_body,
            content_type=response_content_type,
            headers=Headers({"Content-Type": response_content_type}) if response_content_type else Headers(),
        )
        errors = []
        for exc in self.spec.api.iter_response_errors(request, response):
            if isinstance(exc, ResponseNotFound) and (
                status >= 400 or status in ALLOWED_STATUSES.get((method.lower(), route), set())
            ):
                continue
            if isinstance(exc, (PathNotFound, OperationNotFound)):
                continue  # already reported against the request
            errors.append(exc)
        problems = self._problems(route, errors)
        for p in problems:
            self.errors.append(ContractError("response", method.upper(), path, route, status, p.text))
        return problems


def enforcement(path: str, problems: list[Problem], method: str) -> tuple[int, dict[str, Any]] | None:
    """The answer express-openapi-validator gives Overseerr's clients for these problems.

    Path and method come first, then security (a missing `X-Api-Key` with no
    session cookie: the first scheme's message, "cookie 'connect.sid' required"),
    then parameters and body.
    """
    if not problems:
        return None
    kinds = [p.kind for p in problems]
    if PathNotFound in kinds:
        return 404, {"message": "not found", "errors": [{"path": path, "message": "not found"}]}
    if OperationNotFound in kinds:
        text = f"{method.upper()} method not allowed"
        return 405, {"message": text, "errors": [{"path": path, "message": text}]}
    if SecurityValidationError in kinds:
        text = "cookie 'connect.sid' required"
        return 401, {"message": text, "errors": [{"path": path, "message": text}]}
    detail = [d for p in problems for d in p.detail]
    return 400, {"message": ", ".join(p.summary for p in problems), "errors": detail}
