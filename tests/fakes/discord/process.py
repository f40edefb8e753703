"""Run a bot as a separate OS process pointed at a FakeDiscord.

The bot under test is started exactly as in production (its own interpreter,
its own event loop), only with env vars redirecting Discord's REST base and
gateway URL to the fake. Output goes to a log file that failures quote, and
stop() is SIGTERM then SIGKILL after a deadline, so a hung bot cannot hang the
test run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from .api import FakeDiscord


class BotProcess:
    def __init__(
        self,
        cmd: Sequence[str],
        fake: FakeDiscord,
        *,
        env: Mapping[str, str] | None = None,
        log_path: Path | str | None = None,
        cwd: Path | str | None = None,
        inherit_env: bool = True,
    ) -> None:
        self.cmd = list(cmd)
        self.fake = fake
        self.extra_env = dict(env or {})
        self.cwd = str(cwd) if cwd else None
        self.inherit_env = inherit_env
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="bot-", suffix=".log")
            os.close(fd)
            log_path = name
        self.log_path = Path(log_path)
        self.proc: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        base = dict(os.environ) if self.inherit_env else {"PATH": os.environ.get("PATH", "")}
        return {**base, "PYTHONUNBUFFERED": "1", **self.fake.bot_env(), **self.extra_env}

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    async def start(self, wait_ready: bool = True, timeout: float = 30.0) -> None:
        self._log = open(self.log_path, "wb")  # noqa: ASYNC230 - a local log file; closed in stop()
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        if wait_ready:
            await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the fake saw the bot identify and got READY out; fails fast if it died."""
        deadline = time.monotonic() + timeout
        while not self.fake.bot_ready:
            if self.returncode is not None:
                raise AssertionError(f"bot exited with {self.returncode} before READY:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"bot not ready after {timeout}s:\n{self.log_tail()}")
            await asyncio.sleep(0.02)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def peak_rss_kb(self) -> int | None:
        """VmHWM (peak resident set) of the running process, in kB; None once it exited."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            return None
        return None

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            try:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            except ProcessLookupError:
                await proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.returncode

    async def __aenter__(self) -> BotProcess:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
