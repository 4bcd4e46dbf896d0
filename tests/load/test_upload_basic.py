"""The happy path, resume, idle re-run, lease, summary arithmetic — against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, LeaseHeldError
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from pipeline.ledger.store import schema as t
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone, write_csv


def test_every_accepted_row_becomes_exactly_one_job(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    rows = [(phone(i), f"N{i}") for i in range(25)]
    rows += [("not a phone", "X"), (phone(3), "N3")]  # one rejected, one in-file duplicate
    summary = uploader.run(write_csv(tmp_path / "in.csv", rows))

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.read, summary.sent, summary.rejected, summary.duplicate, summary.pending) == (
        27,
        25,
        1,
        1,
        0,
    )
    assert summary.adds_up()
    assert summary.batches_confirmed == 3  # batch_size 10
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(25)}
    jobs = {j["id"]: j for j in emulator.jobs(campaign["id"])}
    with open_ledger(uploader.ledger_url) as ledger:
        with ledger.store.engine.connect() as conn:
            sent = conn.execute(
                sa.select(t.rows.c.phone, t.rows.c.job_id).where(t.rows.c.state == "sent")
            ).all()
        assert verify_ledger(ledger.store.engine) == []
    assert {jobs[job_id]["phone"] for _, job_id in sent} == {p for p, _ in sent}
    assert "complete (exit 0)" in summary.lines()[-1]


def test_a_finished_file_sends_nothing_when_run_again(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    csv = uploader.csv(30)
    assert uploader.run(csv).exit_code == ExitCode.OK
    before = len(uploader.add_phones_log())
    again = uploader.run(csv)
    assert again.exit_code == ExitCode.OK
    assert len(uploader.add_phones_log()) == before
    assert (again.read, again.sent, again.attempts) == (30, 30, 0)
    assert len(emulator.jobs(campaign["id"])) == 30


def test_a_second_run_while_the_lease_is_held_sends_nothing(
    uploader: Uploader, emulator: Emulator
) -> None:
    csv = uploader.csv(5)
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        camp = ledger.campaigns.ensure(uploader.token)
        ledger.leases.acquire(camp.id, owner="elsewhere:1:x", ttl_s=600)
    with pytest.raises(LeaseHeldError) as caught:
        uploader.run(csv)
    assert caught.value.exit_code == ExitCode.LEASE_HELD
    assert uploader.add_phones_log() == []


def test_a_lease_left_by_a_dead_process_of_this_host_is_taken_over(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    import socket
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        camp = ledger.campaigns.ensure(uploader.token)
        owner = f"{socket.gethostname()}:{gone.stdout.strip()}:dead"
        ledger.leases.acquire(camp.id, owner=owner, ttl_s=600)
    assert uploader.run(uploader.csv(5)).exit_code == ExitCode.OK
    assert len(emulator.jobs(campaign["id"])) == 5
