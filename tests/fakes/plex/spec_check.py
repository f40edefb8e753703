"""Check JSON answers against the community Plex OpenAPI specs in /work/shared/specs.

"new" is plex-api-spec.yaml (PMS, /user, /resources); "old" is the 0.0.3 dereferenced
spec, the only one with the PIN endpoints. The files fail openapi-spec-validator (a
duplicated X-Plex-Client-Identifier parameter), so spec validation is switched off and
only the response schemas are used. Loading takes well under a second; it is cached.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SpecName = Literal["new", "old"]
SPEC_DIR = Path(os.environ.get("PLEX_SPEC_DIR", "/work/shared/specs"))
SPEC_FILES: dict[SpecName, str] = {
    "new": "plex-api-spec.yaml",
    "old": "plex-api-spec-0.0.3-dereferenced.yaml",
}
PLEX_TV = "https://plex.tv"
PMS = "http://127.0.0.1:32400"


def specs_available() -> bool:
    return all((SPEC_DIR / name).is_file() for name in SPEC_FILES.values())


@functools.cache
def load(name: SpecName) -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_DIR / SPEC_FILES[name]), config=Config(spec_validator_cls=None))


def validate_response(name: SpecName, method: str, path: str, status: int, body: bytes, host: str = PMS) -> None:
    """Raise openapi-core's error if `body` does not match the spec's response schema.

    `path` is as the spec's server sees it: "/identity" on PMS, "/api/v2/user" on plex.tv
    (pass host=PLEX_TV). The fake's own address does not matter.
    """
    request = MockRequest(host, method.lower(), path)
    response = MockResponse(body, status_code=status, content_type="application/json")
    load(name).validate_response(request, response)
