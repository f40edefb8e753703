"""Linking, stale tokens and moderation in the account service, against the plex.tv and Plex fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.deps import Dependencies
from bot.errors import AppError, ErrorCode
from bot.notices import Notice
from bot.repositories import audit, users
from bot.services.accounts import AccountService, LinkEnd
from tests.fakes.base import wait_for
from tests.fakes.plex import FakePlexServer, FakePlexTv


class RecordingNotifier:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def notify(self, notice: Notice) -> bool:
        self.notices.append(notice)
        return True


@pytest.fixture
async def accounts(deps: Dependencies) -> AsyncIterator[tuple[AccountService, RecordingNotifier]]:
    notifier = RecordingNotifier()
    service = AccountService(
        pool=deps.pool,
        cipher=deps.cipher,
        plex_tv=deps.plex_tv,
        plex_server=deps.plex_server,
        notifier=notifier,
        limiter=deps.limiter,
        runtime=deps.runtime,
        admin_ids=frozenset({9}),
        app_url="https://app.plex.tv",
        poll_interval=0.05,
    )
    yield service, notifier


async def test_link_checks_server_access_encrypts_token_and_bootstraps_the_owner(
    accounts: tuple[AccountService, RecordingNotifier], plex_tv: FakePlexTv, pms: FakePlexServer, deps: Dependencies
) -> None:
    service, _ = accounts
    owner = plex_tv.add_account("owner", email="owner@example.com", owner_of=[pms])
    pending = await service.start_link(100)
    assert "clientID=" in pending.auth_url and "context%5Bdevice%5D%5Bproduct%5D=MediaNest" in pending.auth_url
    waiting = asyncio.create_task(service.wait_for_link(pending))
    pin = plex_tv.pins[pending.pin_id]
    await wait_for(lambda: len(pin.polls) >= 1, what="the first poll")
    token = plex_tv.authorize_pin(pending.pin_id, owner)
    outcome = await asyncio.wait_for(waiting, 5)
    assert outcome.end is LinkEnd.LINKED and outcome.user is not None
    assert (outcome.user.plex_username, outcome.user.role) == ("owner", "admin")
    stored = await deps.pool.fetchval("SELECT plex_token_encrypted FROM users WHERE discord_id = 100")
    assert token.encode() not in stored
    assert deps.cipher.decrypt(stored, owner=100) == token
    assert [e.action for e in await audit.for_target(deps.pool, "user", 100)] == ["account.link"]


async def test_account_without_access_is_refused_and_nothing_stored(
    accounts: tuple[AccountService, RecordingNotifier], plex_tv: FakePlexTv, deps: Dependencies
) -> None:
    service, _ = accounts
    stranger = plex_tv.add_account("stranger")
    pending = await service.start_link(101)
    waiting = asyncio.create_task(service.wait_for_link(pending))
    plex_tv.authorize_pin(pending.pin_id, stranger)
    with pytest.raises(AppError) as caught:
        await asyncio.wait_for(waiting, 5)
    assert caught.value.code is ErrorCode.INSUFFICIENT_PRIVILEGES
    assert "no access to this Plex server" in caught.value.message
    user = await users.get(deps.pool, 101)
    assert user is None or not user.is_linked


async def test_expiry_cancel_and_replacement_end_polling(
    accounts: tuple[AccountService, RecordingNotifier], plex_tv: FakePlexTv
) -> None:
    service, _ = accounts
    pending = await service.start_link(102)
    waiting = asyncio.create_task(service.wait_for_link(pending))
    plex_tv.expire_pin(pending.pin_id)
    assert (await asyncio.wait_for(waiting, 5)).end is LinkEnd.EXPIRED

    pending = await service.start_link(102)
    waiting = asyncio.create_task(service.wait_for_link(pending))
    await wait_for(lambda: len(plex_tv.pins[pending.pin_id].polls) >= 1, what="polling")
    assert service.cancel_link(102)
    assert (await asyncio.wait_for(waiting, 5)).end is LinkEnd.CANCELLED
    polls = len(plex_tv.pins[pending.pin_id].polls)

    first = await service.start_link(102)
    waiting = asyncio.create_task(service.wait_for_link(first))
    second = await service.start_link(102)
    assert (await asyncio.wait_for(waiting, 5)).end is LinkEnd.REPLACED
    assert second.pin_id != first.pin_id
    assert len(plex_tv.pins[pending.pin_id].polls) == polls  # the cancelled PIN is no longer polled


async def test_revoked_token_marks_link_stale_and_tells_the_user_once(
    accounts: tuple[AccountService, RecordingNotifier], plex_tv: FakePlexTv, pms: FakePlexServer, deps: Dependencies
) -> None:
    service, notifier = accounts
    kid = plex_tv.add_account("kid", shared=[pms])
    pending = await service.start_link(103)
    waiting = asyncio.create_task(service.wait_for_link(pending))
    token = plex_tv.authorize_pin(pending.pin_id, kid)
    assert (await asyncio.wait_for(waiting, 5)).end is LinkEnd.LINKED
    assert (await service.refresh_account(103)).username == "kid"
    plex_tv.revoke_token(token)
    for _ in range(2):
        with pytest.raises(AppError) as caught:
            await service.refresh_account(103)
        assert caught.value.code is ErrorCode.INVALID_TOKEN
    user = await users.get(deps.pool, 103)
    assert user is not None and user.plex_token_stale
    assert [n.title for n in notifier.notices] == ["Your Plex link needs renewing"]
    assert await service.unlink(103)
    assert (await users.get(deps.pool, 103)).plex_token_encrypted is None  # type: ignore[union-attr]


async def test_admin_checks_are_server_side(
    accounts: tuple[AccountService, RecordingNotifier], deps: Dependencies
) -> None:
    service, notifier = accounts
    await service.touch(200)
    with pytest.raises(AppError) as caught:
        await service.set_banned(200, 201, banned=True, reason="not an admin")
    assert caught.value.code is ErrorCode.INSUFFICIENT_PRIVILEGES
    banned = await service.set_banned(9, 201, banned=True, reason="spam")  # 9 is a configured admin
    assert banned.is_banned and banned.status_reason == "spam"
    with pytest.raises(AppError, match="cannot ban yourself"):
        await service.set_banned(9, 9, banned=True, reason="self")
    await service.set_role(9, 202, role="admin", reason="helper")
    with pytest.raises(AppError, match="Admins cannot be banned"):
        await service.set_banned(9, 202, banned=True, reason="nope")
    await service.set_banned(9, 201, banned=False, reason="sorry")
    actions = [e.action for e in await audit.for_target(deps.pool, "user", 201)]
    assert actions == ["user.unban", "user.ban"]
    assert [n.user_id for n in notifier.notices] == [201, 202, 201]
