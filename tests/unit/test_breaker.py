"""The circuit breaker opens after repeated failures, fails fast, then lets one trial through."""

from __future__ import annotations

from bot.integrations.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_cancelled_trial_does_not_block_the_next_one() -> None:
    clock = Clock()
    breaker = CircuitBreaker("plex", failure_threshold=1, reset_after=10, clock=clock)
    breaker.failure()
    clock.now = 11
    assert breaker.allow()
    breaker.release()  # the trial call was cancelled
    assert breaker.allow()


def test_opens_fails_fast_half_opens_and_closes() -> None:
    clock = Clock()
    changes: list[BreakerState] = []
    breaker = CircuitBreaker(
        "plex", failure_threshold=3, reset_after=30, clock=clock, on_change=lambda _, s: changes.append(s)
    )
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    assert breaker.retry_in() == 30
    clock.now = 31
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.failure()
    assert breaker.state is BreakerState.OPEN  # the trial failed: open again at once
    clock.now = 62
    assert breaker.allow()
    breaker.success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    assert changes == [BreakerState.OPEN, BreakerState.OPEN, BreakerState.CLOSED]
