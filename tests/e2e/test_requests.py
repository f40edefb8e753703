"""Requests end to end: the real bot and worker against fake Overseerr, plex.tv and Discord."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from tests.e2e.conftest import WEBHOOK_SECRET, Stack, link_as
from tests.fakes.base import wait_for
from tests.fakes.discord.models import FakeChannel, FakeUser
from tests.fakes.discord.process import BotProcess
from tests.fakes.overseerr.constants import Permission


async def route(stack: Stack, topic: str, channel: FakeChannel) -> None:
    reply = await (
        await stack.discord.slash(
            stack.admin,
            "admin notify route",
            guild=stack.guild,
            channel=stack.channel,
            topic=topic,
            options={"channel": channel},
        )
    ).wait_reply()
    assert "Saved" in reply.embeds[0]["title"], reply.embeds


def dm_titles(stack: Stack, user: FakeUser) -> list[str]:
    """DM embed titles without the tone icon in front."""
    return [m.embeds[0]["title"].split(" ", 1)[1] for m in stack.discord.dms(user) if m.embeds]


async def request_movie(stack: Stack, user: FakeUser, tmdb_id: int, **extra: object):
    interaction = await stack.discord.slash(
        user, "request movie", guild=stack.guild, channel=stack.channel, title=f"movie:{tmdb_id}", **extra
    )
    return await interaction.wait_reply(timeout=10)


async def start(stack: Stack, **env: object) -> BotProcess:
    bot = await stack.start_bot(**env)
    stack.hook_overseerr(bot)
    return bot


async def test_search_pick_request_card_approve_available_with_one_dm_each(stack: Stack) -> None:
    stack.overseerr.add_movie(438631, "Dune", 2021, poster_path="/dune.jpg", overview="Spice. " * 200)
    stack.overseerr.add_movie(693134, "Dune: Part Two", 2024)
    approvals = stack.discord.create_channel(stack.guild, "approvals")
    await start(stack)
    await route(stack, "approval_needed", approvals)
    await link_as(stack, stack.alice, "alice_plex")
    await link_as(stack, stack.bob, "bob_plex")
    alice_in_overseerr = next(u for u in stack.overseerr.users if u.plex_username == "alice_plex")
    assert alice_in_overseerr.settings is not None and alice_in_overseerr.settings.discord_id == str(stack.alice.id)

    choices = await stack.discord.autocomplete(
        stack.alice, "search", guild=stack.guild, channel=stack.channel, focused="query", query="Dune"
    )
    assert [c["name"] for c in choices][:2] == ["Dune (2021) · movie", "Dune: Part Two (2024) · movie"]
    search = await stack.discord.slash(stack.alice, "search", guild=stack.guild, channel=stack.channel, query="Dune")
    results = await search.wait_reply(timeout=10)
    assert results.ephemeral and results.embeds[0]["title"].endswith("Dune (2021)")
    assert len(results.embeds[0]["description"]) <= 300 and results.embeds[0]["thumbnail"]["url"].endswith("/dune.jpg")
    assert {"name": "On our server", "value": "not requested", "inline": True} in results.embeds[0]["fields"]
    pick = await stack.discord.select(stack.alice, results, "pick", ["movie:438631"])
    details = await search.wait_edit(
        lambda m: any(c.get("custom_id") == "request" for r in m.components for c in r["components"])
    )
    click = await stack.discord.click(stack.alice, details, "request")
    done = await search.wait_edit(lambda m: "Requested: Dune (2021)" in m.embeds[0]["title"], timeout=10)
    assert "Waiting for an admin" in done.embeds[0]["description"]
    assert pick and click

    card = await stack.discord.wait_for_message(
        approvals, lambda m: m.embeds and "Approval needed" in m.embeds[0]["title"]
    )
    assert f"<@{stack.alice.id}>" in card.embeds[0]["description"] and card.pinged_user_ids == []
    (overseerr_request,) = stack.overseerr.media_requests
    assert overseerr_request.requested_by.plex_username == "alice_plex"  # made as alice, not as the admin

    # bob wants it too
    dup = await request_movie(stack, stack.bob, 438631)
    assert (
        "DUPLICATE_REQUEST" in dup.embeds[0]["footer"]["text"]
        and f"<@{stack.alice.id}>" in dup.embeds[0]["description"]
    )
    notify = await stack.discord.click(
        stack.bob, dup, next(c["custom_id"] for r in dup.components for c in r["components"])
    )
    assert "notified" in (await notify.wait_reply()).embeds[0]["title"]

    approve = await stack.discord.click(
        stack.admin,
        card,
        next(c["custom_id"] for r in card.components for c in r["components"] if c["label"] == "Approve"),
    )
    decided = await approve.wait_reply(timeout=10)
    assert f"Approved by <@{stack.admin.id}>" in decided.embeds[0]["description"] and decided.components == []

    stack.overseerr.set_available(("movie", 438631))
    await stack.overseerr.webhooks_delivered()
    await stack.discord.wait_for_dm(stack.alice, lambda m: m.embeds and "Ready to watch" in m.embeds[0]["title"])
    await stack.discord.wait_for_dm(stack.bob, lambda m: m.embeds and "Ready to watch" in m.embeds[0]["title"])
    # webhooks for approval and availability both arrived, and nothing was sent twice
    assert {d.notification_type for d in stack.overseerr.webhooks} >= {
        "MEDIA_PENDING",
        "MEDIA_APPROVED",
        "MEDIA_AVAILABLE",
    }
    assert all(d.status == 200 for d in stack.overseerr.webhooks)
    assert dm_titles(stack, stack.alice) == ["Approved: Dune (2021)", "Ready to watch: Dune (2021)"]
    assert dm_titles(stack, stack.bob) == ["Approved: Dune (2021)", "Ready to watch: Dune (2021)"]
    timeline = await (
        await stack.discord.slash(stack.alice, "requests", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "approved <t:" in timeline.embeds[0]["description"] and "available <t:" in timeline.embeds[0]["description"]


async def test_request_made_in_overseerrs_web_ui_gets_a_card_and_dms(stack: Stack) -> None:
    stack.overseerr.add_movie(603, "The Matrix", 1999)
    approvals = stack.discord.create_channel(stack.guild, "approvals")
    await start(stack)
    await route(stack, "approval_needed", approvals)
    await link_as(stack, stack.alice, "alice_plex")
    alice = next(u for u in stack.overseerr.users if u.plex_username == "alice_plex")
    web_request = stack.overseerr.create_request_as(alice, "movie", 603)
    card = await stack.discord.wait_for_message(approvals, lambda m: m.embeds and "The Matrix" in m.embeds[0]["title"])
    assert "in Overseerr" in card.embeds[0]["description"]
    stack.overseerr.decline(web_request.id)
    await stack.discord.wait_for_dm(stack.alice, lambda m: m.embeds and "Declined" in m.embeds[0]["title"])
    edited = await stack.discord.wait_for_message(
        approvals, lambda m: m.id == card.id and "Declined" in m.embeds[0]["title"]
    )
    assert "in Overseerr" in edited.embeds[0]["description"]


async def test_tv_seasons_2_and_3_when_1_is_available_and_one_season_show(stack: Stack) -> None:
    stack.overseerr.add_tv(1399, "Game of Thrones", seasons=[(1, 10), (2, 10), (3, 10)], year=2011)
    stack.overseerr.set_available(("tv", 1399), seasons=[1])
    stack.overseerr.add_tv(2000, "Chernobyl", seasons=[(1, 5)], year=2019)
    await start(stack)
    await link_as(stack, stack.alice, "alice_plex")
    ask = await stack.discord.slash(
        stack.alice, "request tv", guild=stack.guild, channel=stack.channel, title="tv:1399"
    )
    picker = await ask.wait_reply(timeout=10)
    assert "Season 1**: available" in picker.embeds[0]["description"]
    select = picker.components[0]["components"][0]
    assert [o["value"] for o in select["options"]] == ["all", "2", "3"]
    await stack.discord.select(stack.alice, picker, "seasons", ["2", "3"])
    done = await ask.wait_edit(lambda m: "Requested" in m.embeds[0]["title"], timeout=10)
    assert "S2, S3" in done.embeds[0]["title"]
    (tv_request,) = [r for r in stack.overseerr.media_requests if r.media.tmdb_id == 1399]
    assert sorted(s.season_number for s in tv_request.seasons) == [2, 3]

    one = await (
        await stack.discord.slash(stack.alice, "request tv", guild=stack.guild, channel=stack.channel, title="tv:2000")
    ).wait_reply(timeout=10)
    assert "Requested: Chernobyl (2019)" in one.embeds[0]["title"]  # no picker for one season


async def test_twenty_at_once_make_one_overseerr_request(stack: Stack) -> None:
    stack.overseerr.add_movie(27205, "Inception", 2010)
    await start(stack, RATE_LIMIT_COMMANDS_PER_MINUTE=1000)
    members = [stack.discord.create_user(f"fan{i}") for i in range(20)]
    conn = await asyncpg.connect(stack.database_url)
    try:
        for i, member in enumerate(members):  # linked accounts, as /link would leave them
            stack.discord.add_member(stack.guild, member)
            account = stack.plex_tv.add_account(f"fan{i}", shared=[stack.pms])
            stack.overseerr.add_user(f"fan{i}", plex_id=account.id, permissions=Permission.REQUEST)
            await conn.execute(
                "INSERT INTO users (discord_id, plex_id, plex_uuid, plex_username, plex_token_encrypted) "
                "VALUES ($1, $2, $3, $4, $5)",
                member.id,
                account.id,
                account.uuid,
                f"fan{i}",
                b"\x01" + b"x" * 40,
            )
    finally:
        await conn.close()
    interactions = await asyncio.gather(
        *(
            stack.discord.slash(m, "request movie", guild=stack.guild, channel=stack.channel, title="movie:27205")
            for m in members
        )
    )
    replies = await asyncio.gather(*(i.wait_reply(timeout=20) for i in interactions))
    made = [r for r in replies if "Requested" in r.embeds[0]["title"]]
    refused = [r for r in replies if "DUPLICATE_REQUEST" in r.embeds[0].get("footer", {}).get("text", "")]
    assert (len(made), len(refused)) == (1, 19)
    assert len([r for r in stack.overseerr.media_requests if r.media.tmdb_id == 27205]) == 1


async def test_quota_csrf_4k_and_not_linked_refusals_say_what_to_do(stack: Stack) -> None:
    for tmdb, title in ((1, "One"), (2, "Two"), (3, "Three"), (4, "Four")):
        stack.overseerr.add_movie(tmdb, title, 2000)
    await start(stack, REQUEST_QUOTA_PER_DAY=2)
    not_linked = await request_movie(stack, stack.bob, 1)
    assert "UNAUTHORIZED" in not_linked.embeds[0]["footer"]["text"] and "/link" in not_linked.embeds[0]["description"]
    await link_as(stack, stack.alice, "alice_plex")
    no_4k = await request_movie(stack, stack.alice, 1, **{"4k": True})
    assert "INSUFFICIENT_PRIVILEGES" in no_4k.embeds[0]["footer"]["text"] and "4K" in no_4k.embeds[0]["description"]
    assert "Requested" in (await request_movie(stack, stack.alice, 1)).embeds[0]["title"]
    assert "Requested" in (await request_movie(stack, stack.alice, 2)).embeds[0]["title"]
    third = await request_movie(stack, stack.alice, 3)
    assert "QUOTA_EXCEEDED" in third.embeds[0]["footer"]["text"]
    assert "next one is free <t:" in third.embeds[0]["description"]
    quota = await (
        await stack.discord.slash(stack.alice, "quota", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "0 of 2 left" in quota.embeds[0]["fields"][0]["value"]

    stack.overseerr.set_csrf(True)
    await link_as(stack, stack.bob, "bob_plex")
    csrf = await request_movie(stack, stack.bob, 4)
    assert "CSRF" in csrf.embeds[0]["description"] and "Enable CSRF Protection" in csrf.embeds[0]["description"]


async def test_webhook_secret_missed_webhook_poll_and_overseerr_down(stack: Stack) -> None:
    stack.overseerr.add_movie(550, "Fight Club", 1999)
    bot = await start(stack)
    await stack.start_worker(OVERSEERR_POLL_SECONDS=2)
    await link_as(stack, stack.alice, "alice_plex")
    assert "Requested" in (await request_movie(stack, stack.alice, 550)).embeds[0]["title"]
    (remote,) = stack.overseerr.media_requests

    async with stack.web(bot) as web:
        forged = await web.post(
            "/webhooks/overseerr",
            headers={"Authorization": "Bearer wrong"},
            json={"notification_type": "MEDIA_APPROVED", "request": {"request_id": str(remote.id)}},
        )
        assert forged.status_code == 401
        garbage = await web.post("/webhooks/overseerr", headers={"Authorization": WEBHOOK_SECRET}, content=b"{nope")
        assert garbage.status_code == 400
        huge = await web.post("/webhooks/overseerr", headers={"Authorization": WEBHOOK_SECRET}, content=b"x" * 400_000)
        assert huge.status_code == 413
    conn = await asyncpg.connect(stack.database_url)
    try:
        assert await conn.fetchval("SELECT status FROM media_requests") == "pending"

        stack.overseerr.drop_next_webhooks(1)
        stack.overseerr.approve(remote.id)  # the webhook for this is lost
        await stack.discord.wait_for_dm(
            stack.alice, lambda m: m.embeds and "Approved" in m.embeds[0]["title"], timeout=20
        )
        sources = await conn.fetch("SELECT status, source FROM request_events ORDER BY created_at")
        assert [tuple(r) for r in sources] == [("pending", "discord"), ("approved", "poll")]
    finally:
        await conn.close()
    # another poll later changes nothing and sends nothing
    polls = len(stack.overseerr.calls("GET", "/api/v1/request"))
    await wait_for(
        lambda: len(stack.overseerr.calls("GET", "/api/v1/request")) > polls + 1, timeout=10, what="two more polls"
    )
    assert dm_titles(stack, stack.alice) == ["Approved: Fight Club (1999)"]

    await stack.overseerr.go_down()
    started = time.monotonic()
    down = await (
        await stack.discord.slash(stack.alice, "search", guild=stack.guild, channel=stack.channel, query="Matrix")
    ).wait_reply()
    assert time.monotonic() - started < 1.0
    assert "SERVICE_UNAVAILABLE" in down.embeds[0]["footer"]["text"]
    async with stack.web(bot) as web:
        for _ in range(3):
            await (
                await stack.discord.slash(
                    stack.alice, "search", guild=stack.guild, channel=stack.channel, query=f"Other {_}"
                )
            ).wait_reply()
        assert (await web.get("/readyz")).json()["circuits"]["overseerr"] == "open"
        assert 'medianest_circuit_open{integration="overseerr"} 1.0' in (await web.get("/metrics")).text
