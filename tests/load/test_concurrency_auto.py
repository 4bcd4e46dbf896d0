"""``upload.concurrency: auto`` against the emulator: with a reply delay the senders overlap
(the emulator's log shows requests on the wire together), a 429 storm makes them fewer without
any batch giving up, and every row still gets exactly one call job."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone

# Real seconds each addPhones reply waits (a far server): long beside the time two threads
# take to start their requests, so requests sent together are seen together.
DELAY = {"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.2}
CHANGE = re.compile(r"senders: (\d+) at once \(was (\d+);")


def changes(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    """(was, now) of every logged change of the number of senders."""
    found = [CHANGE.search(r.getMessage()) for r in caplog.records]
    return [(int(m[2]), int(m[1])) for m in found if m]


def test_auto_sends_several_requests_at_once_against_a_slow_server(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults([DELAY])
    summary = uploader.run(uploader.csv(200), concurrency="auto", max_concurrency=4)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    log = uploader.add_phones_log()
    assert len(log) == 20
    first, second = sorted(log, key=lambda entry: entry["arrived"])[:2]
    assert second["arrived"] > first["answered"]  # it starts with one sender
    assert max(entry["inFlight"] for entry in log) > 1
    assert max(entry["inFlight"] for entry in log) <= 4  # never above the maximum
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(200)}


def test_a_fixed_concurrency_of_one_never_overlaps(uploader: Uploader, emulator: Emulator) -> None:
    emulator.set_faults([DELAY])
    summary = uploader.run(uploader.csv(50), concurrency=1)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert {entry["inFlight"] for entry in uploader.add_phones_log()} == {1}


def test_a_429_storm_makes_auto_send_fewer_at_once_and_loses_nothing(
    uploader: Uploader,
    emulator: Emulator,
    campaign: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Every third request (seeded) refused with 429 while replies are slow: the pace rises
    # on the fast ones and must halve on the refusals.
    storm = {"kind": "rate_limit", "endpoint": "addPhones", "probability": 0.35, "retryAfter": 0}
    emulator.set_faults([DELAY, storm], seed=3)
    caplog.set_level(logging.INFO, logger="pipeline.load")
    summary = uploader.run(
        uploader.csv(300), concurrency="auto", max_concurrency=8, max_attempts_per_request=20
    )
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.pending) == (300, 0) and summary.adds_up()
    seen = changes(caplog)
    assert any(now < was for was, now in seen), seen  # it fell
    log = uploader.add_phones_log()
    refused = [e for e in log if e["status"] == 429]
    assert refused, "the storm did not happen"
    # No error piled up: every batch was created once, and each 429 was retried by the
    # batch that got it (one created reply per key, nothing beyond).
    created = [e["idempotenceKey"] for e in log if e["status"] == 200 and not e["replayed"]]
    assert len(created) == len(set(created)) == 30
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(300)}
