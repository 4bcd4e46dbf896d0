"""The retry policy: jitter between the backoff base and an exponential ceiling, Retry-After
floored at the base and honoured up to its cap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.api import parse_retry_after
from pipeline.errors import RateLimitedError, ServerError
from pipeline.load.retry import Budget, RetryPolicy


def _policy(**kw: float) -> RetryPolicy:
    args = {"base_s": 0.5, "max_s": 4.0, "retry_after_cap_s": 60.0, "max_attempts": 6} | kw
    return RetryPolicy(rng=random.Random(1), **args)  # type: ignore[arg-type]


def test_backoff_is_jitter_from_the_base_under_a_doubling_ceiling() -> None:
    policy = _policy()
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0), (5, 4.0)]:
        waits = [policy.wait(attempt=attempt, error=ServerError("x")) for _ in range(200)]
        # Never below the base: a draw near 0 would be a retry at once.
        assert all(w is not None and 0.5 <= w <= ceiling for w in waits)
        assert max(w or 0 for w in waits) > ceiling * 0.8  # it spreads over the whole range
        assert min(w or 0 for w in waits) < 0.5 + (ceiling - 0.5) * 0.2


def test_attempts_are_bounded() -> None:
    assert _policy().wait(attempt=6, error=ServerError("x")) is None


def test_retry_after_is_used_as_given_up_to_the_cap() -> None:
    policy = _policy()
    assert policy.wait(attempt=1, error=RateLimitedError("x", retry_after=12.5)) == 12.5
    assert policy.wait(attempt=1, error=RateLimitedError("x", retry_after=61)) is None


@pytest.mark.parametrize("header", ["0", "-5", "-0.0", "Mon, 01 Jan 2001 00:00:00 GMT"])
def test_a_retry_after_of_zero_or_less_is_floored_at_the_backoff_base(header: str) -> None:
    seconds = parse_retry_after(header, now=1_700_000_000.0)
    assert seconds == 0.0
    error = RateLimitedError("x", retry_after=seconds)
    assert _policy().wait(attempt=1, error=error) == 0.5


@pytest.mark.parametrize("header", ["nan", "NaN", "soon", "", "1,5"])
def test_an_unusable_retry_after_falls_back_to_the_floored_backoff(header: str) -> None:
    seconds = parse_retry_after(header, now=1_700_000_000.0)
    assert seconds is None
    waits = [
        _policy().wait(attempt=1, error=RateLimitedError("x", retry_after=seconds))
        for _ in range(50)
    ]
    assert all(w is not None and 0.5 <= w <= 1.0 for w in waits)


@pytest.mark.parametrize("header", ["1e999", "inf", "86400", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_an_absurd_retry_after_is_never_waited(header: str) -> None:
    error = RateLimitedError("x", retry_after=parse_retry_after(header, now=1_700_000_000.0))
    policy = _policy()
    assert policy.beyond_cap(error)
    assert policy.wait(attempt=1, error=error) is None
    assert policy.delay(attempt=1, error=error) is None


def test_the_budget_counts_waiting_on_the_injected_clock() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    budget = Budget(lambda: now[0], seconds=10)
    assert budget.allows(9.0) and not budget.allows(10.0)
    now[0] += timedelta(seconds=11)
    assert not budget.allows()
