"""Admin console end to end: exports, bulk decisions, the audit log, runtime settings, bulk cancel."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import asyncpg

from tests.e2e.conftest import Stack, link_as
from tests.fakes.base import wait_for
from tests.fakes.discord.interactions import Interaction
from tests.fakes.discord.models import FakeUser, Message
from tests.fakes.discord.process import BotProcess


def vm_kb(process: BotProcess, field: str) -> int:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {process.pid}")


async def slash(stack: Stack, who: FakeUser, command: str, /, **options: object) -> tuple[Interaction, Message]:
    interaction = await stack.discord.slash(who, command, guild=stack.guild, channel=stack.channel, **options)
    return interaction, await interaction.wait_reply(timeout=30)


async def test_export_of_10000_requests_is_complete_defused_and_streamed(stack: Stack) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute("INSERT INTO users (discord_id) VALUES ($1)", stack.alice.id)
        await conn.execute(
            """
            INSERT INTO media_requests (user_id, media_type, tmdb_id, title, year, status)
            SELECT $1, 'movie', n,
                   CASE n % 5 WHEN 0 THEN '=HYPERLINK("http://evil.example","x")' WHEN 1 THEN '+1+1'
                              WHEN 2 THEN '-2' WHEN 3 THEN '@SUM(A1)' ELSE 'Movie ' || n END,
                   2000 + n % 20, CASE WHEN n % 2 = 0 THEN 'available' ELSE 'declined' END
            FROM generate_series(1, 10000) AS n
            """,
            stack.alice.id,
        )
    finally:
        await conn.close()
    bot = await stack.start_bot()
    # warm up the export path once, then measure what a big export adds
    await slash(stack, stack.admin, "admin export", kind="audit")
    before = vm_kb(bot, "VmHWM")
    _, reply = await slash(stack, stack.admin, "admin export", kind="requests", format="csv")
    grown_csv = vm_kb(bot, "VmHWM") - before
    (attachment,) = reply.attachments
    assert attachment.filename.endswith(".csv") and "10000 row(s)" in reply.embeds[0]["description"]
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode())))
    assert len(rows) == 10000
    titles = {row["title"] for row in rows}
    assert '\'=HYPERLINK("http://evil.example","x")' in titles and "'+1+1" in titles
    assert "'-2" in titles and "'@SUM(A1)" in titles and "Movie 4" in titles
    assert not any(t.startswith(("=", "+", "-", "@")) for t in titles)

    _, reply = await slash(stack, stack.admin, "admin export", kind="requests", format="json", status="available")
    data = json.loads(reply.attachments[0].data)
    assert len(data) == 5000 and {row["status"] for row in data} == {"available"}
    assert data[0]["title"] in ('=HYPERLINK("http://evil.example","x")', "-2", "Movie 4", "+1+1", "@SUM(A1)")
    # streamed: the peak memory did not grow with ten thousand rows (a full load costs tens of MB)
    assert grown_csv < 8 * 1024, f"peak RSS grew by {grown_csv} kB"

    conn = await asyncpg.connect(stack.database_url)
    try:
        exports = await conn.fetch("SELECT actor_id, details FROM audit_log WHERE action = 'admin.export' ORDER BY id")
    finally:
        await conn.close()
    assert [(r["actor_id"], json.loads(r["details"])["rows"]) for r in exports][1:] == [
        (stack.admin.id, 10000),
        (stack.admin.id, 5000),
    ]


async def test_bulk_decline_changes_exactly_those_five_with_audit_and_dms(stack: Stack) -> None:
    for tmdb in range(1, 8):
        stack.overseerr.add_movie(tmdb, f"Film {tmdb}", 2001)
    bot = await stack.start_bot(REQUEST_QUOTA_PER_DAY=20)
    stack.hook_overseerr(bot)
    await link_as(stack, stack.alice, "alice_plex")
    await link_as(stack, stack.bob, "bob_plex")
    for tmdb in range(1, 6):
        _, reply = await slash(stack, stack.alice, "request movie", title=f"movie:{tmdb}")
        assert "Requested" in reply.embeds[0]["title"]
    for tmdb in (6, 7):
        await slash(stack, stack.bob, "request movie", title=f"movie:{tmdb}")

    _, prompt = await slash(
        stack, stack.admin, "admin requests bulk", action="decline", user=stack.alice, reason="Out of disk space"
    )
    assert "Decline 5 request(s)?" in prompt.embeds[0]["title"]
    confirm = next(c for r in prompt.components for c in r["components"] if c["label"] == "Decline 5")
    click = await stack.discord.click(stack.admin, prompt, confirm["custom_id"])
    done = await click.wait_reply(timeout=30)
    assert "Declined 5" in done.embeds[0]["title"]

    conn = await asyncpg.connect(stack.database_url)
    try:
        states = await conn.fetch("SELECT user_id, status FROM media_requests ORDER BY id")
        audits = await conn.fetch("SELECT actor_id, reason FROM audit_log WHERE action = 'request.decline'")
    finally:
        await conn.close()
    assert [(r["user_id"], r["status"]) for r in states] == [(stack.alice.id, "declined")] * 5 + [
        (stack.bob.id, "pending")
    ] * 2
    assert [(a["actor_id"], a["reason"]) for a in audits] == [(stack.admin.id, "Out of disk space")] * 5
    assert sorted(int(r.status) for r in stack.overseerr.media_requests) == [1, 1, 3, 3, 3, 3, 3]  # in Overseerr too

    await wait_for(
        lambda: (
            len([m for m in stack.discord.dms(stack.alice) if m.embeds and "Declined" in m.embeds[0]["title"]]) == 5
        ),
        timeout=15,
        what="five decline DMs",
    )
    assert all("Out of disk space" in m.embeds[0]["description"] for m in stack.discord.dms(stack.alice) if m.embeds)
    assert not [m for m in stack.discord.dms(stack.bob) if m.embeds and "Declined" in m.embeds[0]["title"]]


async def test_settings_change_takes_effect_at_once_and_audit_log_shows_it(stack: Stack) -> None:
    stack.media.add_video("x", "X")
    await stack.start_bot()
    await link_as(stack, stack.alice, "alice_plex")
    _, view = await slash(stack, stack.admin, "admin settings view")
    text = json.dumps(view.embeds)
    assert "`downloads_per_hour` = **5**" in text
    assert stack.encryption_key not in text and "OVERSEERR_API_KEY`: set" in text

    _, bad = await slash(stack, stack.admin, "admin settings set", key="downloads_per_hour", value="lots")
    assert (
        "VALIDATION_ERROR" in bad.embeds[0]["footer"]["text"] and "downloads_per_hour" in bad.embeds[0]["description"]
    )
    _, ok = await slash(stack, stack.admin, "admin settings set", key="downloads_per_hour", value="1")
    assert "**1**" in ok.embeds[0]["description"]
    url = stack.media.video_url("x")
    _, first = await slash(stack, stack.alice, "download", url=url)
    assert "Queued" in first.embeds[0]["title"]
    _, second = await slash(stack, stack.alice, "download", url=url)
    assert (
        "RATE_LIMIT_EXCEEDED" in second.embeds[0]["footer"]["text"]
        and "1 downloads per hour" in second.embeds[0]["description"]
    )

    await slash(stack, stack.admin, "admin user ban", user=stack.bob, reason="testing the log")
    _, log = await slash(stack, stack.admin, "admin audit")
    lines = log.embeds[0]["description"].splitlines()
    assert "`user.ban`" in lines[0] and "testing the log" in lines[0]  # newest first
    assert any("`settings.change`" in line and "setting `downloads_per_hour`" in line for line in lines)
    _, only = await slash(stack, stack.admin, "admin audit", action="settings")
    assert all("`settings.change`" in line for line in only.embeds[0]["description"].splitlines())
    _, mine = await slash(stack, stack.admin, "admin audit", user=stack.alice)
    assert "`account.link`" in mine.embeds[0]["description"] and "user.ban" not in mine.embeds[0]["description"]


async def test_cancel_all_queued_downloads_of_a_member_with_a_confirm(stack: Stack) -> None:
    stack.media.add_video("q", "Q")
    await stack.start_bot()  # no worker: everything stays queued
    await link_as(stack, stack.alice, "alice_plex")
    for _ in range(3):
        await slash(stack, stack.alice, "download", url=stack.media.video_url("q"))
    _, prompt = await slash(stack, stack.admin, "admin downloads cancel-all", user=stack.alice)
    assert "Cancel 3 queued download(s)" in prompt.embeds[0]["title"]
    button = next(c for r in prompt.components for c in r["components"] if c["label"] == "Cancel 3 download(s)")
    click = await stack.discord.click(stack.admin, prompt, button["custom_id"])
    assert "Cancelled 3" in (await click.wait_reply(timeout=15)).embeds[0]["description"]
    conn = await asyncpg.connect(stack.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM downloads WHERE status = 'cancelled'") == 3
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'download.cancel'") == 3
    finally:
        await conn.close()
