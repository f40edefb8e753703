"""Pytest fixtures for `FakeOverseerr`.

Import them into a test module (or list this module in `pytest_plugins`):

    from tests.fakes.overseerr.pytest_plugin import fake_overseerr, make_fake_overseerr

Each fake is started on 127.0.0.1 and stopped after the test; the test then
fails if any request or response broke Overseerr's OpenAPI spec, so a client
cannot pass by sending something the real server would refuse. A test that
provokes contract errors on purpose consumes them with
`fake.take_contract_errors()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from .constants import Flavour
from .fake import FakeOverseerr

MakeFake = Callable[..., Awaitable[FakeOverseerr]]


def _fail_on_contract_errors(fakes: list[FakeOverseerr]) -> None:
    errors = [f"[{fake.flavour}] {error}" for fake in fakes for error in fake.contract_errors]
    if errors:
        pytest.fail("Overseerr contract violations:\n  " + "\n  ".join(errors), pytrace=False)


@pytest.fixture
async def make_fake_overseerr() -> AsyncIterator[MakeFake]:
    """A factory: `await make_fake_overseerr(flavour="seerr", api_key=...)` -> started fake."""
    fakes: list[FakeOverseerr] = []

    async def make(flavour: Flavour = "overseerr", **kwargs: object) -> FakeOverseerr:
        fake = FakeOverseerr(flavour, **kwargs)  # type: ignore[arg-type]
        await fake.start()
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        await fake.stop()
    _fail_on_contract_errors(fakes)


@pytest.fixture
async def fake_overseerr(make_fake_overseerr: MakeFake) -> FakeOverseerr:
    """A started Overseerr-flavoured fake, checked against the spec at teardown."""
    return await make_fake_overseerr("overseerr")
