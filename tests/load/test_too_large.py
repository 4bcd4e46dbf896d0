"""HTTP 413: the server processed nothing, so the batch is split under new keys and the
campaign remembers a smaller batch size (this run and later ones); a row too large alone is
rejected. Never split when an earlier attempt may have created the jobs."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone

# A 10-row body of the test rows is ~470 bytes, a 5-row one ~235: 300 takes 5, refuses 10.
LIMIT = 300


def _verified(uploader: Uploader) -> list[Any]:
    with open_ledger(uploader.ledger_url) as ledger:
        return list(verify_ledger(ledger.store.engine))


def _statuses(uploader: Uploader) -> Counter[int]:
    return Counter(entry["status"] for entry in uploader.add_phones_log())


def _no_key_with_two_bodies(uploader: Uploader) -> bool:
    bodies: dict[str, set[str]] = {}
    for entry in uploader.add_phones_log():
        bodies.setdefault(entry["idempotenceKey"], set()).add(entry["bodySha256"])
    return all(len(shas) == 1 for shas in bodies.values())


@pytest.mark.parametrize("style", ["json", "html", "empty"])
def test_a_batch_too_large_is_split_and_the_smaller_size_kept(
    style: str, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_limits(LIMIT, style)
    first, second = uploader.csv(40), uploader.csv(20, start=40)
    summary = uploader.run(first, second)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(60)}
    # The first file's four batches of 10 were refused once each and went out as halves;
    # the second file, planned after that, was cut into fives: no 413 for it.
    assert _statuses(uploader) == {413: 4, 200: 8 + 4}
    assert _no_key_with_two_bodies(uploader)
    assert uploader.query("select max_batch_rows from campaigns") == [(5,)]
    refused = uploader.query("select state, last_error from batches where generation = 1")
    assert sum(state == "rejected" and "413" in (error or "") for state, error in refused) == 4

    # A later run remembers: a new file goes out in batches of five from the start.
    third = uploader.run(uploader.csv(20, start=60))
    assert third.exit_code == ExitCode.OK, third.lines()
    assert _statuses(uploader) == {413: 4, 200: 8 + 4 + 4}
    assert _verified(uploader) == []


def test_a_row_too_large_alone_is_rejected(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_limits(30)  # not even one row fits
    summary = uploader.run(uploader.csv(10))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.rejected) == (0, 10) and summary.adds_up()
    assert emulator.jobs(campaign["id"]) == []
    reasons = uploader.query("select reason_code, reason from rows")
    assert {code for code, _ in reasons} == {"row_too_large"}
    assert all("HTTP 413" in reason for _, reason in reasons)
    assert uploader.query("select max_batch_rows from campaigns") == [(1,)]
    assert _no_key_with_two_bodies(uploader)
    assert _verified(uploader) == []


def test_no_split_after_an_attempt_that_may_have_created_the_jobs(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # The first attempt is carried out but its reply is lost; before the retry a limit (a
    # proxy in front, say) starts refusing the body. Splitting now would call all ten twice.
    emulator.set_faults([{"kind": "drop_after_commit", "endpoint": "addPhones", "times": 1}])
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        emulator.set_limits(LIMIT)
        uploader.clock.advance(seconds)

    uploader.sleep = sleep  # type: ignore[method-assign]
    csv = uploader.csv(10)
    summary = uploader.run(csv)
    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    assert waits and [e["status"] for e in uploader.add_phones_log()] == [None, 413]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(10)}
    assert uploader.query("select state from batches") == [("unknown",)]

    emulator.set_limits(None)
    again = uploader.run(csv)  # the same key and bytes: the server replays its first reply
    assert again.exit_code == ExitCode.OK, again.lines()
    assert uploader.add_phones_log()[-1]["replayed"] is True
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(10)}
    assert _verified(uploader) == []
