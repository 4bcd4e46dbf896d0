"""When to retry a transient failure, how long to wait, and when the run's time is up.

Usage::

    policy = RetryPolicy.from_config(cfg.upload, rng=random.Random())
    wait = policy.wait(attempt=2, error=exc)     # seconds, or None: leave the batch pending
    budget = Budget(clock, seconds=cfg.upload.run_budget_s)
    budget.allows(wait)                          # False once waiting would overrun the run
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
    """Exponential backoff with full jitter, ``Retry-After`` honoured up to a cap."""

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
        if error.retry_after is not None:
            # The server said when; waiting less would only earn another 429.
            return error.retry_after if error.retry_after <= self.retry_after_cap_s else None
        # Full jitter: uniform in [0, min(max, base * 2^(attempt-1))] spreads parallel
        # senders apart instead of having them retry in lock step.
        ceiling = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        return self.rng.uniform(0.0, ceiling)


class Budget:
    """The per-run time budget, measured on the uploader's (injectable) clock."""

    def __init__(self, clock: Callable[[], datetime], *, seconds: float) -> None:
        self._clock = clock
        self.deadline = clock() + timedelta(seconds=seconds)

    def allows(self, wait_s: float = 0.0) -> bool:
        """Whether there is time left after waiting ``wait_s`` seconds."""
        return self._clock() + timedelta(seconds=wait_s) < self.deadline
