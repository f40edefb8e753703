"""Pytest fixtures for the fake Discord.

Import the fixture into a test module or conftest
(`from tests.fakes.discord.pytest_plugin import fake_discord`) or list this
module in `pytest_plugins` of the root conftest.

The fixture fails the test at teardown when the bot sent a body Discord's
OpenAPI spec rejects, when the fake answered with something the spec rejects,
or when the bot called a route the fake does not implement: each means the test
did not prove what it seems to prove.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from .api import FakeDiscord


async def assert_clean(fake: FakeDiscord) -> None:
    """Fail if the contract checker or the router found problems."""
    problems = await fake.problems()
    if problems:
        pytest.fail("fake Discord found problems:\n" + "\n".join(problems), pytrace=False)


@asynccontextmanager
async def running_fake_discord(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """Start a FakeDiscord (kwargs go to its constructor) and always stop it."""
    fake = FakeDiscord(**kwargs)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord; the test fails at teardown on contract errors."""
    async with running_fake_discord() as fake:
        yield fake
        await assert_clean(fake)
