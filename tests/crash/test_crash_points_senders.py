"""The crash-point sweep at 4 senders, at 32 (the most ``upload.concurrency`` allows: every
batch of the group on the wire at once) and with ``auto`` up to 32: the uploader kills itself
at each boundary of a send — now with a group of batches launched together, their intents
committed in one transaction and their requests on the wire from several threads — and a
clean re-run must still leave exactly one job per row and a ledger that agrees with the server.

With several senders the n-th attempt is the n-th batch of the group in launch order; how many
of the other requests reached the server before the kill depends on the threads, so the checks
are the invariants, not counts: one job per row, no key with two bodies, no new key (nothing
expired, so nothing was refreshed), one created reply per key (every other one a replay), and
nothing the ledger had recorded as confirmed sent again. The full set of points and attempts
runs (about 25 s): sampling would leave the group's edges untested.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene
from tests.crash.test_crash_points import BATCHES, POINTS

# upload settings of each sweep: 4 senders, the most allowed, and auto up to the most.
SENDERS: dict[str, dict[str, Any]] = {
    "4": {"concurrency": 4},
    "32": {"concurrency": 32},
    "auto32": {"concurrency": "auto", "max_concurrency": 32},
}


BATCH_IDS = {1: "first", 5: "middle", BATCHES: "last"}
# Every (senders, point, batch) but two: at 32 senders all ten batches are one group, whose
# intents are committed together after the last before_intent point, so a death at the
# before_intent of its 5th or 10th batch leaves what a death at the 1st leaves (nothing
# committed, nothing sent); each was a whole crash and re-run more.
CASES = [
    pytest.param(senders, point, batch, id=f"{senders}-{point}-{BATCH_IDS[batch]}")
    for senders in SENDERS
    for point in POINTS
    for batch in BATCH_IDS
    if not (senders == "32" and point == "before_intent" and batch != 1)
]


@pytest.mark.slow
@pytest.mark.parametrize(("senders", "point", "batch"), CASES)
def test_kill_at_point_with_several_senders_then_rerun_is_exactly_once(
    senders: str, point: str, batch: int, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(
        tmp_path, emulator, rows=20 * BATCHES, seed=batch, batch_size=20, **SENDERS[senders]
    )

    died = scene.upload(crash_at=f"{point}@{batch}")
    assert died.returncode == KILLED, (
        f"expected death by SIGKILL at {point}@{batch}; {scene.describe(died)}"
    )
    before_death = len(scene.add_phone_requests())
    if point == "before_intent":
        # The group's intents are committed together, after every before_intent point.
        assert before_death == 0
    if point in ("after_send", "after_reply", "after_outcome"):
        assert before_death >= 1
    confirmed = {key for key, state in scene.batch_keys().items() if state == "confirmed"}

    rerun = scene.upload()
    assert rerun.returncode == 0, scene.describe(rerun)

    scene.assert_exactly_once()
    scene.assert_key_discipline()
    log = scene.add_phone_requests()
    keys = Counter(entry["idempotenceKey"] for entry in log)
    assert len(keys) == BATCHES, f"requests per key: {keys}"
    created = Counter(e["idempotenceKey"] for e in log if e["status"] == 200 and not e["replayed"])
    assert set(created.values()) == {1} and len(created) == BATCHES, created
    again = {entry["idempotenceKey"] for entry in log[before_death:]}
    assert not again & confirmed, "a batch the ledger had confirmed was sent again"
