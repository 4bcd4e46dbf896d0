"""The retry policy: full jitter under an exponential ceiling, Retry-After up to its cap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.errors import RateLimitedError, ServerError
from pipeline.load.retry import Budget, RetryPolicy


def _policy(**kw: float) -> RetryPolicy:
    args = {"base_s": 0.5, "max_s": 4.0, "retry_after_cap_s": 60.0, "max_attempts": 6} | kw
    return RetryPolicy(rng=random.Random(1), **args)  # type: ignore[arg-type]


def test_backoff_is_full_jitter_under_a_doubling_ceiling() -> None:
    policy = _policy()
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0)]:
        waits = [policy.wait(attempt=attempt, error=ServerError("x")) for _ in range(200)]
        assert all(w is not None and 0 <= w <= ceiling for w in waits)
        assert max(w or 0 for w in waits) > ceiling * 0.8  # it spreads over the whole range


def test_attempts_are_bounded() -> None:
    assert _policy().wait(attempt=6, error=ServerError("x")) is None


def test_retry_after_is_used_as_given_up_to_the_cap() -> None:
    policy = _policy()
    assert policy.wait(attempt=1, error=RateLimitedError("x", retry_after=12.5)) == 12.5
    assert policy.wait(attempt=1, error=RateLimitedError("x", retry_after=61)) is None


def test_the_budget_counts_waiting_on_the_injected_clock() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    budget = Budget(lambda: now[0], seconds=10)
    assert budget.allows(9.0) and not budget.allows(10.0)
    now[0] += timedelta(seconds=11)
    assert not budget.allows()
