"""Random kills: SIGKILL the uploader at seeded random moments of a 10,000-row upload, several
times, then let it finish. Where the kills land depends on the machine's speed (planning,
freezing, mid-request, between commits...); the assertions hold wherever they land.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene

ROWS = 10_000
KILLS = 5
SEND_S = 3.0
MAX_FINAL_RUNS = 2  # exit 3 (pending) is not expected without faults; cap the loop anyway


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 22, 33])
def test_random_sigkills_then_completion_is_exactly_once(
    seed: int, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    batch_size = rng.randrange(100, 501)
    concurrency = rng.choice([1, 2])
    scene = Scene.create(
        tmp_path, emulator, rows=ROWS, seed=seed, batch_size=batch_size, concurrency=concurrency
    )

    # Stretch the sending phase to about SEND_S seconds so that kills land in the middle of it
    # as well as in start-up, planning or freezing; the delay changes no outcome.
    per_request = SEND_S * concurrency * batch_size / ROWS
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": per_request}])
    kills = 0
    for _ in range(KILLS):
        result = scene.kill_after(scene.start(), rng.uniform(0.5, 2.0))
        if result.returncode != KILLED:
            # It finished before the kill: then it must have finished cleanly, and there is
            # nothing left to interrupt.
            assert result.returncode == 0, scene.describe(result)
            break
        kills += 1
    codes = []
    for _ in range(MAX_FINAL_RUNS):
        final = scene.upload()
        codes.append(final.returncode)
        if final.returncode == 0:
            break
    assert codes[-1] == 0, (
        f"no clean finish after {kills} kill(s); exits {codes}; {scene.describe(final)}"
    )

    scene.assert_exactly_once()
    scene.assert_key_discipline()
    assert len(scene.jobs()) == ROWS
    # Without faults a run sends a key at most once, so no key can appear more often than there
    # were runs: a higher count means a run resent a batch twice or resent confirmed work.
    per_key: dict[str, int] = {}
    for entry in scene.add_phone_requests():
        per_key[entry["idempotenceKey"]] = per_key.get(entry["idempotenceKey"], 0) + 1
    assert max(per_key.values()) <= kills + 1 + len(codes)
