"""Across runs and campaigns: resume, concurrency, cross-run duplicates, shared phones, PG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from tests.conftest import phone, random_token
from tests.load.conftest import Uploader, jobs_per_phone, write_csv


def _ok_keys(uploader: Uploader) -> list[str]:
    return [e["idempotenceKey"] for e in uploader.add_phones_log() if e["status"] == 200]


def test_a_partial_run_is_resumed_without_resending_what_was_sent(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    csv = uploader.csv(100)
    # Half the batches fail their one try (a 429 beyond the cap would stop the whole run).
    emulator.set_faults(
        [{"kind": "error_before_commit", "endpoint": "addPhones", "probability": 0.5}], seed=3
    )
    first = uploader.run(csv, max_attempts_per_request=1)
    assert first.exit_code == ExitCode.PENDING
    assert 0 < first.sent < 100 and first.adds_up()
    sent_keys = set(_ok_keys(uploader))

    emulator.clear_faults()
    second = uploader.run(csv)
    assert second.exit_code == ExitCode.OK, second.lines()
    assert (second.read, second.sent) == (100, 100)
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(100)}
    keys = _ok_keys(uploader)
    assert len(keys) == len(set(keys)) == 10  # each batch confirmed once, under one key
    assert sent_keys < set(keys)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_parallel_senders_give_the_same_result(
    concurrency: int, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults(
        [
            {"kind": "error_after_commit", "endpoint": "addPhones", "probability": 0.2},
            {"kind": "drop_after_commit", "endpoint": "addPhones", "probability": 0.2},
        ],
        seed=11,
    )
    summary = uploader.run(uploader.csv(300), concurrency=concurrency, max_attempts_per_request=50)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.batches_confirmed) == (300, 30)
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(300)}
    with open_ledger(uploader.ledger_url) as ledger:
        assert verify_ledger(ledger.store.engine) == []


def test_rows_sent_by_an_earlier_run_are_duplicates_within_the_window(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    first = [(phone(i), f"N{i}") for i in range(10)]
    assert uploader.run(write_csv(tmp_path / "a.csv", first)).exit_code == ExitCode.OK
    second = write_csv(tmp_path / "b.csv", [*first, (phone(99), "new")])
    summary = uploader.run(second, repeat_window_s=3600)
    assert (summary.sent, summary.duplicate, summary.repeats_of_earlier_runs) == (1, 10, 10)
    assert "repeat rows sent by earlier runs" in "\n".join(summary.lines())
    assert len(emulator.jobs(campaign["id"])) == 11

    uploader.clock.advance(7200)  # past the window: the same rows are called again
    third = write_csv(tmp_path / "c.csv", [*first, (phone(98), "new")])
    assert uploader.run(third, repeat_window_s=3600).sent == 11
    assert len(emulator.jobs(campaign["id"])) == 22


def test_allow_repeats_calls_identical_rows_again(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    rows = [(phone(i), f"N{i}") for i in range(10)]
    uploader.run(write_csv(tmp_path / "a.csv", rows))
    again = uploader.run(
        write_csv(tmp_path / "b.csv", [*rows, (phone(50), "x")]), allow_repeats=True
    )
    assert (again.sent, again.duplicate) == (11, 0)
    assert jobs_per_phone(emulator, campaign["id"])[phone(0)] == 2


def test_two_campaigns_of_one_account_sharing_phones_each_get_one_job_per_row(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    other = emulator.create_campaign(random_token(), name="Survey")  # same account 104
    csv = uploader.csv(25)
    assert uploader.run(csv).exit_code == ExitCode.OK
    keys_first = set(_ok_keys(uploader))
    assert uploader.run(csv, token=other["token"]).exit_code == ExitCode.OK
    keys_second = set(_ok_keys(uploader)) - keys_first
    assert keys_first.isdisjoint(keys_second) and len(keys_second) == 3
    for camp in (campaign, other):
        assert jobs_per_phone(emulator, camp["id"]) == {phone(i): 1 for i in range(25)}


def test_happy_path_on_postgresql(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], pg_url: str
) -> None:
    uploader.ledger_url = pg_url
    emulator.set_faults([{"kind": "drop_after_commit", "endpoint": "addPhones", "times": 2}])
    summary = uploader.run(uploader.csv(45), concurrency=2)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(45)}
    assert uploader.run(uploader.csv(45)).sent == 45  # same bytes: the finished input again
    assert len(emulator.jobs(campaign["id"])) == 45
    with open_ledger(pg_url) as ledger:
        assert verify_ledger(ledger.store.engine) == []


def test_a_run_that_cannot_send_still_records_its_own_file(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # Yesterday's batch is left unsent; tonight the campaign refuses numbers, so the run stops
    # while finishing old work. Tonight's file must still be read and counted as pending,
    # never silently skipped (found by review: rows read was 0).
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 1}])
    first = uploader.run(uploader.csv(3), max_attempts_per_request=1)
    assert first.exit_code == ExitCode.PENDING
    emulator.clear_faults()
    CallsApiClient(emulator.base_url, campaign["token"]).stop()

    tonight = uploader.run(uploader.csv(50, start=100, name="B"))
    assert tonight.exit_code == ExitCode.CONFIG, tonight.lines()
    assert (tonight.read, tonight.pending) == (50, 50), tonight.lines()
    assert tonight.adds_up()
