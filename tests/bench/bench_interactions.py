"""Benchmark: interaction acknowledgement latency and peak memory of a bot process.

Run by hand (not in CI). It starts a FakeDiscord, launches the bot as a real
process pointed at it, fires a steady stream of slash commands and reports how
long the bot took to acknowledge each one (dispatch -> initial callback, the
number Discord's 3-second rule is about) and the process's peak RSS (VmHWM).

The bare discord.py bot is the baseline; `--bot-cmd` adds a candidate (e.g. the
MediaNest bot) run the same way, and the ratio candidate/baseline is printed:

    python tests/bench/bench_interactions.py --count 2000 --rate 100
    python tests/bench/bench_interactions.py --bot-cmd "medianest run" --env-file .env.bench \\
        --env MEDIANEST_GUILD_ID={guild_id} --bot-command help

Env values may use {guild_id}, {channel_id} and {application_id}, filled in from
the fake's world once it exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python tests/bench/bench_interactions.py`
    sys.path.insert(0, str(ROOT))

from tests.fakes.base import wait_for  # noqa: E402
from tests.fakes.discord import BotProcess, FakeDiscord, Interaction  # noqa: E402

BARE_BOT_CMD = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'tests' / 'bench' / 'bare_bot.py'))}"


@dataclass
class Result:
    label: str
    sent: int
    acked: int
    failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    peak_rss_kb: int | None
    wall_s: float


def parse_env(env_file: str | None, pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    if env_file:
        for line in Path(env_file).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key.strip()] = value.strip().strip('"').strip("'")
    for pair in pairs:
        key, value = pair.split("=", 1)
        env[key] = value
    return env


def parse_option(pair: str) -> tuple[str, object]:
    """`count=3` -> 3 (JSON when it parses, so ints and bools work), else the string."""
    name, raw = pair.split("=", 1)
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run_one(
    label: str, cmd: str, env: dict[str, str], command: str, options: dict[str, object], args: argparse.Namespace
) -> Result:
    fake = FakeDiscord(contract=args.contract)
    await fake.start()
    guild = fake.create_guild("Bench")
    channel = fake.create_channel(guild, "bench")
    users = [fake.create_user(f"user{i}") for i in range(args.users)]
    for user in users:
        fake.add_member(guild, user)
    filled = {
        k: v.format(guild_id=guild.id, channel_id=channel.id, application_id=fake.application_id)
        for k, v in env.items()
    }
    log = Path(args.log_dir) / f"bench-{label}.log"
    bot = BotProcess(shlex.split(cmd), fake, env=filled, log_path=log, cwd=ROOT)
    try:
        await bot.start(timeout=args.start_timeout)
        await fake.wait_for_commands([command.split()[0]], guild=guild, timeout=args.start_timeout)
        for _ in range(args.warmup):
            warm = await fake.slash(users[0], command, channel=channel, options=dict(options))
            await warm.wait_ack(timeout=10)
        handles: list[Interaction] = []
        start = time.monotonic()
        for i in range(args.count):
            target = start + i / args.rate
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load, not waiting for work
            user = users[i % len(users)]
            handles.append(await fake.slash(user, command, channel=channel, options=dict(options)))
        await wait_for(
            lambda: all(h.acknowledged or h.failure for h in handles),
            fake.interactions.ack_timeout + 10,
            what="every interaction to be acknowledged or to fail",
        )
        wall = time.monotonic() - start
        rss = bot.peak_rss_kb()
        latencies = sorted(h.ack_latency * 1000 for h in handles if h.ack_latency is not None)
        problems = await fake.problems() if args.contract else []
        for problem in problems[:10]:
            print(f"  [{label}] {problem.splitlines()[0]}")
        return Result(
            label,
            len(handles),
            len(latencies),
            sum(1 for h in handles if h.failure),
            percentile(latencies, 50),
            percentile(latencies, 99),
            latencies[-1] if latencies else float("nan"),
            rss,
            wall,
        )
    except AssertionError:
        print(f"--- {label} log tail ---\n{bot.log_tail()}", file=sys.stderr)
        raise
    finally:
        await bot.stop()
        await fake.stop()


def report(results: list[Result]) -> None:
    print(
        f"{'bot':<12}{'sent':>7}{'acked':>7}{'failed':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'peak RSS MB':>13}{'wall s':>8}"
    )
    for r in results:
        rss = f"{r.peak_rss_kb / 1024:.1f}" if r.peak_rss_kb else "n/a"
        print(
            f"{r.label:<12}{r.sent:>7}{r.acked:>7}{r.failed:>7}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.max_ms:>9.1f}"
            f"{rss:>13}{r.wall_s:>8.1f}"
        )
    if len(results) == 2:
        base, cand = results
        ratio_rss = (cand.peak_rss_kb / base.peak_rss_kb) if cand.peak_rss_kb and base.peak_rss_kb else float("nan")
        print(
            f"ratio {cand.label}/{base.label}: p50 x{cand.p50_ms / base.p50_ms:.2f}, "
            f"p99 x{cand.p99_ms / base.p99_ms:.2f}, peak RSS x{ratio_rss:.2f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=2000, help="interactions to send (default 2000)")
    p.add_argument("--rate", type=float, default=100.0, help="interactions per second (default 100)")
    p.add_argument("--users", type=int, default=20, help="distinct users sending them (default 20)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured interactions first (default 20)")
    p.add_argument("--command", default="ping", help="slash command for the baseline (default ping)")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option for the command, VALUE parsed as JSON if it can be (repeatable)",
    )
    p.add_argument("--baseline-cmd", default=BARE_BOT_CMD, help="baseline bot command (default: the bare bot)")
    p.add_argument("--no-baseline", action="store_true", help="run only --bot-cmd")
    p.add_argument("--bot-cmd", help="candidate bot command, e.g. 'medianest run'")
    p.add_argument("--label", default="candidate", help="name of the candidate in the report")
    p.add_argument("--bot-command", help="slash command for the candidate (default: --command)")
    p.add_argument("--env-file", help="KEY=VALUE lines added to the candidate's environment")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra candidate env (repeatable); may use {guild_id} {channel_id} {application_id}",
    )
    p.add_argument("--contract", action="store_true", help="also validate traffic against the OpenAPI spec")
    p.add_argument("--start-timeout", type=float, default=60.0)
    p.add_argument("--log-dir", default="/tmp", help="where bot logs go (default /tmp)")
    return p.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = dict(parse_option(o) for o in args.option)
    results = []
    if not args.no_baseline:
        results.append(await run_one("bare", args.baseline_cmd, {}, args.command, options, args))
    if args.bot_cmd:
        env = parse_env(args.env_file, args.env)
        results.append(await run_one(args.label, args.bot_cmd, env, args.bot_command or args.command, options, args))
    if not results:
        print("nothing to run: pass --bot-cmd or drop --no-baseline", file=sys.stderr)
        return 2
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
