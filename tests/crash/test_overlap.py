"""Overlapping runs: two cron jobs start the same upload within milliseconds of each other on
one ledger. One holds the campaign's lease and finishes; the other exits 5 and sends nothing.

Every addPhones request is slowed by a ``delay`` fault until one of the two has exited, so the
winner is certainly still working (holding the lease) when the loser looks, however the start-ups
interleave; the assertions do not depend on which of the two wins.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.ledger import open_ledger
from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene, wait_until

BATCHES = 40


@pytest.mark.slow
@pytest.mark.parametrize("ledger_state", ["fresh", "existing"])
def test_second_overlapping_run_exits_lease_held_and_sends_nothing(
    ledger_state: str, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=20 * BATCHES, batch_size=20)
    if ledger_state == "existing":
        # Last night's ledger: created and migrated, so only the lease decides.
        with open_ledger(scene.ledger_url):
            pass
    # Slow requests keep the winner busy (and its lease held) however late the loser starts;
    # once one of the two has exited, the rest may go at full speed.
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.5}])

    first, second = scene.start(), scene.start()
    wait_until(lambda: first.poll() is not None or second.poll() is not None, timeout_s=60)
    emulator.clear_faults()
    results = [scene.finish(first), scene.finish(second)]

    codes = sorted(r.returncode for r in results)
    assert codes == [0, 5], "\n\n".join(scene.describe(r) for r in results)
    scene.assert_exactly_once()
    scene.assert_key_discipline()
    # Only the winner's batches went out, each once: the loser added no request of its own.
    keys = Counter(e["idempotenceKey"] for e in scene.add_phone_requests())
    assert set(keys) == set(scene.batch_keys())
    assert set(keys.values()) == {1}
    assert len(keys) == BATCHES
