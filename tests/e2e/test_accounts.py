"""Accounts end to end: /link through plex.tv, /unlink, /whoami, admin moderation, rate limits."""

from __future__ import annotations

import asyncpg

from bot.crypto import TokenCipher
from tests.e2e.conftest import CLIENT_ID, Stack, link_as
from tests.fakes.base import wait_for


async def test_link_authorise_linked_with_token_encrypted_and_never_logged(stack: Stack) -> None:
    await stack.start_bot()
    token = await link_as(stack, stack.alice, "alice_plex")
    conn = await asyncpg.connect(stack.database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM users WHERE discord_id = $1", stack.alice.id)
    finally:
        await conn.close()
    assert row["plex_username"] == "alice_plex" and row["role"] == "user"
    assert token.encode() not in row["plex_token_encrypted"]
    assert TokenCipher(stack.encryption_key).decrypt(row["plex_token_encrypted"], owner=stack.alice.id) == token
    assert token not in stack.raw_logs()

    whoami = await (
        await stack.discord.slash(stack.alice, "whoami", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    fields = {f["name"]: f["value"] for f in whoami.embeds[0]["fields"]}
    assert "alice\\_plex" in fields["Plex"] and "linked" in fields["Plex"]
    assert fields["Role"] == "user" and fields["Status"] == "active"
    assert fields["Downloads this hour"].startswith("0/5")


async def test_server_owner_becomes_admin_when_linking(stack: Stack) -> None:
    await stack.start_bot()
    await link_as(stack, stack.bob, "owner", owner=True)
    whoami = await (
        await stack.discord.slash(stack.bob, "whoami", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert {f["name"]: f["value"] for f in whoami.embeds[0]["fields"]}["Role"] == "admin"


async def test_expired_pin_no_access_and_cancel(stack: Stack) -> None:
    await stack.start_bot()
    # the PIN runs out
    stack.plex_tv.set_pin_lifetime(1)
    expired = await stack.discord.slash(stack.alice, "link", guild=stack.guild, channel=stack.channel)
    message = await expired.wait_edit(lambda m: m.embeds and "expired" in m.embeds[0]["title"].lower(), timeout=10)
    assert "Run /link again" in message.embeds[0]["description"] and message.components == []
    stack.plex_tv.set_pin_lifetime(None)

    # an account the server is not shared with
    stranger = stack.plex_tv.add_account("stranger")
    refused = await stack.discord.slash(stack.alice, "link", guild=stack.guild, channel=stack.channel)
    await refused.wait_edit(lambda m: m.components, timeout=10)
    pin = await wait_for(lambda: (p := stack.plex_tv.latest_pin(CLIENT_ID)) and not p.authorized and p, what="PIN")
    stack.plex_tv.authorize_pin(pin.id, stranger)
    message = await refused.wait_edit(lambda m: m.embeds and "INSUFFICIENT_PRIVILEGES" in str(m.embeds[0]), timeout=10)
    assert "no access to this Plex server" in message.embeds[0]["description"]

    # Cancel stops the polling
    cancelled = await stack.discord.slash(stack.alice, "link", guild=stack.guild, channel=stack.channel)
    message = await cancelled.wait_edit(lambda m: m.components, timeout=10)
    pin = stack.plex_tv.latest_pin(CLIENT_ID)
    await wait_for(lambda: len(pin.polls) >= 1, what="the PIN being polled")
    click = await stack.discord.click(stack.alice, message, custom_id="link:cancel")
    await click.wait_ack()
    await cancelled.wait_edit(lambda m: m.embeds and "Cancelled" in m.embeds[0]["title"], timeout=10)
    polls = len(pin.polls)
    await (await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)).wait_reply()
    assert len(pin.polls) == polls
    conn = await asyncpg.connect(stack.database_url)
    try:
        assert await conn.fetchval("SELECT plex_id FROM users WHERE discord_id = $1", stack.alice.id) is None
    finally:
        await conn.close()


async def test_unlink_with_confirm_and_revoked_token_marks_stale_with_dm(stack: Stack) -> None:
    await stack.start_bot()
    token = await link_as(stack, stack.alice, "alice_plex")
    stack.plex_tv.revoke_token(token)
    whoami = await (
        await stack.discord.slash(stack.alice, "whoami", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "needs /link again" in {f["name"]: f["value"] for f in whoami.embeds[0]["fields"]}["Plex"]
    dm = await stack.discord.wait_for_dm(stack.alice, lambda m: m.embeds and "renewing" in m.embeds[0]["title"])
    assert "/link" in dm.embeds[0]["description"]

    unlink = await stack.discord.slash(stack.alice, "unlink", guild=stack.guild, channel=stack.channel)
    prompt = await unlink.wait_reply()
    confirm = next(c for row in prompt.components for c in row["components"] if c.get("label") == "Unlink")
    click = await stack.discord.click(stack.alice, prompt, custom_id=confirm["custom_id"])
    done = await click.wait_reply()
    assert "Unlinked" in done.embeds[0]["title"]
    conn = await asyncpg.connect(stack.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT plex_id, plex_token_encrypted FROM users WHERE discord_id = $1", stack.alice.id
        )
    finally:
        await conn.close()
    assert row["plex_id"] is None and row["plex_token_encrypted"] is None


async def test_admin_commands_are_checked_server_side_and_bans_work(stack: Stack) -> None:
    await stack.start_bot()
    # Discord lets bob through (a server admin gave his role Manage Server), but he is no MediaNest admin
    helper_role = stack.discord.create_role(stack.guild, "Helpers", permissions=0x20)
    stack.discord.member(stack.guild, stack.bob).roles.append(helper_role.id)
    refused = await (
        await stack.discord.slash(
            stack.bob, "admin user ban", guild=stack.guild, channel=stack.channel, user=stack.alice, reason="nope"
        )
    ).wait_reply()
    assert refused.ephemeral and "INSUFFICIENT_PRIVILEGES" in refused.embeds[0]["footer"]["text"]

    banned = await (
        await stack.discord.slash(
            stack.admin, "admin user ban", guild=stack.guild, channel=stack.channel, user=stack.alice, reason="spamming"
        )
    ).wait_reply()
    assert "Banned" in banned.embeds[0]["title"]
    dm = await stack.discord.wait_for_dm(stack.alice, lambda m: m.embeds and "banned" in m.embeds[0]["title"])
    assert "spamming" in dm.embeds[0]["description"]

    blocked = await (
        await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "banned" in blocked.embeds[0]["description"] and "spamming" in blocked.embeds[0]["description"]
    whoami = await (
        await stack.discord.slash(stack.alice, "whoami", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "banned" in {f["name"]: f["value"] for f in whoami.embeds[0]["fields"]}["Status"]

    await (
        await stack.discord.slash(
            stack.admin, "admin user unban", guild=stack.guild, channel=stack.channel, user=stack.alice, reason="ok now"
        )
    ).wait_reply()
    again = await (
        await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "MediaNest" in again.embeds[0]["title"]

    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT actor_id, action, reason FROM audit_log WHERE target_id = $1 ORDER BY id", str(stack.alice.id)
        )
    finally:
        await conn.close()
    assert [(r["actor_id"], r["action"], r["reason"]) for r in rows] == [
        (stack.admin.id, "user.ban", "spamming"),
        (stack.admin.id, "user.unban", "ok now"),
    ]


async def test_rate_limit_holds_across_two_bot_processes(stack: Stack) -> None:
    """Two processes, one shard each (as a sharded deployment runs), share one limit through Redis."""
    discord = stack.discord
    other = discord.create_guild("Cousins")
    while (other.id >> 22) % 2 == (stack.guild.id >> 22) % 2:
        other = discord.create_guild("Cousins")
    other_channel = discord.create_channel(other, "media")
    discord.add_member(other, stack.alice)
    common = {
        "SHARD_COUNT": 2,
        "DISCORD_GUILD_IDS": f"{stack.guild.id},{other.id}",
        "RATE_LIMIT_COMMANDS_PER_MINUTE": 10,
    }
    first = await stack.start_bot(SHARD_IDS=(stack.guild.id >> 22) % 2, **common)
    second = await stack.start_bot(wait_commands=False, SHARD_IDS=(other.id >> 22) % 2, **common)
    await wait_for(
        lambda: any(s.covers(other.id) and s.ready_flushed for s in discord.gateway.live_sessions),
        timeout=30,
        what="the second shard to be ready",
    )
    replies = []
    for i in range(11):
        guild, channel = (stack.guild, stack.channel) if i % 2 == 0 else (other, other_channel)
        interaction = await discord.slash(stack.alice, "help", guild=guild, channel=channel)
        replies.append(await interaction.wait_reply())
    assert all("MediaNest" in r.embeds[0]["title"] for r in replies[:10])
    last = replies[10].embeds[0]
    assert "RATE_LIMIT_EXCEEDED" in last["footer"]["text"]
    assert "Try again <t:" in last["description"] and ":R>" in last["description"]
    answered = [p.log_text().count("/help by") for p in (first, second)]
    assert answered == [5, 5]  # each process counted its own, the limit counted all
