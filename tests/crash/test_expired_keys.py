"""Expired keys: a batch's outcome is lost, the process dies, and the next run comes 25 hours
later — after the server has forgotten the key. The old key must never be sent again; jobs the
lost request did create are adopted; rows it did not create are sent once under a new key.

Both clocks move: the emulator's by ``advance(25 h)``, the uploader's by
``JAICP_PIPELINE_CLOCK_OFFSET_S=90000``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene

DAY_AND_AN_HOUR_S = 25 * 3600


@pytest.mark.parametrize(
    ("fault", "committed"),
    [("drop_after_commit", True), ("error_before_commit", False)],
    ids=["reply-lost-after-commit", "failed-before-commit"],
)
def test_expired_key_is_reconciled_not_resent(
    fault: str, committed: bool, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=100, batch_size=20)
    emulator.set_faults([{"kind": fault, "endpoint": "addPhones", "times": 1}])
    # Attempt 1 meets the fault; the process dies before attempt 2 (its retry) begins.
    died = scene.upload(crash_at="before_intent@2")
    assert died.returncode == KILLED, scene.describe(died)
    emulator.clear_faults()
    lost = scene.add_phone_requests()
    assert len(lost) == 1
    old_key = lost[0]["idempotenceKey"]
    lost_jobs = {job["phone"]: job["id"] for job in scene.jobs()}
    assert len(lost_jobs) == (20 if committed else 0)

    emulator.advance(DAY_AND_AN_HOUR_S)
    rerun = scene.upload(clock_offset_s=90_000)
    assert rerun.returncode == 0, scene.describe(rerun)

    after = scene.add_phone_requests()[1:]
    assert old_key not in {e["idempotenceKey"] for e in after}, "an expired key was sent again"
    scene.assert_exactly_once()
    scene.assert_key_discipline()
    jobs = scene.jobs()
    if committed:
        # Adopted: the jobs the lost request created are the ones on record, and no others.
        assert {
            p: j for p, j in ((job["phone"], job["id"]) for job in jobs) if p in lost_jobs
        } == lost_jobs
        assert sum(job["idempotenceKey"] == old_key for job in jobs) == 20
    else:
        # Created once, under keys that are not the expired one.
        assert all(job["idempotenceKey"] != old_key for job in jobs)
    states = scene.batch_keys()
    assert states[old_key] == ("reconciled" if committed else "refreshed")
