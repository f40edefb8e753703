"""The download queue as arq keeps it in Redis: how many jobs wait, and whether a worker lives.

Kept in one place so only this module knows arq's key layout.
"""

from __future__ import annotations

from arq.connections import ArqRedis
from arq.constants import default_queue_name, health_check_key_suffix


async def depth(arq: ArqRedis) -> int:
    """Jobs waiting (queued or deferred) in the default queue."""
    return int(await arq.zcard(default_queue_name))


async def worker_report(arq: ArqRedis) -> str | None:
    """A live worker's latest health line ("j_complete=… queued=…"), or None when none reported in lately."""
    raw = await arq.get(default_queue_name + health_check_key_suffix)
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)
