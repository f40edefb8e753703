"""The one Overseerr client against each flavour of the fake: Overseerr, Jellyseerr and Seerr."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.errors import AppError
from bot.integrations.breaker import CircuitBreaker
from bot.integrations.overseerr import CSRF_HINT, OverseerrClient
from tests.fakes.overseerr.fake import FakeOverseerr


@pytest.fixture(params=["overseerr", "jellyseerr", "seerr"])
async def flavoured(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeOverseerr, OverseerrClient]]:
    fake = FakeOverseerr(flavour=request.param)
    await fake.start()
    client = OverseerrClient(base_url=fake.url, api_key=fake.api_key, timeout=5, breaker=CircuitBreaker("o"))
    yield fake, client
    await client.aclose()
    await fake.stop()
    assert not fake.contract_errors, fake.contract_errors


async def test_flavour_is_detected_and_the_discord_id_is_stored_where_it_belongs(
    flavoured: tuple[FakeOverseerr, OverseerrClient],
) -> None:
    fake, client = flavoured
    user = fake.add_user("kim", plex_id=4242, email="kim@example.com")
    assert await client.flavour() == fake.flavour
    found = await client.find_user_by_plex_id(4242)
    assert found is not None and found.id == user.id
    await client.set_discord_id(found.id, 123456789012345678)
    settings = fake.store.users[user.id].settings
    assert settings is not None
    if fake.flavour == "seerr":
        assert settings.discord_ids == ["123456789012345678"]
    else:
        assert settings.discord_id == "123456789012345678"


async def test_csrf_setting_is_read_from_the_right_place_and_explained(
    flavoured: tuple[FakeOverseerr, OverseerrClient],
) -> None:
    fake, client = flavoured
    fake.add_movie(11, "Star Wars", 1977)
    user = fake.add_user("lee", plex_id=77)
    assert await client.csrf_protection() is False
    fake.set_csrf(True)
    assert await client.csrf_protection() is True
    with pytest.raises(AppError) as caught:
        await client.create_request(as_user=user.id, media_type="movie", tmdb_id=11, is_4k=False)
    assert caught.value.message == CSRF_HINT


async def test_user_list_is_paged_through_to_find_a_late_user(
    flavoured: tuple[FakeOverseerr, OverseerrClient],
) -> None:
    fake, client = flavoured
    for i in range(130):
        fake.add_user(f"user{i}", plex_id=10_000 + i)
    found = await client.find_user_by_plex_id(10_129)
    assert found is not None and found.plex_id == 10_129
    assert await client.find_user_by_plex_id(99) is None
