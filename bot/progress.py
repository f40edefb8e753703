"""Keeps one Discord message per download up to date, within Discord's edit limits.

Progress arrives many times a second; a message is edited at most once every
`min_interval` seconds, with the newest state, and the final state is always
shown (after the interval if an edit just happened).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Edit = Callable[[int, int, object], Awaitable[None]]  # channel id, message id, what to show


@dataclass
class _Tracked:
    channel_id: int
    message_id: int
    last_edit: float = 0.0
    latest: object | None = None
    timer: asyncio.Task[None] | None = None
    final: bool = False
    edits: int = field(default=0)


class ThrottledEditor:
    def __init__(self, edit: Edit, *, min_interval: float = 2.0) -> None:
        self._edit = edit
        self.min_interval = min_interval
        self._tracked: dict[int, _Tracked] = {}

    def watch(self, key: int, channel_id: int, message_id: int) -> None:
        self._tracked[key] = _Tracked(channel_id, message_id, last_edit=time.monotonic())

    def watching(self, key: int) -> bool:
        return key in self._tracked

    def update(self, key: int, content: object) -> None:
        tracked = self._tracked.get(key)
        if tracked is None or tracked.final:
            return
        tracked.latest = content
        self._schedule(key, tracked)

    def finish(self, key: int, content: object) -> None:
        tracked = self._tracked.get(key)
        if tracked is None:
            return
        tracked.latest = content
        tracked.final = True
        if tracked.timer is not None:
            tracked.timer.cancel()
            tracked.timer = None
        self._schedule(key, tracked)

    def _schedule(self, key: int, tracked: _Tracked) -> None:
        if tracked.timer is not None:
            return  # an edit is already due; it will take the newest content
        wait = max(0.0, tracked.last_edit + self.min_interval - time.monotonic())
        tracked.timer = asyncio.create_task(self._flush(key, tracked, wait))

    async def _flush(self, key: int, tracked: _Tracked, wait: float) -> None:
        if wait:
            await asyncio.sleep(wait)
        content, tracked.latest = tracked.latest, None
        tracked.timer = None
        if content is not None:
            tracked.last_edit = time.monotonic()
            tracked.edits += 1
            try:
                await self._edit(tracked.channel_id, tracked.message_id, content)
            except Exception:
                log.warning("could not edit progress message %s", tracked.message_id, exc_info=True)
        if tracked.final and tracked.latest is None:
            self._tracked.pop(key, None)

    async def close(self) -> None:
        for tracked in self._tracked.values():
            if tracked.timer is not None:
                tracked.timer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tracked.timer
        self._tracked.clear()
