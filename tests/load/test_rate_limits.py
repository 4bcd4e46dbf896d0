"""429 and Retry-After: no value makes the uploader retry at once or wait without end, and a
server that asks for more than the cap is not sent to again in this run, from any sender."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, RateLimitedError
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone


@pytest.mark.parametrize("retry_after", [0, -5, 0.01])
def test_a_retry_after_below_the_backoff_base_is_floored(
    retry_after: float, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "times": 3, "retryAfter": retry_after}]
    )
    summary = uploader.run(uploader.csv(10), backoff_base_s=0.5)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert uploader.sleeps == [0.5, 0.5, 0.5]  # not three retries at once
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(10)}


def test_a_retry_after_that_is_not_a_number_falls_back_to_the_backoff(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "times": 3, "retryAfter": float("nan")}]
    )
    summary = uploader.run(uploader.csv(10), backoff_base_s=0.5, backoff_max_s=30)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert len(uploader.sleeps) == 3 and all(s >= 0.5 for s in uploader.sleeps)


@pytest.mark.parametrize("retry_after", [1e9, float("inf")])
def test_an_absurd_retry_after_is_not_waited(
    retry_after: float, uploader: Uploader, emulator: Emulator
) -> None:
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "retryAfter": retry_after}]
    )
    summary = uploader.run(uploader.csv(10))
    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    assert uploader.sleeps == [] and summary.pending == 10


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_retry_after_beyond_the_cap_stops_every_sender(
    concurrency: int, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    csv = uploader.csv(200)  # 20 batches
    emulator.set_faults([{"kind": "rate_limit", "endpoint": "addPhones", "retryAfter": 600}])
    summary = uploader.run(csv, concurrency=concurrency, retry_after_cap_s=60)
    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    assert isinstance(summary.error, RateLimitedError)
    assert (summary.sent, summary.pending) == (0, 200) and summary.adds_up()
    # The senders that had a request on the way when the 429 came may finish it; none sends
    # another one (before: every one of the 20 batches met its own 429).
    assert len(uploader.add_phones_log()) <= concurrency
    emulator.clear_faults()
    again = uploader.run(csv, concurrency=concurrency)
    assert again.exit_code == ExitCode.OK, again.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(200)}
