"""Proof that the fake Discord behaves like Discord for a real discord.py bot.

One bare bot process (tests/bench/bare_bot.py) logs into one fake for the whole
module; each test drives it the way a user would and asserts on what the user
(and the bot) would see. After every test the contract checker and the router
must have found nothing, so a passing test also proves every request and reply
matched Discord's OpenAPI spec.
"""

from __future__ import annotations

import asyncio
import json
import sys
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.base import wait_for
from tests.fakes.discord import (
    BotProcess,
    CommandSchemaError,
    ComponentError,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeUser,
    InteractionFailed,
    validate_exchange,
)
from tests.fakes.discord.gateway import Gateway
from tests.fakes.discord.pytest_plugin import fake_discord, running_fake_discord  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

BARE_BOT = [sys.executable, str(Path(__file__).resolve().parents[1] / "bench" / "bare_bot.py")]
COMMANDS = [
    "ping",
    "slow",
    "pick",
    "buttons",
    "choose",
    "form",
    "secret",
    "late",
    "dm",
    "search",
    "upload",
    "announce",
    "admin",
]


@dataclass
class World:
    fake: FakeDiscord
    bot: BotProcess
    guild: FakeGuild
    general: FakeChannel
    alice: FakeUser  # an admin
    bob: FakeUser  # a plain member


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    # A short heartbeat so the HEARTBEAT/ACK path runs all the time, not once per connection.
    async with running_fake_discord(heartbeat_interval_ms=1000) as fake:
        guild = fake.create_guild("Home")
        general = fake.create_channel(guild, "general")
        admins = fake.create_role(guild, "Admins", permissions=8)
        alice, bob = fake.create_user("alice"), fake.create_user("bob")
        fake.add_member(guild, alice, roles=[admins])
        fake.add_member(guild, bob)
        log = tmp_path_factory.mktemp("bare-bot") / "bot.log"
        bot = BotProcess(BARE_BOT, fake, env={"BARE_BOT_GUILD_ID": str(guild.id)}, log_path=log)
        await bot.start()
        try:
            await fake.wait_for_commands(COMMANDS)
            await fake.wait_for_commands(["guildping"], guild=guild)
            yield World(fake, bot, guild, general, alice, bob)
        finally:
            await bot.stop()


@pytest.fixture(autouse=True)
async def no_contract_problems(world: World) -> AsyncIterator[None]:
    """Each test must leave the bot running, no contract mismatch and no call to a missing route."""
    yield
    if world.bot.returncode is not None:
        pytest.fail(f"the bot exited with {world.bot.returncode}:\n{world.bot.log_tail()}", pytrace=False)
    problems = await world.fake.problems()
    world.fake.contract.errors.clear()
    world.fake.rest.unimplemented.clear()
    world.fake.rest.crashes.clear()
    if problems:
        pytest.fail("fake Discord found problems:\n" + "\n".join(problems), pytrace=False)


def auth(fake: FakeDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {fake.bot_token}"}


# ----- login and commands ------------------------------------------------------------
async def test_bot_logs_in_syncs_commands_and_ping_answers(world: World) -> None:
    fake = world.fake
    paths = [(r.method, r.path) for r in fake.requests]
    assert ("GET", "/api/v10/users/@me") in paths
    assert ("GET", "/api/v10/oauth2/applications/@me") in paths
    assert ("GET", "/api/v10/gateway/bot") not in paths  # a non-sharded bot never asks
    assert fake.gateway_stats.identifies == 1
    assert {c["name"] for c in fake.registered_commands()} == set(COMMANDS)
    assert [c["name"] for c in fake.registered_commands(world.guild)] == ["guildping"]

    resp = await fake.slash(world.alice, "ping", guild=world.guild)
    msg = await resp.wait_reply()
    assert msg.content == "pong"
    assert msg.author is fake.bot and msg.channel_id == world.general.id
    assert msg.interaction_metadata is not None and msg.interaction_metadata["user"]["id"] == str(world.alice.id)
    assert resp.ack_latency is not None and resp.ack_latency < 3

    guild_resp = await fake.slash(world.bob, "guildping", channel=world.general)
    assert (await guild_resp.wait_reply()).content == "guild pong"


async def test_commands_work_in_dms_but_guild_commands_do_not(world: World) -> None:
    resp = await world.fake.slash(world.alice, "ping")  # no guild, no channel: the DM
    msg = await resp.wait_reply()
    assert msg.content == "pong" and msg.guild_id is None
    assert "member" not in resp.payload and resp.payload["user"]["id"] == str(world.alice.id)
    with pytest.raises(CommandSchemaError, match="not registered"):
        await world.fake.slash(world.alice, "guildping")
    with pytest.raises(CommandSchemaError, match="not available in DMs"):
        await world.fake.slash(world.alice, "announce", target=world.general, text="x")


async def test_options_are_checked_against_the_registered_schema(world: World) -> None:
    fake, alice, guild = world.fake, world.alice, world.guild
    before = len(fake.interactions.all)
    bad_calls: list[tuple[dict[str, Any], str]] = [
        ({"kind": "movie", "count": "3"}, "needs a int"),  # wrong type
        ({"kind": "movie"}, "required option 'count' is missing"),
        ({"kind": "book", "count": 1}, "is not one of"),  # not a choice
        ({"kind": "tv", "count": 11}, r"outside \[1, 10\]"),  # max_value
        ({"kind": "tv", "count": 2, "colour": "red"}, "unknown option"),
        ({"kind": "tv", "count": 2, "who": "bob"}, "cannot take"),  # a user option needs a user
    ]
    for kwargs, error in bad_calls:
        with pytest.raises(CommandSchemaError, match=error):
            await fake.slash(alice, "pick", guild=guild, options=kwargs)
    with pytest.raises(CommandSchemaError, match="not registered"):
        await fake.slash(alice, "nope", guild=guild)
    with pytest.raises(CommandSchemaError, match="subcommand group cannot be invoked"):
        await fake.slash(alice, "admin user", guild=guild)
    with pytest.raises(CommandSchemaError, match="bob cannot see /admin"):
        await fake.slash(world.bob, "admin user ban", guild=guild, user=alice)
    assert len(fake.interactions.all) == before, "a refused invocation must not reach the bot"

    resp = await fake.slash(alice, "pick", guild=guild, kind="tv", count=3, who=world.bob)
    msg = await resp.wait_reply()
    assert msg.content == f"kind=tv count=3 who=<@{world.bob.id}>"
    assert msg.pinged_user_ids == [], "AllowedMentions.none() must not ping bob"


async def test_subcommand_group_and_ephemeral_reply(world: World) -> None:
    resp = await world.fake.slash(world.alice, "admin user ban", guild=world.guild, user=world.bob, reason="spam")
    msg = await resp.wait_reply()
    assert msg.content == "banned bob: spam"
    assert msg.flags & 64
    assert msg not in world.fake.channel_messages(world.general)

    secret = await (await world.fake.slash(world.bob, "secret", guild=world.guild)).wait_reply()
    assert secret.ephemeral and secret.embeds[0]["title"] == "Secret"


async def test_deferred_reply_is_filled_by_edit_or_first_followup(world: World) -> None:
    fake = world.fake
    resp = await fake.slash(world.alice, "slow", guild=world.guild)
    assert await resp.wait_ack() == 5
    msg = await resp.wait_edit(lambda m: m.content == "slow done")
    assert msg is resp.original and not msg.loading and msg.edits[0]["flags"] & 128  # was "thinking"
    assert msg.edited_timestamp is None  # filling a deferral is not an "(edited)" edit

    via = await fake.slash(world.alice, "slow", guild=world.guild, via="followup")
    filled = await via.wait_reply()
    assert filled.content == "slow done via followup"
    assert filled is via.original and via.followups == []


# ----- components, modals, autocomplete ------------------------------------------------------
async def test_button_click_round_trip(world: World) -> None:
    fake, alice = world.fake, world.alice
    msg = await (await fake.slash(alice, "buttons", guild=world.guild)).wait_reply()
    assert sorted(msg.custom_ids()) == ["bare:no", "bare:off", "bare:yes"]
    with pytest.raises(ComponentError, match="disabled"):
        await fake.click(alice, msg, "bare:off")
    with pytest.raises(ComponentError, match="no component"):
        await fake.click(alice, msg, "bare:maybe")

    no = await fake.click(world.bob, msg, "bare:no")
    answer = await no.wait_reply()
    assert answer.content == "you said no" and answer.ephemeral and answer is not msg
    with pytest.raises(ComponentError, match="ephemeral"):
        await fake.click(alice, answer, "whatever")

    yes = await fake.click(alice, msg, "bare:yes")
    updated = await yes.wait_reply()
    assert updated is msg and yes.callback_type == 7
    assert msg.content == "clicked yes" and msg.components == []
    assert msg.edits and msg.edits[-1]["content"] == "press one"

    again = await (await fake.slash(alice, "buttons", guild=world.guild)).wait_reply()
    fake.delete_message(again)  # a moderator removes it; the bot gets MESSAGE_DELETE
    with pytest.raises(ComponentError, match="no longer exists"):
        await fake.click(alice, again, "bare:yes")


async def test_select_round_trip(world: World) -> None:
    fake = world.fake
    msg = await (await fake.slash(world.alice, "choose", guild=world.guild)).wait_reply()
    with pytest.raises(ComponentError, match="no option"):
        await fake.select(world.alice, msg, "bare:sel", ["z"])
    with pytest.raises(ComponentError, match=r"takes 1\.\.2 values"):
        await fake.select(world.alice, msg, "bare:sel", ["a", "b", "c"])
    pick = await fake.select(world.alice, msg, "bare:sel", ["a", "c"])
    assert (await pick.wait_reply()).content == "picked a,c"


async def test_modal_round_trip(world: World) -> None:
    fake = world.fake
    opened = await fake.slash(world.alice, "form", guild=world.guild)
    modal = await opened.wait_modal()
    assert modal["title"] == "Tell us why"
    with pytest.raises(ComponentError, match="'reason' is required"):
        await fake.submit_modal(world.alice, opened, {"extra": "only extra"})
    with pytest.raises(ComponentError, match="no field"):
        await fake.submit_modal(world.alice, opened, {"reason": "x", "age": "3"})
    submitted = await fake.submit_modal(world.alice, opened, {"reason": "because", "extra": "more"})
    assert (await submitted.wait_reply()).content == "reason=because extra=more"


async def test_autocomplete_returns_choices(world: World) -> None:
    choices = await world.fake.autocomplete(world.alice, "search", guild=world.guild, focused="query", query="Du")
    assert [c["name"] for c in choices] == ["Dune", "Dune: Part Two", "Dunkirk"]
    with pytest.raises(CommandSchemaError, match="has no autocomplete"):
        await world.fake.autocomplete(world.alice, "pick", guild=world.guild, focused="kind", kind="m")


# ----- messages, files, DMs --------------------------------------------------------------
async def test_uploaded_file_bytes_are_kept_and_served(world: World) -> None:
    msg = await (await world.fake.slash(world.alice, "upload", guild=world.guild)).wait_reply()
    att = msg.attachment("report.txt")
    assert att.data == b"hello attachment"
    async with aiohttp.ClientSession() as http, http.get(att.url) as got:
        assert got.status == 200 and await got.read() == b"hello attachment"


async def test_channel_message_is_posted_pinned_and_pings_nobody(world: World) -> None:
    fake = world.fake
    text = f"movie night @everyone {world.bob.mention}"
    resp = await fake.slash(world.alice, "announce", guild=world.guild, target=world.general, text=text)
    assert (await resp.wait_reply()).content.startswith("posted ")
    posted = await fake.wait_for_message(world.general, lambda m: m.content == text)
    assert posted.pinned
    assert posted.allowed_mentions == {"parse": []}
    assert posted.pinged_user_ids == [] and posted.pinged_role_ids == [] and not posted.pinged_everyone


async def test_dm_reaches_open_user_and_closed_dms_give_50007(world: World) -> None:
    fake = world.fake
    resp = await fake.slash(world.alice, "dm", guild=world.guild)
    assert (await resp.wait_reply()).content == "sent you a DM"
    dm = await fake.wait_for_dm(world.alice, lambda m: "hello" in m.content)
    assert dm.content == "hello from bare bot" and dm.guild_id is None

    fake.close_dms(world.bob)
    refused = await fake.slash(world.bob, "dm", guild=world.guild)
    assert (await refused.wait_reply()).content == "dm failed: 50007"
    assert fake.dms(world.bob) == []


# ----- gateway resilience ------------------------------------------------------------------
async def test_heartbeats_are_acknowledged(world: World) -> None:
    stats = world.fake.gateway_stats
    seen, connections = stats.heartbeats, stats.connections
    await wait_for(lambda: stats.heartbeats >= seen + 1, 5, what="a heartbeat at the 1 s interval")
    assert stats.connections == connections  # ACKed, so the bot kept its connection


async def test_reconnect_resumes_without_identify(world: World) -> None:
    fake = world.fake
    stats = fake.gateway_stats
    identifies, resumes = stats.identifies, stats.resumes
    fake.send_reconnect()
    await wait_for(lambda: stats.resumes == resumes + 1, 10, what="RESUME after RECONNECT")
    assert stats.identifies == identifies
    assert stats.paths[-1] == Gateway.RESUME_PATH  # it used READY's resume_gateway_url
    assert (await (await fake.slash(world.alice, "ping", guild=world.guild)).wait_reply()).content == "pong"


async def test_events_missed_while_disconnected_are_replayed(world: World) -> None:
    fake = world.fake
    stats = fake.gateway_stats
    resumes, replayed = stats.resumes, stats.replayed
    fake.drop_connection(4000)
    resp = await fake.slash(world.alice, "ping", guild=world.guild)  # sent while the bot is away
    assert (await resp.wait_reply()).content == "pong"
    assert stats.resumes == resumes + 1
    assert stats.replayed > replayed


async def test_invalid_session_forces_a_new_identify(world: World) -> None:
    fake = world.fake
    stats = fake.gateway_stats
    identifies, resumes = stats.identifies, stats.resumes
    old = fake.gateway.active_session
    fake.send_invalid_session(resumable=False)
    # discord.py waits 5 s before any non-initial IDENTIFY (Client.before_identify_hook).
    await wait_for(lambda: stats.identifies == identifies + 1 and fake.bot_ready, 15, what="a fresh IDENTIFY")
    assert stats.resumes == resumes
    assert fake.gateway.active_session is not old
    assert (await (await fake.slash(world.alice, "ping", guild=world.guild)).wait_reply()).content == "pong"


async def test_privileged_intents_chunking_and_message_replies(tmp_path: Path) -> None:
    async with running_fake_discord() as fake:
        guild = fake.create_guild("Club")
        chan = fake.create_channel(guild, "lobby")
        alice = fake.create_user("alice")
        fake.add_member(guild, alice)
        bot = BotProcess(BARE_BOT, fake, env={"BARE_BOT_PRIVILEGED": "1"}, log_path=tmp_path / "bot.log")
        await bot.start()
        try:
            stats = fake.gateway_stats
            assert stats.intents[-1] & (1 << 1) and stats.intents[-1] & (1 << 15)  # members, message content
            # GUILD_CREATE without the presences intent lists only the bot, so discord.py must chunk.
            await wait_for(lambda: stats.member_requests >= 1, 5, what="REQUEST_GUILD_MEMBERS")
            await wait_for(lambda: "with 3 member(s)" in bot.log_text(), 10, what="on_ready after chunking")

            hello = fake.post_message(alice, chan, "!hi")
            reply = await fake.wait_for_message(chan, lambda m: m.author is fake.bot)
            assert reply.content == f"hi {alice.mention}" and reply.type == 19
            assert reply.message_reference is not None and reply.message_reference["message_id"] == str(hello.id)
            assert reply.pinged_user_ids == [alice.id]  # a reply with no allowed_mentions pings
        finally:
            await bot.stop()
        assert await fake.problems() == []


# ----- Discord's rules ---------------------------------------------------------------------
async def test_rate_limited_callback_is_retried_by_the_bot(world: World) -> None:
    fake = world.fake
    fake.rate_limit_next("POST", "/interactions/{id}/{token}/callback", n=1, retry_after=0.5)
    resp = await fake.slash(world.alice, "ping", guild=world.guild)
    assert (await resp.wait_reply()).content == "pong"
    hit = fake.rate_limit_hits[-1]
    assert hit.scope == "forced" and hit.path.endswith("/callback") and str(resp.id) in hit.path
    assert resp.ack_latency is not None and resp.ack_latency >= 0.5


async def test_answer_after_three_seconds_fails_with_10062(world: World) -> None:
    fake = world.fake
    resp = await fake.slash(world.alice, "late", guild=world.guild)
    with pytest.raises(InteractionFailed, match="10062"):
        await resp.wait_reply(timeout=6)
    await wait_for(lambda: resp.bot_errors, 6, what="the bot's late callback")
    assert resp.bot_errors[0].code == 10062 and not resp.acknowledged
    await wait_for(lambda: "late failed: 404 10062" in world.bot.log_text(), 5, what="the bot to see 10062")


async def test_second_initial_response_is_40060(world: World) -> None:
    fake = world.fake
    resp = await fake.slash(world.alice, "ping", guild=world.guild)
    await resp.wait_reply()
    url = f"{fake.api_base}/interactions/{resp.id}/{resp.token}/callback"
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": 4, "data": {"content": "again"}}) as r:
        body = await r.json(content_type=None)
    assert r.status == 400 and body["code"] == 40060
    assert r.headers["Content-Type"] == "application/json"


async def test_rest_errors_auth_and_rate_limit_headers(world: World) -> None:
    fake = world.fake
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot wrong"}) as r:
            assert r.status == 401 and (await r.json())["code"] == 0
        async with http.get(f"{fake.api_base}/channels/{world.general.id}", headers=auth(fake)) as r:
            assert r.status == 200 and (await r.json())["name"] == "general"
            assert {
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset-After",
                "X-RateLimit-Bucket",
            } <= set(r.headers)
        async with http.get(f"{fake.api_base}/channels/1234567890123456789", headers=auth(fake)) as r:
            assert r.status == 404 and (await r.json())["code"] == 10003
        async with http.get(f"{fake.api_base}/no/such/route", headers=auth(fake)) as r:
            assert r.status == 404 and await r.json() == {"message": "404: Not Found", "code": 0}
    assert [c.path for c in fake.unimplemented_routes] == ["/no/such/route"]
    fake.rest.unimplemented.clear()  # expected here; anywhere else it fails the test


async def test_contract_checker_catches_a_bad_body(world: World) -> None:
    bad = validate_exchange("POST", "/channels/1/messages", {}, auth(world.fake), {"content": 5})
    assert bad and bad[0].direction == "request" and "content" in bad[0].error
    assert validate_exchange("POST", "/channels/1/messages", {}, auth(world.fake), {"content": "ok"}) == []

    fake = world.fake
    url = f"{fake.api_base}/channels/{world.general.id}/messages"
    async with aiohttp.ClientSession() as http, http.post(url, json={"content": 5}, headers=auth(fake)) as r:
        assert r.status == 400 and (await r.json())["code"] == 50035
    await fake.contract.drain()
    # Exactly one mismatch: the bad request. The fake's own 50035 answer must conform.
    assert [(e.direction, e.path) for e in fake.contract_errors] == [
        ("request", f"/channels/{world.general.id}/messages")
    ]
    assert fake.contract.checked > 20, "every exchange of the bot must have been validated"
    fake.contract.errors.clear()  # expected here; anywhere else it fails the test


async def test_bot_asked_for_zlib_stream_and_got_compressed_frames(world: World) -> None:
    stats = world.fake.gateway_stats
    assert set(stats.compress_requested) == {"zlib-stream"}  # what discord.py 2.7.1 asks for without zstd
    # Every connection of the bot answered and resumed, so it inflated what it got.
    assert all(c.compress == "zlib-stream" and c.sent > 0 for c in world.fake.gateway.connections)


async def test_gateway_handshake_compression_and_bad_token(fake_discord: FakeDiscord) -> None:  # noqa: F811
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{fake_discord.gateway_url}?v=10&encoding=json&compress=zlib-stream") as ws:
            frame = await ws.receive(timeout=5)
            assert frame.type == aiohttp.WSMsgType.BINARY and frame.data.endswith(b"\x00\x00\xff\xff")
            hello = json.loads(zlib.decompressobj().decompress(frame.data))
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        async with http.ws_connect(f"{fake_discord.gateway_url}?v=10&encoding=json") as ws:
            hello = await ws.receive_json(timeout=5)  # uncompressed: a text frame
            assert hello["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 1, "properties": {}}})
            closed = await ws.receive(timeout=5)
            assert closed.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4004

        def identify(token: str) -> dict[str, Any]:
            return {"op": 2, "d": {"token": token, "intents": 1 << 1, "properties": {}}}  # GUILD_MEMBERS

        async with http.ws_connect(f"{fake_discord.gateway_url}?v=10&encoding=json") as ws:
            await ws.receive_json(timeout=5)
            await ws.send_json(identify(fake_discord.bot_token))  # privileged intents granted by default
            ready = await ws.receive_json(timeout=5)
            assert ready["t"] == "READY" and ready["s"] == 1 and ready["d"]["resume_gateway_url"]
        async with running_fake_discord(privileged_intents=0) as strict:
            async with http.ws_connect(f"{strict.gateway_url}?v=10&encoding=json") as ws:
                await ws.receive_json(timeout=5)
                await ws.send_json(identify(strict.bot_token))
                await ws.receive(timeout=5)
                assert ws.close_code == 4014  # Disallowed intent(s)
    assert fake_discord.gateway_stats.identifies == 1


async def test_global_rate_limit(world: World) -> None:
    fake = world.fake

    async def get(route: str) -> tuple[int, str | None, dict[str, Any]]:
        async with http.get(f"{fake.api_base}/guilds/{world.guild.id}/{route}", headers=auth(fake)) as r:
            return r.status, r.headers.get("X-RateLimit-Global"), await r.json()

    async with aiohttp.ClientSession() as http:
        # Two routes of 30 calls each stay inside their own 50/s buckets; together they break 50/s.
        results = await asyncio.gather(*(get("roles" if i % 2 else "channels") for i in range(60)))
    limited = [(header, body) for status, header, body in results if status == 429]
    assert sum(1 for status, _, _ in results if status == 200) <= 50 and limited
    header, body = limited[0]
    assert header == "true" and body["global"] is True and body["retry_after"] > 0
    assert any(hit.scope == "global" for hit in fake.rate_limit_hits)
    # The bot shares the global budget; its next REST call waits if needed and still lands.
    text = "after the global limit"
    resp = await fake.slash(world.alice, "announce", guild=world.guild, target=world.general, text=text)
    assert (await resp.wait_reply(timeout=5)).content.startswith("posted ")
    assert await fake.wait_for_message(world.general, lambda m: m.content == text)
