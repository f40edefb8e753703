"""The admin console end to end: every /admin command refuses non-admins; /admin stats; /admin doctor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from tests.conftest import REDIS_URL
from tests.e2e.conftest import Stack
from tests.fakes.discord.commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
    UploadFile,
)
from tests.fakes.tcp_proxy import TcpProxy

MB = 1024**2


def admin_leaves(stack: Stack) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """("admin user ban", its options) for every leaf under /admin, as Discord has them registered."""
    admin = next(c for c in stack.discord.registered_commands(stack.guild) if c["name"] == "admin")

    def walk(path: str, options: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for option in options:
            if option["type"] == SUB_COMMAND:
                yield f"{path} {option['name']}", option.get("options") or []
            elif option["type"] == SUB_COMMAND_GROUP:
                yield from walk(f"{path} {option['name']}", option.get("options") or [])

    yield from walk("admin", admin.get("options") or [])


def minimal_value(stack: Stack, option: dict[str, Any]) -> Any:
    """A valid value for a required option, from its registered type and limits."""
    if option.get("choices"):
        return option["choices"][0]["value"]
    kind = option["type"]
    if kind == STRING:
        low, high = option.get("min_length", 0), option.get("max_length", 6000)
        return "x" * min(max(low, 5), high)
    if kind in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        value = 1 if low is None else low
        return value if high is None else min(value, high)
    if kind == BOOLEAN:
        return True
    if kind in (USER, MENTIONABLE):
        return stack.alice
    if kind == CHANNEL:
        return stack.channel
    if kind == ROLE:
        return stack.admin_role
    if kind == ATTACHMENT:
        return UploadFile("data.csv", b"a,b\n", "text/csv")
    raise AssertionError(f"no minimal value for option type {kind} ({option['name']})")


async def test_a_non_admin_is_refused_by_every_admin_command_even_when_discord_lets_him_through(stack: Stack) -> None:
    await stack.start_bot()
    # a server admin gave bob's role Manage Server, so Discord shows him /admin; MediaNest must still refuse
    helper_role = stack.discord.create_role(stack.guild, "Helpers", permissions=0x20)
    stack.discord.member(stack.guild, stack.bob).roles.append(helper_role.id)

    leaves = list(admin_leaves(stack))
    names = {name for name, _ in leaves}
    # the walk found the commands it must: the known ones and this feature's
    assert {"admin stats", "admin doctor", "admin user ban", "admin downloads queue"} <= names, names

    problems: list[str] = []
    for name, options in leaves:
        values = {o["name"]: minimal_value(stack, o) for o in options if o.get("required")}
        interaction = await stack.discord.slash(
            stack.bob, name, guild=stack.guild, channel=stack.channel, options=values
        )
        try:
            reply = await interaction.wait_reply(timeout=15)
        except AssertionError as exc:  # a modal, say: answered before checking who asks
            problems.append(f"/{name}: {exc}")
            continue
        footer = (reply.embeds[0].get("footer") or {}).get("text", "") if reply.embeds else ""
        if not reply.ephemeral or "INSUFFICIENT_PRIVILEGES" not in footer or reply.components:
            problems.append(f"/{name}: answered {reply.content!r} {reply.embeds} {reply.components}")
    assert not problems, "\n".join(problems)

    conn = await asyncpg.connect(stack.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 0  # and nothing was done
    finally:
        await conn.close()


async def _seed(stack: Stack) -> None:
    """A week of use by alice and bob, and older activity the 7-day period must leave out."""
    now = datetime.now(UTC)
    recent, old = now - timedelta(days=2), now - timedelta(days=40)
    conn = await asyncpg.connect(stack.database_url)
    try:
        for user, plex in ((stack.alice, "alice_plex"), (stack.bob, "bob_plex")):
            await conn.execute("INSERT INTO users (discord_id, plex_username) VALUES ($1, $2)", user.id, plex)

        async def request(user_id: int | None, tmdb: int, title: str, status: str, at: datetime) -> int:
            return int(
                await conn.fetchval(
                    "INSERT INTO media_requests (user_id, media_type, tmdb_id, title, status, created_at, "
                    "requested_via, requested_by_name) VALUES ($1, 'movie', $2, $3, $4, $5, $6, $7) RETURNING id",
                    user_id,
                    tmdb,
                    title,
                    status,
                    at,
                    "discord" if user_id else "overseerr",
                    None if user_id else "grandma",
                )
            )

        dune = await request(stack.alice.id, 438631, "Dune", "pending", recent)
        await request(stack.alice.id, 1, "Alien", "approved", recent)
        await request(stack.alice.id, 2, "Heat", "available", recent)
        await request(stack.bob.id, 3, "Up", "pending", recent)
        await request(stack.bob.id, 4, "Old News", "declined", old)
        await conn.execute("INSERT INTO request_subscribers (request_id, user_id) VALUES ($1, $2)", dune, stack.bob.id)

        async def download(user_id: int, status: str, at: datetime, sizes: list[int | None]) -> None:
            download_id = await conn.fetchval(
                "INSERT INTO downloads (user_id, url, kind, status, created_at) "
                "VALUES ($1, 'https://www.youtube.com/watch?v=x', 'video', $2, $3) RETURNING id",
                user_id,
                status,
                at,
            )
            for n, size in enumerate(sizes):
                await conn.execute(
                    "INSERT INTO download_items (download_id, user_id, extractor, video_id, size_bytes, status, "
                    "created_at) VALUES ($1, $2, 'youtube', $3, $4, $5, $6)",
                    download_id,
                    user_id,
                    f"{download_id}-{n}",
                    size,
                    "completed" if size else "failed",
                    at,
                )

        await download(stack.alice.id, "completed", recent, [3 * MB, 2 * MB, None])
        await download(stack.alice.id, "queued", recent, [])
        await download(stack.bob.id, "completed", recent, [1 * MB])
        await download(stack.alice.id, "completed", old, [10 * MB])
    finally:
        await conn.close()


async def test_admin_stats_counts_the_period_and_attaches_a_chart(stack: Stack) -> None:
    await _seed(stack)
    await stack.start_bot()
    reply = await (
        await stack.discord.slash(
            stack.admin, "admin stats", guild=stack.guild, channel=stack.channel, options={"period": "7d"}
        )
    ).wait_reply(timeout=30)
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert "last 7 days" in embed["title"]
    description = embed["description"]
    assert "**4** request(s) · **3** download(s) · **6.0 MB** added" in description
    assert "On disk: **16.0 MB**" in description
    assert "Queue: **1** waiting, **0** running" in description
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Requests by state"].splitlines() == ["pending: **2**", "approved: **1**", "available: **1**"]
    assert fields["Top requesters"].splitlines() == [f"<@{stack.alice.id}>: **3**", f"<@{stack.bob.id}>: **1**"]
    assert fields["Downloads by state"].splitlines() == ["completed: **2**", "queued: **1**"]
    assert fields["Downloads and disk per member"].splitlines() == [
        f"<@{stack.alice.id}>: **2** download(s), 5.0 MB added, 15.0 MB on disk",
        f"<@{stack.bob.id}>: **1** download(s), 1.0 MB added, 1.0 MB on disk",
    ]
    assert fields["Most requested"].splitlines()[0] == "1. **Dune** (movie): 2 people, 1 request(s)"
    assert "Old News" not in fields["Most requested"]

    assert embed["image"]["url"] == "attachment://medianest-stats.png"
    chart = reply.attachment("medianest-stats.png")
    assert chart.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 1_000 < chart.size < 200_000


async def test_admin_doctor_names_a_stopped_redis_and_a_wrong_overseerr_key_with_their_hints(stack: Stack) -> None:
    parts = urlsplit(REDIS_URL)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    wrong_key = "not-the-overseerr-key-0123456789"
    try:
        await stack.start_bot(
            REDIS_URL=parts._replace(netloc=f"127.0.0.1:{proxy.port}").geturl(), OVERSEERR_API_KEY=wrong_key
        )
        await proxy.cut()  # Redis "stops" for the bot; the real server keeps serving everyone else
        interaction = await stack.discord.slash(stack.admin, "admin doctor", guild=stack.guild, channel=stack.channel)
        reply = await interaction.wait_reply(timeout=30)
    finally:
        await proxy.stop()

    embed = reply.embeds[0]
    fields = {f["name"]: f["value"] for f in embed.get("fields", [])}
    redis = fields["⛔ Redis"]
    assert "not reachable" in redis and "**Fix:** Start Redis" in redis and "REDIS_URL" in redis
    key = fields["⛔ Overseerr API key"]
    assert "refused the API key" in key
    assert "Overseerr → Settings → General → API Key into OVERSEERR_API_KEY" in key
    description = embed["description"]
    for fine in (
        "Database",
        "Migrations",
        "Plex server",
        "Plex token",
        "plex.tv",
        "Overseerr",
        "Discord commands",
        "Discord intents",
    ):
        assert f"✅ **{fine}**:" in description, fine
    assert "⛔" in embed["title"]
    assert wrong_key not in str(embed)
    # the request went through the gate although the rate limiter's Redis was gone
    assert any("rate limiter unavailable" in e["message"] and e["level"] == "WARNING" for e in stack.logs()), (
        "the gate did not fail open"
    )
