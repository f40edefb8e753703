"""Progress edits: at most one per interval, newest content, final state always shown."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.progress import ThrottledEditor
from tests.fakes.base import wait_for


async def test_bursts_are_coalesced_and_final_is_shown() -> None:
    edits: list[tuple[float, object]] = []

    async def edit(channel_id: int, message_id: int, content: object) -> None:
        edits.append((time.monotonic(), content))

    editor = ThrottledEditor(edit, min_interval=0.2)
    editor.watch(1, 10, 100)
    for i in range(50):
        editor.update(1, f"p{i}")
        await asyncio.sleep(0.01)
    editor.finish(1, "done")
    await wait_for(lambda: not editor.watching(1), timeout=3, what="final edit")
    contents = [c for _, c in edits]
    assert contents[-1] == "done"
    assert len(contents) <= 5  # 0.5 s of updates at one edit per 0.2 s, plus the final one
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(edits)]
    assert all(gap >= 0.19 for gap in gaps)
    await editor.close()


async def test_unwatched_keys_are_ignored() -> None:
    calls: list[object] = []

    async def edit(channel_id: int, message_id: int, content: object) -> None:
        calls.append(content)

    editor = ThrottledEditor(edit, min_interval=0.01)
    editor.update(99, "x")
    editor.finish(99, "y")
    assert calls == []
