"""Re-batching: after a crash leaves a batch's outcome unknown, the operator changes the batch
size and the export comes back in another order. The unknown batch is frozen: it must go out
again byte-identical under its original key, and every row still ends with exactly one job.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene, write_csv


@pytest.mark.parametrize("fault", ["drop_after_commit", "error_before_commit"])
def test_unknown_batch_is_resent_byte_identical_after_config_and_order_change(
    fault: str, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=100, batch_size=20)
    emulator.set_faults([{"kind": fault, "endpoint": "addPhones", "times": 1}])
    died = scene.upload(crash_at="before_intent@2")
    assert died.returncode == KILLED, scene.describe(died)
    emulator.clear_faults()
    first = scene.add_phone_requests()[0]

    scene.configure(batch_size=7)
    shuffled = list(scene.people)
    random.Random(5).shuffle(shuffled)
    scene.csv = write_csv(tmp_path / "scene-export-reordered.csv", shuffled)
    rerun = scene.upload()
    assert rerun.returncode == 0, scene.describe(rerun)

    again = [
        e for e in scene.add_phone_requests()[1:] if e["idempotenceKey"] == first["idempotenceKey"]
    ]
    assert len(again) == 1, "the unknown batch was not resent under its own key exactly once"
    assert again[0]["bodySha256"] == first["bodySha256"], "the resent body differs from the first"
    assert again[0]["replayed"] is (fault == "drop_after_commit")
    scene.assert_exactly_once()
    scene.assert_key_discipline()
