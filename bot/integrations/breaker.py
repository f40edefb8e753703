"""A circuit breaker per integration: after repeated failures, fail fast for a while.

While open, callers get SERVICE_UNAVAILABLE at once instead of waiting for a
timeout on every command; after `reset_after` seconds one trial call goes through
(half-open) and its outcome closes or re-opens the circuit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 3,
        reset_after: float = 30.0,
        on_change: Callable[[str, BreakerState], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._on_change = on_change
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_in(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.reset_after - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def release(self) -> None:
        """A call that ended without a verdict (cancelled): let the next one be the trial."""
        self._trial_in_flight = False

    def success(self) -> None:
        was = self.state
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False
        if was is not BreakerState.CLOSED:
            self._notify(BreakerState.CLOSED)

    def failure(self) -> None:
        self._failures += 1
        self._trial_in_flight = False
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._notify(BreakerState.OPEN)

    def _notify(self, state: BreakerState) -> None:
        if self._on_change is not None:
            self._on_change(self.name, state)
