"""Signals on a PostgreSQL ledger shared by two uploaders: the one signalled stops in order at
once — it does not wait (polling, its waits cut short) for the other to give up the campaign
lease — and the other goes on until it is signalled too; both runs are recorded with exit 3,
nothing is left held, and the next run finishes the file exactly once.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene, wait_until
from tests.crash.signals import (
    after,
    count_arrivals,
    finish,
    on_the_wire,
    released,
    signal_when,
    start,
)

DELAY_S = 1.0
SENDERS = 4


def _holder_pid(scene: Scene) -> int | None:
    rows = scene.query("SELECT owner FROM leases WHERE campaign_id = :campaign")
    owner = rows[0][0] if rows else None
    return int(owner.split(":")[1]) if owner else None  # owners are host:pid:random


@pytest.mark.slow
def test_a_signalled_sharing_worker_stops_at_once_and_the_other_goes_on(
    emulator: WallClockEmulator, tmp_path: Path, pg_url: str
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=4000, pg_url=pg_url, concurrency=SENDERS)
    arrivals = count_arrivals(emulator)
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": DELAY_S}])
    first = start(scene, scene.argv())
    wait_until(lambda: arrivals.arrived["addPhones"] > 0, timeout_s=60)
    assert _holder_pid(scene) == first.proc.pid  # it plans and sends under the lease
    # The second joins; the first has claimed every batch already, so it waits (polling) for
    # one to become free or for the lease, until the first is done.
    second = start(scene, scene.argv())
    joined = (
        "SELECT count(*) FROM workers WHERE campaign_id = :campaign "
        f"AND owner LIKE '%:{second.proc.pid}:%'"
    )
    signal_when(second, signal.SIGTERM, lambda: scene.query(joined)[0][0] > 0)
    stopped = finish(scene, second)

    assert stopped.returncode == 3, scene.describe(stopped)
    assert "stopped by SIGTERM" in stopped.stdout
    # It did not wait for the lease holder to finish (minutes of work at this pace).
    assert first.proc.poll() is None, "the signalled worker ended only after the other one"

    # Signalled while all four of its senders wait on the wire (arrived, not yet answered), as
    # in test_signals: a sender between two requests (recording an outcome, claiming the next
    # batch: slow on a loaded machine) may rightly send once more before the process notices
    # the signal, and would then show up as a request after the signal with none on the wire
    # to answer for it (this test signalled at the first arrival after the second stopped, and
    # failed so in loaded runs).
    def all_on_the_wire() -> bool:
        return arrivals.arrived["addPhones"] - len(scene.add_phone_requests()) >= SENDERS

    moment = signal_when(first, signal.SIGTERM, all_on_the_wire)
    other = finish(scene, first)
    emulator.clear_faults()
    assert other.returncode == 3, scene.describe(other)
    # The other one alone from here on: nothing new after its own signal either.
    requests = scene.add_phone_requests()
    assert len(after(requests, moment)) <= len(on_the_wire(requests, moment))
    statuses = scene.query("SELECT exit_status FROM runs WHERE campaign_id = :campaign")
    assert sorted(s for (s,) in statuses) == [3, 3]
    assert released(scene)

    again = scene.upload()
    assert again.returncode == 0, scene.describe(again)
    scene.assert_exactly_once()
    scene.assert_key_discipline()
