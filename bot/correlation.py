"""The correlation id of the work in progress, carried by a contextvar.

Set to the interaction id for a command and to the job id for a worker job, so
every log line of one piece of work can be found together.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


@contextlib.contextmanager
def correlated(value: str | int) -> Iterator[str]:
    token = correlation_id.set(str(value))
    try:
        yield str(value)
    finally:
        correlation_id.reset(token)


def current() -> str:
    return correlation_id.get()
