"""Service status end to end: the real bot, the Uptime Kuma fake, the Discord fake.

The board is one message per channel, edited in place; changes are short posts
beside it; quiet ticks send nothing; a deleted board comes back; a restart and a
second process reuse what is there; a dead Kuma is "source unavailable", never an
outage; no monitor address ever reaches a message.
"""

from __future__ import annotations

import json
import re
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from arq.constants import default_queue_name, health_check_key_suffix

from tests.conftest import REDIS_URL
from tests.e2e.conftest import Stack
from tests.fakes.base import wait_for
from tests.fakes.discord.models import FakeChannel, Message
from tests.fakes.discord.process import BotProcess
from tests.fakes.kuma import DEFAULT_API_KEY, LEAKABLE_ADDRESSES, populate_media_page

pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

FAST = {"STATUS_POLL_SECONDS": 1, "UPTIME_KUMA_API_KEY": DEFAULT_API_KEY}


def bot_messages(stack: Stack, channel: FakeChannel) -> list[Message]:
    return [m for m in stack.discord.channel_messages(channel) if m.author.id == stack.discord.bot.id]


def boards(stack: Stack, channel: FakeChannel) -> list[Message]:
    return [m for m in bot_messages(stack, channel) if m.embeds and "Refreshed every" in m.embeds[0]["footer"]["text"]]


def posts(stack: Stack, channel: FakeChannel) -> list[Message]:
    return [m for m in bot_messages(stack, channel) if not m.embeds]


def board_text(message: Message) -> str:
    embed = message.embeds[0]
    return "\n".join(
        [embed["title"], embed.get("description") or ""]
        + [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
    )


def channel_calls(stack: Stack, method: str | None = None) -> int:
    return len(stack.discord.calls(method, "/api/v10/channels/"))


async def ticks(stack: Stack, process: BotProcess, role: str = "leader") -> float:
    async with stack.web(process) as web:
        text = (await web.get("/metrics")).text
    match = re.search(rf'^medianest_status_ticks_total{{role="{role}"}} ([0-9.]+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


async def wait_ticks(stack: Stack, process: BotProcess, count: int = 2, role: str = "leader") -> None:
    start = await ticks(stack, process, role)

    async def done() -> bool:
        return await ticks(stack, process, role) >= start + count

    await wait_for(done, timeout=15, interval=0.1, what=f"{count} {role} ticks")


async def wait_board(stack: Stack, channel: FakeChannel, predicate: Any = lambda text: True) -> Message:
    def find() -> Message | None:
        return next((m for m in boards(stack, channel) if predicate(board_text(m))), None)

    message: Message = await wait_for(find, timeout=15, what=f"a status board in #{channel.name}")
    return message


async def start_worker_and_wait(stack: Stack) -> None:
    """A real arq worker, so the download queue shows as up; it reports in on start."""
    await stack.start_worker()
    client = aioredis.from_url(REDIS_URL)
    try:

        async def reported() -> bool:
            return bool(await client.exists(default_queue_name + health_check_key_suffix))

        await wait_for(reported, timeout=20, interval=0.1, what="the worker's health report")
    finally:
        await client.aclose()


def assert_no_addresses(stack: Stack, *channels: FakeChannel, extra: tuple[Message, ...] = ()) -> None:
    """Nothing the bot ever showed (every version of every message) names a monitor's address."""
    ids = {c.id for c in channels}
    seen = [m for m in stack.discord.state.messages.values() if m.channel_id in ids] + list(extra)  # deleted too
    texts = [json.dumps([m.content, m.embeds, [(e.get("content"), e.get("embeds")) for e in m.edits]]) for m in seen]
    assert seen
    for address in (*LEAKABLE_ADDRESSES, "127.0.0.1", "http"):
        assert not any(address in text for text in texts), f"{address} leaked into a message"


async def test_board_once_per_channel_edited_in_place_with_down_and_up_posts_and_quiet_ticks(stack: Stack) -> None:
    monitors = populate_media_page(stack.kuma)
    second = stack.discord.create_channel(stack.guild, "status")
    await start_worker_and_wait(stack)
    bot = await stack.start_bot(
        STATUS_CHANNEL_IDS=f"{stack.channel.id},{second.id}", STATUS_FLAP_WINDOW_SECONDS=0, **FAST
    )
    first_board = await wait_board(stack, stack.channel)
    second_board = await wait_board(stack, second)
    text = board_text(first_board)
    assert first_board.embeds[0]["color"] == 0x2ECC71, text  # all up: green
    assert "All systems operational" in text
    for name in ("Media", "Infrastructure", "MediaNest", "**Plex**", "**Overseerr**", "**NAS**", "**Download queue**"):
        assert name in text
    assert "Router" not in text  # not on the status page
    assert first_board.allowed_mentions == {"parse": []}

    # quiet ticks: nothing changes, so nothing is sent
    await wait_ticks(stack, bot, 1)
    before = channel_calls(stack)
    await wait_ticks(stack, bot, 3)
    assert channel_calls(stack) == before

    # Plex goes down: each board is edited, not re-posted; a down post appears beside it
    stack.kuma.set_status(monitors["plex"], 0)
    down_board = await wait_board(stack, stack.channel, lambda t: "🔴 **Plex** · down" in t)
    assert down_board.id == first_board.id and down_board.edits
    assert down_board.embeds[0]["color"] == 0xE74C3C
    assert re.search(r"\*\*1 of \d+ down:\*\* Plex", board_text(down_board))
    await wait_board(stack, second, lambda t: "🔴 **Plex** · down" in t)
    for channel in (stack.channel, second):
        down = await stack.discord.wait_for_message(channel, lambda m: "is down" in m.content, timeout=10)
        assert "🔴 **Plex** (Media) is down since <t:" in down.content
        assert down.pinged_role_ids == [] and down.allowed_mentions == {"parse": []}

    # back up four minutes later (by Kuma's clock): an up post with the outage's length
    stack.kuma.advance(240)
    stack.kuma.set_status(monitors["plex"], 1)
    for channel in (stack.channel, second):
        up = await stack.discord.wait_for_message(channel, lambda m: "back up" in m.content, timeout=10)
        assert "🟢 **Plex** (Media) is back up after 4 min" in up.content
    await wait_board(stack, stack.channel, lambda t: "All systems operational" in t)

    for channel, board in ((stack.channel, first_board), (second, second_board)):
        assert [m.id for m in boards(stack, channel)] == [board.id]  # one board per channel, ever
        assert len(posts(stack, channel)) == 2
    assert len(stack.discord.calls("POST", f"/api/v10/channels/{stack.channel.id}/messages")) == 3
    assert_no_addresses(stack, stack.channel, second)


async def test_deleted_board_is_posted_again_and_a_restart_reuses_the_message(stack: Stack) -> None:
    monitors = populate_media_page(stack.kuma)
    env = {"STATUS_CHANNEL_IDS": stack.channel.id, "STATUS_BOARD_CHECK_SECONDS": 1, **FAST}
    bot = await stack.start_bot(**env)
    original = await wait_board(stack, stack.channel)

    stack.discord.delete_message(original)  # no GUILD_MESSAGES intent: the periodic check finds it gone
    again = await wait_board(stack, stack.channel, lambda t: True)
    assert again.id != original.id
    assert [m.id for m in boards(stack, stack.channel)] == [again.id]

    await bot.stop()
    posts_before = len(stack.discord.calls("POST", f"/api/v10/channels/{stack.channel.id}/messages"))
    checks_before = len(stack.discord.calls("GET", f"/api/v10/channels/{stack.channel.id}/messages/{again.id}"))
    restarted = await stack.start_bot(**{**env, "STATUS_BOARD_CHECK_SECONDS": 600})
    await wait_ticks(stack, restarted, 2)
    # the same message is checked and kept; nothing new is posted, nothing unchanged is edited
    checks = stack.discord.calls("GET", f"/api/v10/channels/{stack.channel.id}/messages/{again.id}")
    assert len(checks) == checks_before + 1
    assert len(stack.discord.calls("POST", f"/api/v10/channels/{stack.channel.id}/messages")) == posts_before
    assert not stack.discord.calls("PATCH", f"/api/v10/channels/{stack.channel.id}/messages/{again.id}")

    stack.kuma.set_status(monitors["nas"], 0)
    edited = await wait_board(stack, stack.channel, lambda t: "🔴 **NAS** · down" in t)
    assert edited.id == again.id
    assert [m.id for m in boards(stack, stack.channel)] == [again.id]
    assert_no_addresses(stack, stack.channel)


async def test_two_bot_processes_run_the_loop_and_only_one_posts(stack: Stack) -> None:
    monitors = populate_media_page(stack.kuma)
    discord = stack.discord
    other = discord.create_guild("Cousins")
    while (other.id >> 22) % 2 == (stack.guild.id >> 22) % 2:
        other = discord.create_guild("Cousins")
    common = {
        "SHARD_COUNT": 2,
        "DISCORD_GUILD_IDS": f"{stack.guild.id},{other.id}",
        "STATUS_CHANNEL_IDS": stack.channel.id,
        "STATUS_FLAP_WINDOW_SECONDS": 0,
        **FAST,
    }
    first = await stack.start_bot(SHARD_IDS=(stack.guild.id >> 22) % 2, **common)
    second = await stack.start_bot(wait_commands=False, SHARD_IDS=(other.id >> 22) % 2, **common)
    await wait_for(
        lambda: any(s.covers(other.id) and s.ready_flushed for s in discord.gateway.live_sessions),
        timeout=30,
        what="the second shard to be ready",
    )
    await wait_board(stack, stack.channel)

    # both run the loop; one leads, the other stands by
    async def roles() -> list[str] | None:
        found = []
        for process in (first, second):
            led, stood = await ticks(stack, process, "leader"), await ticks(stack, process, "standby")
            found.append("leader" if led and not stood else "standby" if stood and not led else "?")
        return found if sorted(found) == ["leader", "standby"] else None

    found = await wait_for(roles, timeout=15, interval=0.1, what="one leader and one standby")
    leader, standby = (first, second) if found[0] == "leader" else (second, first)

    stack.kuma.set_status(monitors["overseerr"], 0)
    await stack.discord.wait_for_message(stack.channel, lambda m: "**Overseerr** (Media) is down" in m.content)
    await wait_ticks(stack, leader, 2)
    assert len(boards(stack, stack.channel)) == 1 and len(posts(stack, stack.channel)) == 1
    assert len(discord.calls("POST", f"/api/v10/channels/{stack.channel.id}/messages")) == 2

    # the leader stops (and hands the lease back): the other process carries on alone
    await leader.stop()
    assert "handed the status loop over" in leader.log_text()
    stack.kuma.set_status(monitors["overseerr"], 1)
    await stack.discord.wait_for_message(stack.channel, lambda m: "**Overseerr** (Media) is back up" in m.content)
    assert await ticks(stack, standby) >= 1
    assert len(boards(stack, stack.channel)) == 1 and len(posts(stack, stack.channel)) == 2


async def test_kuma_dead_or_slow_shows_source_unavailable_never_an_outage(stack: Stack) -> None:
    populate_media_page(stack.kuma)
    await stack.start_bot(STATUS_CHANNEL_IDS=stack.channel.id, UPTIME_KUMA_TIMEOUT_SECONDS=0.5, **FAST)
    await wait_board(stack, stack.channel, lambda t: "**NAS**" in t)

    await stack.kuma.go_down()
    dead = await wait_board(stack, stack.channel, lambda t: "Status source unavailable" in t)
    text = board_text(dead)
    assert "Uptime Kuma is not answering" in text and "**NAS**" not in text and "Infrastructure" not in text
    assert "🔴" not in text.replace("🔴 **Download queue**", "")  # only the worker-less queue is down
    reply = await (
        await stack.discord.slash(stack.alice, "status", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert reply.ephemeral and "Status source unavailable" in reply.embeds[0]["description"]

    await stack.kuma.come_up()
    await wait_board(stack, stack.channel, lambda t: "**NAS**" in t and "unavailable" not in t)

    stack.kuma.set_latency(3)  # slower than UPTIME_KUMA_TIMEOUT_SECONDS
    await wait_board(stack, stack.channel, lambda t: "Status source unavailable" in t)
    stack.kuma.set_latency(0)
    await wait_board(stack, stack.channel, lambda t: "**NAS**" in t and "unavailable" not in t)

    assert posts(stack, stack.channel) == []  # not one false "down" (or "back up") post
    assert len(boards(stack, stack.channel)) == 1
    assert_no_addresses(stack, stack.channel, extra=(reply,))


async def test_status_command_admin_settings_ping_role_silence_and_flapping(stack: Stack) -> None:
    monitors = populate_media_page(stack.kuma)
    oncall = stack.discord.create_role(stack.guild, "On call")
    board_channel = stack.discord.create_channel(stack.guild, "status")
    await stack.start_bot(**FAST)

    # /status: only the caller sees it; response times and uptime, no addresses
    reply = await (
        await stack.discord.slash(stack.alice, "status", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert reply.ephemeral
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert list(fields) == ["Media", "Infrastructure", "MediaNest"]
    assert "🟢 **Plex** · 35 ms · 100.00 % (24 h) · since <t:" in fields["Media"]
    assert "**Database**" in fields["MediaNest"] and "**Redis**" in fields["MediaNest"]
    assert "no worker has reported in" in fields["MediaNest"]
    shared = await (
        await stack.discord.slash(stack.alice, "status", guild=stack.guild, channel=stack.channel, share=True)
    ).wait_reply()
    assert not shared.ephemeral and shared.allowed_mentions == {"parse": []}

    # admin commands are checked server side
    helper = stack.discord.create_role(stack.guild, "Helpers", permissions=0x20)
    stack.discord.member(stack.guild, stack.bob).roles.append(helper.id)
    refused = await (
        await stack.discord.slash(
            stack.bob,
            "admin status add-channel",
            guild=stack.guild,
            channel=stack.channel,
            options={"channel": board_channel},
        )
    ).wait_reply()
    assert "INSUFFICIENT_PRIVILEGES" in refused.embeds[0]["footer"]["text"]

    async def admin(command: str, **options: Any) -> Message:
        interaction = await stack.discord.slash(
            stack.admin, f"admin status {command}", guild=stack.guild, channel=stack.channel, options=options
        )
        return await interaction.wait_reply()

    added = await admin("add-channel", channel=board_channel)
    assert "Status board added" in added.embeds[0]["title"]
    board = await wait_board(stack, board_channel)  # no restart: the database says so
    await admin("ping-role", role=oncall)
    await admin("silence", on=True)

    # down: the role is pinged, and only that role
    stack.kuma.set_status(monitors["plex"], 0)
    down = await stack.discord.wait_for_message(board_channel, lambda m: "is down" in m.content, timeout=10)
    assert down.content.startswith(f"<@&{oncall.id}> 🔴 **Plex**")
    assert down.pinged_role_ids == [oncall.id] and not down.pinged_everyone
    assert down.allowed_mentions is not None and down.allowed_mentions["parse"] == []
    assert [int(r) for r in down.allowed_mentions["roles"]] == [oncall.id]
    # up is silenced; going down again within the flap window folds into the same post
    stack.kuma.set_status(monitors["plex"], 1)
    await wait_board(stack, board_channel, lambda t: "🔴 **Plex**" not in t)
    stack.kuma.set_status(monitors["plex"], 0)
    flapping = await stack.discord.wait_for_message(board_channel, lambda m: "flapping" in m.content, timeout=10)
    assert flapping.id == down.id and "down 2 times" in flapping.content and "down now" in flapping.content
    stack.kuma.set_status(monitors["plex"], 1)
    await stack.discord.wait_for_message(board_channel, lambda m: "up now" in m.content, timeout=10)
    assert [m.id for m in posts(stack, board_channel)] == [down.id]
    assert [m.id for m in boards(stack, board_channel)] == [board.id]

    removed = await admin("remove-channel", channel=board_channel)
    assert "removed" in removed.embeds[0]["title"]
    await wait_for(lambda: not boards(stack, board_channel), what="the board to be deleted")

    conn = await asyncpg.connect(stack.database_url)
    try:
        actions = await conn.fetch("SELECT actor_id, action FROM audit_log WHERE action LIKE 'status.%' ORDER BY id")
    finally:
        await conn.close()
    assert [(r["actor_id"], r["action"]) for r in actions] == [
        (stack.admin.id, "status.add_channel"),
        (stack.admin.id, "status.ping_role"),
        (stack.admin.id, "status.silence_up"),
        (stack.admin.id, "status.remove_channel"),
    ]
    assert_no_addresses(stack, stack.channel, board_channel, extra=(reply, shared))
