"""An uploader that cannot reach the server: a request held by a dripping reply ends at its
deadline and is retried; an address where nothing listens stops the run after a few batches
(the circuit breaker) with a message naming the setting, and nothing is lost or doubled."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ApiNotConnectedError, ExitCode
from pipeline.load.send.edge import UNREACHABLE_BATCHES
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone


def test_a_dripped_reply_times_out_and_the_batch_is_retried_under_its_key(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    uploader.api = {"timeout_s": 1}
    # One byte every 0.8 s, each well inside the 1 s: only a deadline on the whole request
    # ends it (the ~200-byte reply would take ~3 minutes).
    emulator.set_faults([{"kind": "drip", "endpoint": "addPhones", "times": 1, "dripSeconds": 0.8}])
    summary = uploader.run(uploader.csv(20))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.attempts, summary.retries) == (3, 1)
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(20)}
    first, again = uploader.add_phones_log()[:2]
    assert first["fault"] == "drip" and again["idempotenceKey"] == first["idempotenceKey"]
    assert again["replayed"] is True  # the dripped request had been carried out


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_closed_port_stops_the_run_after_a_few_batches(
    concurrency: int,
    closed_port: int,
    uploader: Uploader,
    emulator: Emulator,
    campaign: dict[str, Any],
) -> None:
    csv = uploader.csv(100)  # 10 batches of 10
    uploader.pass_campaign_check()  # an earlier night's run asked the server already
    uploader.api = {"base_url": f"http://127.0.0.1:{closed_port}"}
    summary = uploader.run(csv, concurrency=concurrency)

    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    assert isinstance(summary.error, ApiNotConnectedError)
    last = summary.lines()[-1]
    assert f"could not connect to http://127.0.0.1:{closed_port}" in last
    assert f"{UNREACHABLE_BATCHES} batches in a row" in last
    assert "api.base_url" in last and "JAICP_BASE_URL" in last
    assert (summary.sent, summary.pending) == (0, 100) and summary.adds_up()
    # Three batches with all their tries (8 each), not all ten (80 tries until the budget).
    if concurrency == 1:
        assert summary.attempts == UNREACHABLE_BATCHES * 8
    else:  # the first group went out together; then three batches were retried to the end
        assert summary.attempts <= 10 + UNREACHABLE_BATCHES * 7
    assert uploader.query("select count(*) from rows where state = 'sent'") == [(0,)]
    errors = uploader.query("select last_error from batches where attempts > 0")
    assert errors and all("nothing was sent" in error for (error,) in errors)
    told = uploader.query("select reason from events where reason like '%could not connect%'")
    assert told and all("nothing was sent" in reason for (reason,) in told)

    uploader.api = {}  # the right address: everything goes out, once
    again = uploader.run(csv)
    assert again.exit_code == ExitCode.OK, again.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(100)}


def test_batches_that_reach_the_server_never_trip_the_breaker(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # Refused-looking failures that are not: the connection is made, then dropped. Batches
    # that reach the server never count towards the breaker, however often they fail.
    emulator.set_faults([{"kind": "drop_before_commit", "endpoint": "addPhones"}])
    summary = uploader.run(uploader.csv(50), max_attempts_per_request=2)
    assert summary.exit_code == ExitCode.PENDING
    assert summary.error is None  # left pending batch by batch, the run not stopped
    assert summary.attempts == 5 * 2
