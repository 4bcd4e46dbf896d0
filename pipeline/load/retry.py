"""When to retry a transient failure, how long to wait, and when the run's time is up.

Usage::

    policy = RetryPolicy.from_config(cfg.upload, rng=random.Random())
    wait = policy.wait(attempt=2, error=exc)     # seconds, or None: leave the batch pending
    policy.beyond_cap(exc)                       # True: the server asks for more than the cap
    budget = Budget(clock, seconds=cfg.upload.run_budget_s)
    budget.allows(wait)                          # False once waiting would overrun the run

Every wait is at least ``upload.backoff_base_s``: a ``Retry-After`` of 0, a negative one, a
date in the past, or a jitter drawn near 0 must not turn into an immediate retry storm. A
``Retry-After`` above ``upload.retry_after_cap_s`` (``inf`` included) is never waited.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.config import UploadConfig
from pipeline.errors import TransientApiError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, ``Retry-After`` honoured up to a cap; every wait is
    at least ``base_s``."""

    base_s: float
    max_s: float
    retry_after_cap_s: float
    max_attempts: int
    rng: random.Random

    @classmethod
    def from_config(cls, cfg: UploadConfig, *, rng: random.Random) -> RetryPolicy:
        """The policy of the ``upload:`` section."""
        return cls(
            cfg.backoff_base_s,
            cfg.backoff_max_s,
            cfg.retry_after_cap_s,
            cfg.max_attempts_per_request,
            rng,
        )

    def wait(self, *, attempt: int, error: TransientApiError) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None when the batch should wait
        for the next run instead (attempts used up, or the server asks for more than the cap).
        """
        if attempt >= self.max_attempts:
            return None
        return self.delay(attempt=attempt, error=error)

    def delay(self, *, attempt: int, error: TransientApiError) -> float | None:
        """:meth:`wait` without the attempt limit: how long the server (or the backoff) asks
        all senders to hold off after ``error``; None when it asks for more than the cap."""
        after = error.retry_after
        if after is not None:
            if self.beyond_cap(error):
                return None
            # The server said when; waiting less would only earn another 429. A 0 (or a
            # negative value, or a date in the past) is floored: never a retry at once.
            return max(self.base_s, after)
        # Jitter: uniform in [base, min(max, base * 2^attempt)] spreads parallel senders
        # apart instead of having them retry in lock step, and never retries at once.
        ceiling = min(self.max_s, self.base_s * 2**attempt)
        return self.rng.uniform(self.base_s, max(self.base_s, ceiling))

    def beyond_cap(self, error: TransientApiError) -> bool:
        """Whether the server's ``Retry-After`` is longer than ``retry_after_cap_s`` allows."""
        return error.retry_after is not None and not error.retry_after <= self.retry_after_cap_s


class Budget:
    """The per-run time budget, measured on the uploader's (injectable) clock."""

    def __init__(self, clock: Callable[[], datetime], *, seconds: float) -> None:
        self._clock = clock
        self.deadline = clock() + timedelta(seconds=seconds)

    def now(self) -> datetime:
        """The time on the budget's clock (the uploader's)."""
        return self._clock()

    def allows(self, wait_s: float = 0.0) -> bool:
        """Whether there is time left after waiting ``wait_s`` seconds."""
        return self._clock() + timedelta(seconds=wait_s) < self.deadline
