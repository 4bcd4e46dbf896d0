"""Transient faults, 400s and stops: zero duplicates, bounded attempts, nothing lost."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.records import CallItem
from tests.conftest import phone, random_token
from tests.load.conftest import Uploader, jobs_per_phone


def _keys_with_two_bodies(uploader: Uploader) -> list[str]:
    bodies: dict[str, set[str]] = {}
    for entry in uploader.add_phones_log():
        bodies.setdefault(entry["idempotenceKey"], set()).add(entry["bodySha256"])
    return [key for key, shas in bodies.items() if len(shas) > 1]


@pytest.mark.parametrize(
    "kind", ["error_before_commit", "error_after_commit", "drop_after_commit", "drop_before_commit"]
)
def test_transient_faults_are_retried_without_duplicates(
    kind: str, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults([{"kind": kind, "endpoint": "addPhones", "times": 3}])
    summary = uploader.run(uploader.csv(40))  # 4 batches of 10

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(40)}
    assert summary.attempts == 4 + 3 and summary.retries == 3
    assert len(uploader.add_phones_log()) == 7
    assert _keys_with_two_bodies(uploader) == []
    assert len(uploader.sleeps) == 3
    assert all(0.5 <= s <= 30 for s in uploader.sleeps)  # jitter from the base to backoff_max_s


def test_retry_after_is_honoured(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "times": 2, "retryAfter": 7}]
    )
    summary = uploader.run(uploader.csv(10))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert uploader.sleeps == [7.0, 7.0]
    assert len(emulator.jobs(campaign["id"])) == 10


def test_retry_after_above_the_cap_stops_sending_for_the_run(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    csv = uploader.csv(20)
    emulator.set_faults([{"kind": "rate_limit", "endpoint": "addPhones", "retryAfter": 600}])
    summary = uploader.run(csv, retry_after_cap_s=60)
    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    assert summary.pending == 20 and summary.adds_up()
    assert uploader.sleeps == []
    # The server will not take requests for longer than we wait: the second batch is not
    # sent into the same 429 (it was, one request per batch, before).
    assert len(uploader.add_phones_log()) == 1
    assert "upload.retry_after_cap_s" in summary.lines()[-1]
    assert "stay pending" in summary.lines()[-1]

    emulator.clear_faults()
    again = uploader.run(csv)
    assert again.exit_code == ExitCode.OK, again.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(20)}


def test_attempts_per_request_are_bounded(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults([{"kind": "error_after_commit", "endpoint": "addPhones"}])
    summary = uploader.run(uploader.csv(20), max_attempts_per_request=3)
    assert summary.exit_code == ExitCode.PENDING
    assert summary.attempts == 2 * 3  # two batches, three tries each, then left pending
    # error_after_commit created the jobs on the first try; replays created nothing more.
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(20)}
    emulator.clear_faults()
    again = uploader.run(uploader.csv(0, start=100))
    assert again.exit_code == ExitCode.OK
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(20)}


def test_the_run_budget_ends_the_run_with_work_pending(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults([{"kind": "rate_limit", "endpoint": "addPhones", "retryAfter": 50}])
    summary = uploader.run(uploader.csv(30), run_budget_s=120, max_attempts_per_request=100)
    assert summary.exit_code == ExitCode.PENDING
    assert summary.budget_spent and "run budget" in summary.lines()[-1]
    assert sum(uploader.sleeps) <= 120
    assert emulator.jobs(campaign["id"]) == []


def test_a_slow_reply_times_out_and_is_retried_under_the_same_key(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    uploader.api = {"timeout_s": 0.3}
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "times": 1, "delaySeconds": 1}])
    summary = uploader.run(uploader.csv(10))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert summary.retries == 1
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(10)}
    keys = {e["idempotenceKey"] for e in uploader.add_phones_log()}
    assert len(keys) == 1


def test_a_bad_row_is_rejected_and_the_rest_resent_under_new_keys(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # The transform would never accept "12345"; an older tool version might have planned it.
    # The ledger is real: plan it the way the uploader does, then let upload finish the work.
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        camp = ledger.campaigns.ensure(uploader.token)
        run_id = ledger.runs.start(command="upload", files=[], config_digest="x")
        lease = ledger.leases.acquire(camp.id, owner="old:1:x", ttl_s=1, run_id=run_id)
        state = ledger.inputs.begin(lease, name="old.csv", sha256="0" * 64)
        items = [CallItem(i + 1, phone(i), {"name": f"N{i}"}) for i in range(5)]
        items.insert(2, CallItem(6, "12345", {"name": "bad"}))
        ledger.planning.plan_chunk(lease, state.id, items)
        ledger.inputs.complete(lease, state.id, rows_total=6)
        ledger.leases.release(lease)

    summary = uploader.run()
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(5)}
    log = uploader.add_phones_log()
    assert [e["status"] for e in log] == [400, 200]
    assert log[0]["idempotenceKey"] != log[1]["idempotenceKey"]
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        bad = conn.execute(text("select state, reason_code from rows where phone='12345'")).one()
    assert tuple(bad) == ("rejected", "phone.bad.format")


def test_an_unknown_token_stops_at_once(uploader: Uploader, emulator: Emulator) -> None:
    summary = uploader.run(uploader.csv(30), token=random_token())
    assert summary.exit_code == ExitCode.CONFIG
    # A ledger new to the campaign asks `campaign info` first: the 404 comes from there.
    assert [e["method"] for e in emulator.requests_log()] == ["GET"]
    assert uploader.add_phones_log() == []
    assert summary.pending == 30 and summary.adds_up()


def test_a_stopped_campaign_stops_the_run_and_keeps_rows_pending(
    uploader: Uploader, emulator: Emulator
) -> None:
    stopped = emulator.create_campaign(random_token(), name="Done", status="finished")
    summary = uploader.run(uploader.csv(20), token=stopped["token"])
    assert summary.exit_code == ExitCode.CONFIG, summary.lines()
    assert summary.pending == 20 and summary.rejected == 0
    assert "Start or resume the campaign" in str(summary.error)
    assert len(uploader.add_phones_log()) == 1


def test_logs_show_no_phone_and_no_token(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], caplog: Any
) -> None:
    import logging

    emulator.set_faults(
        [
            {"kind": "error_after_commit", "endpoint": "addPhones", "times": 1},
            {"kind": "rate_limit", "endpoint": "addPhones", "times": 1, "retryAfter": 2},
        ]
    )
    with caplog.at_level(logging.DEBUG):
        summary = uploader.run(uploader.csv(20), max_attempts_per_request=2)
        summary_text = "\n".join(summary.lines())
    text = caplog.text + summary_text
    assert "retrying" in caplog.text  # the retries were logged
    assert campaign["token"] not in text
    assert not any(phone(i) in text for i in range(20))
