"""Expired keys: adopt what the server has, re-send only what is missing, never reuse the key."""

from __future__ import annotations

from typing import Any

import requests
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone, write_csv

DAY_AND_AN_HOUR = 25 * 3600


def _lost_runs(uploader: Uploader, emulator: Emulator) -> set[str]:
    """Run 1: batch 1's reply is lost after commit, batch 2 is lost before; both stay unknown."""
    emulator.set_faults(
        [
            {"kind": "drop_after_commit", "endpoint": "addPhones", "times": 1},
            {"kind": "drop_before_commit", "endpoint": "addPhones", "times": 1},
        ]
    )
    first = uploader.run(uploader.csv(30), max_attempts_per_request=1)
    assert first.exit_code == ExitCode.PENDING
    assert (first.sent, first.pending) == (10, 20)
    emulator.clear_faults()
    return {e["idempotenceKey"] for e in uploader.add_phones_log() if e["status"] is None}


def test_expired_batches_are_adopted_or_refreshed_never_resent(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    lost = _lost_runs(uploader, emulator)
    assert len(lost) == 2
    seen = len(uploader.add_phones_log())
    emulator.advance(DAY_AND_AN_HOUR)
    uploader.clock.advance(DAY_AND_AN_HOUR)

    second = uploader.run(uploader.csv(30))  # same bytes: the same input, nothing new
    assert second.exit_code == ExitCode.OK, second.lines()
    assert (second.reconciled_batches, second.adopted, second.refreshed) == (2, 10, 10)
    assert (second.sent, second.pending) == (30, 0)
    later = uploader.add_phones_log()[seen:]
    assert len(later) == 1 and later[0]["idempotenceKey"] not in lost
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(30)}
    text = "\n".join(second.lines())
    assert "10 job(s) adopted, 10 row(s) re-sent under new keys" in text


def test_a_job_the_ledger_already_owns_is_not_adopted_twice(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # Phone 0 is sent and confirmed; later a second file (allow_repeats) puts it in a batch
    # whose reply is lost before commit. After expiry, the confirmed job must not be adopted
    # for the new row: it belongs to the first one, so the new row is refreshed and sent.
    assert uploader.run(uploader.csv(1)).exit_code == ExitCode.OK
    emulator.set_faults([{"kind": "drop_before_commit", "endpoint": "addPhones", "times": 1}])
    first = uploader.run(uploader.csv(1, name="B"), allow_repeats=True, max_attempts_per_request=1)
    assert first.exit_code == ExitCode.PENDING
    emulator.clear_faults()
    emulator.advance(DAY_AND_AN_HOUR)
    uploader.clock.advance(DAY_AND_AN_HOUR)
    second = uploader.run(allow_repeats=True)
    assert (second.adopted, second.refreshed) == (0, 1), second.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(0): 2}


def test_an_extra_job_for_a_phone_is_recorded_as_a_suspect(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    _lost_runs(uploader, emulator)
    # Someone added phone 0 again by hand after our lost batch: two jobs now qualify.
    url = f"{emulator.base_url}/api/calls/campaign/{campaign['token']}/addPhones"
    assert requests.post(url, json=[{"phone": phone(0)}], timeout=5).status_code == 200
    emulator.advance(DAY_AND_AN_HOUR)
    uploader.clock.advance(DAY_AND_AN_HOUR)
    second = uploader.run()
    assert (second.adopted, second.suspects) == (10, 1), second.lines()
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        reasons = [r for (r,) in conn.exec_driver_sql("select reason from events")]
    assert any("suspect duplicate jobs" in r for r in reasons)


def test_the_reconcile_command_settles_without_sending(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Any
) -> None:
    _lost_runs(uploader, emulator)
    seen = len(uploader.add_phones_log())
    emulator.advance(DAY_AND_AN_HOUR)
    config = tmp_path / "c.yaml"
    config.write_text(
        f"ledger: {{url: '{uploader.ledger_url}'}}\ncolumns: {{phone: phone}}\n", encoding="utf-8"
    )
    env = {
        "JAICP_TOKEN": campaign["token"],
        "JAICP_BASE_URL": emulator.base_url,
        "JAICP_PIPELINE_CLOCK_OFFSET_S": str(DAY_AND_AN_HOUR + 60),
    }
    # The command runs on the real clock (+ offset), well past the fake clock of run 1, so
    # both keys count as expired.
    result = CliRunner().invoke(cli, ["reconcile", "--config", str(config)], env=env)
    assert result.exit_code == ExitCode.PENDING, result.output
    assert "2 batch(es): 10 job(s) adopted, 10 row(s) re-batched" in result.output
    assert len(uploader.add_phones_log()) == seen


def _two_payloads_one_phone(uploader: Uploader, emulator: Emulator) -> None:
    """A (DebtX) in doubt, nothing created; 6 h later B (DebtY) created but its reply lost."""
    phone_ = "79161234567"
    night1 = write_csv(uploader.tmp_path / "night1.csv", [(phone_, "DebtX")])
    night2 = write_csv(uploader.tmp_path / "night2.csv", [(phone_, "DebtY")])
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 1}])
    uploader.run(night1, max_attempts_per_request=1)
    emulator.clear_faults()
    emulator.advance(6 * 3600)
    uploader.clock.advance(6 * 3600)
    emulator.set_faults(
        [
            {"kind": "error_before_commit", "endpoint": "addPhones", "times": 1},
            {"kind": "drop_after_commit", "endpoint": "addPhones", "times": 1},
        ]
    )
    uploader.run(night2, max_attempts_per_request=1)
    emulator.clear_faults()
    assert len(emulator.jobs()) == 1  # B's job; A created nothing
    # Next night: A's key is past the cutoff, B's is still valid.
    emulator.advance(17.5 * 3600)
    uploader.clock.advance(17.5 * 3600)


def test_reconcile_never_adopts_the_job_of_a_fresh_batch_with_the_same_phone(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # Found by review: reconcile gave B's job to A, then B's replay got it too; A was never
    # called. Fresh batches now settle first, so A's row is created under a new key.
    _two_payloads_one_phone(uploader, emulator)
    third = uploader.run(max_attempts_per_request=3)
    assert third.exit_code == ExitCode.OK, third.lines()
    jobs = emulator.jobs(campaign["id"])
    assert sorted(j["payload"]["name"] for j in jobs) == ["DebtX", "DebtY"]
    with open_ledger(uploader.ledger_url) as ledger:
        assert verify_ledger(ledger.store.engine) == []


def test_reconcile_waits_while_a_fresh_batch_with_the_same_phone_is_still_in_doubt(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    _two_payloads_one_phone(uploader, emulator)
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones"}])
    third = uploader.run(max_attempts_per_request=2)
    assert third.exit_code == ExitCode.PENDING
    assert third.adopted == 0  # B's job was not handed to A
    emulator.clear_faults()
    fourth = uploader.run()
    assert fourth.exit_code == ExitCode.OK, fourth.lines()
    jobs = emulator.jobs(campaign["id"])
    assert sorted(j["payload"]["name"] for j in jobs) == ["DebtX", "DebtY"]
