"""`medianest run | worker | migrate | check-config`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.deps import register_settings_secrets
from bot.logs import setup_logging

log = logging.getLogger("medianest")


def _settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    register_settings_secrets(settings)
    setup_logging(settings.log.level, settings.log.format.value)
    return settings


async def _migrate(settings: Settings) -> list[str]:
    import asyncpg

    from bot.db import migrate

    conn = await asyncpg.connect(settings.database.url.get_secret_value())
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def _run_bot(settings: Settings) -> None:
    from bot.client import MediaNestBot, point_discord_at

    point_discord_at(settings)
    bot = MediaNestBot(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord.token.get_secret_value()))
        stopper = asyncio.create_task(stopping.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("signal received")
            await bot.close()
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner  # re-raises a login or start-up failure


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="medianest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the Discord bot (applies migrations first)")
    worker = sub.add_parser("worker", help="run the arq download worker")
    worker.add_argument("--check", action="store_true", help="exit 0 if a worker reported in recently, else 1")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("check-config", help="validate the configuration and exit (2 on error)")
    args = parser.parse_args(argv)

    if args.command == "check-config":
        try:
            load_settings()
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            raise SystemExit(2) from None
        print("Configuration is valid.")
        return

    settings = _settings_or_exit()
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings))
        print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    elif args.command == "run":
        asyncio.run(_migrate(settings))
        asyncio.run(_run_bot(settings))
    elif args.command == "worker":
        from workers.main import check_worker, run_worker

        if args.check:
            raise SystemExit(check_worker(settings))
        run_worker(settings)


if __name__ == "__main__":
    main()
