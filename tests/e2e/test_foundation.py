"""The real bot against the fake Discord: login and sync, /help, the one error path, health."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.e2e.conftest import Stack
from tests.fakes.base import json_response, wait_for
from tests.fakes.tcp_proxy import TcpProxy


async def test_bot_logs_in_syncs_to_the_guild_and_help_answers(stack: Stack) -> None:
    await stack.start_bot()
    names = {c["name"] for c in stack.discord.registered_commands(stack.guild)}
    assert {"help", "link", "unlink", "whoami", "admin", "download"} <= names
    assert stack.discord.registered_commands() == []  # guild copies replace the global set
    admin = next(c for c in stack.discord.registered_commands(stack.guild) if c["name"] == "admin")
    assert admin["default_member_permissions"] == str(0x20)  # hidden from ordinary members
    assert stack.discord.gateway_stats.identifies == 1

    reply = await (
        await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert reply.ephemeral
    text = reply.embeds[0]["description"]
    assert "`/link`" in text and "`/download`" in text
    assert reply.allowed_mentions == {"parse": []}


async def test_app_error_reaches_the_user_as_an_ephemeral_embed_with_code_and_reference(stack: Stack) -> None:
    await stack.start_bot()
    interaction = await stack.discord.slash(stack.alice, "unlink", guild=stack.guild, channel=stack.channel)
    reply = await interaction.wait_reply()
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert "Not linked" in embed["title"]
    assert "run /link" in embed["description"]
    assert embed["footer"]["text"] == f"UNAUTHORIZED · ref {interaction.id}"


async def test_unexpected_error_is_logged_with_traceback_and_shown_as_internal_error(stack: Stack) -> None:
    """plex.tv answering something we cannot read is a bug to log, not a message to invent."""

    stack.plex_tv.override("POST", "/api/v2/pins", lambda: json_response({"surprise": True}, status=201))
    await stack.start_bot()
    interaction = await stack.discord.slash(stack.alice, "link", guild=stack.guild, channel=stack.channel)
    reply = await interaction.wait_reply(timeout=10)
    assert reply.ephemeral
    assert reply.embeds[0]["footer"]["text"] == f"INTERNAL_ERROR · ref {interaction.id}"
    assert "quote the reference" in reply.embeds[0]["description"]
    errors = [e for e in stack.logs() if e["level"] == "ERROR" and e["correlation_id"] == str(interaction.id)]
    assert errors and "ValidationError" in errors[0]["exception"]
    assert "Traceback" in errors[0]["exception"]


async def test_readyz_follows_the_database_and_metrics_count_commands(stack: Stack) -> None:
    parts = urlsplit(stack.database_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    try:
        dsn = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
        bot = await stack.start_bot(DATABASE_URL=dsn)
        async with stack.web(bot) as web_client:
            assert (await web_client.get("/healthz")).status_code == 200

            async def ready() -> bool:
                return (await web_client.get("/readyz")).status_code == 200

            await wait_for(ready, timeout=10, what="readiness")
            body = (await web_client.get("/readyz")).json()
            assert body["checks"] == {"database": "ok", "redis": "ok", "discord": "ok"}

            await (
                await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)
            ).wait_reply()
            await (
                await stack.discord.slash(stack.alice, "unlink", guild=stack.guild, channel=stack.channel)
            ).wait_reply()
            metrics = (await web_client.get("/metrics")).text
            assert 'medianest_commands_total{command="help",outcome="ok"} 1.0' in metrics
            assert 'medianest_commands_total{command="unlink",outcome="error"} 1.0' in metrics
            assert 'medianest_errors_total{code="UNAUTHORIZED"} 1.0' in metrics

            await proxy.cut()
            down = await web_client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["checks"]["database"] != "ok"
            assert down.json()["checks"]["redis"] == "ok"
            assert (await web_client.get("/healthz")).status_code == 200
    finally:
        await proxy.stop()


async def test_bot_resumes_after_a_gateway_reconnect_and_keeps_answering(stack: Stack) -> None:
    await stack.start_bot()
    await (await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)).wait_reply()
    stack.discord.send_reconnect()
    await wait_for(lambda: stack.discord.gateway_stats.resumes == 1, timeout=15, what="a RESUME")
    reply = await (
        await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)
    ).wait_reply()
    assert "MediaNest" in reply.embeds[0]["title"]
    assert stack.discord.gateway_stats.identifies == 1  # resumed, not re-identified


async def test_a_429_on_the_interaction_callback_is_waited_out(stack: Stack) -> None:
    await stack.start_bot()
    stack.discord.rate_limit_next("POST", "/interactions/{id}/{token}/callback", n=1, retry_after=0.3)
    interaction = await stack.discord.slash(stack.alice, "help", guild=stack.guild, channel=stack.channel)
    reply = await interaction.wait_reply()
    assert "MediaNest" in reply.embeds[0]["title"]
    assert [hit.path for hit in stack.discord.rate_limit_hits if "callback" in hit.path]
