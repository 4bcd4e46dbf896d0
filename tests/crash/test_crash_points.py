"""Crash-point sweep: the uploader kills itself at each boundary of a batch send, then a clean
re-run must leave exactly one job per row and a ledger that agrees with the server.

The hook ``JAICP_PIPELINE_CRASH_AT=<point>@<n>`` SIGKILLs the process at ``<point>`` of its n-th
send attempt; with concurrency 1 and no faults, attempt n is batch n. 200 rows in batches of 20
give 10 batches; the sweep hits the first, a middle and the last one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene

POINTS = ("before_intent", "after_intent", "after_send", "after_reply", "after_outcome")
BATCHES = 10
# Points at which the server has created the batch's jobs but the ledger does not know it yet:
# the re-run must resend that batch under its own key and get the stored reply back.
SERVER_AHEAD = ("after_send", "after_reply")
# Points at which the dying process already had the n-th request on the wire.
SENT_BY_DEATH = ("after_send", "after_reply", "after_outcome")


@pytest.mark.parametrize("batch", [1, 5, BATCHES], ids=["first", "middle", "last"])
@pytest.mark.parametrize("point", POINTS)
def test_kill_at_point_then_rerun_is_exactly_once(
    point: str, batch: int, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=20 * BATCHES, seed=batch, batch_size=20)

    died = scene.upload(crash_at=f"{point}@{batch}")
    assert died.returncode == KILLED, (
        f"expected death by SIGKILL at {point}@{batch}; {scene.describe(died)}"
    )
    before_death = scene.add_phone_requests()
    # The hook fired where it says: n-1 requests before the n-th went out, n after.
    assert len(before_death) == (batch if point in SENT_BY_DEATH else batch - 1)

    rerun = scene.upload()
    assert rerun.returncode == 0, scene.describe(rerun)

    scene.assert_exactly_once()
    scene.assert_key_discipline()
    log = scene.add_phone_requests()
    keys = [entry["idempotenceKey"] for entry in log]
    if point in SERVER_AHEAD:
        # The one request that may repeat is the dead batch's, under its key, as a replay.
        dead_key = before_death[-1]["idempotenceKey"]
        again = log[len(before_death) :]
        assert [e["idempotenceKey"] for e in again].count(dead_key) == 1
        assert next(e for e in again if e["idempotenceKey"] == dead_key)["replayed"] is True
        assert len(log) == BATCHES + 1
    else:
        # Nothing the server had confirmed to the ledger is ever sent again.
        assert len(log) == BATCHES, f"requests per key: {sorted(keys)}"
    assert len(set(keys)) == BATCHES
