"""``ledger verify`` after an interrupted run: no false alarm, whatever stopped the run.

An operator's Ctrl-C while a big file is being planned leaves a run whose counts cover only
the rows planned so far; the re-run plans the rest of the same file (same input, same rows
table). ``verify`` must still call the ledger consistent once the re-run completed.

The interruption is real: the uploader stops itself (SIGSTOP hook) right after its first
batch's outcome, while the file's first planning chunk is planned and the rest is not; the
test sends SIGINT and lets it continue.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene, wait_until
from tests.crash.test_sharing import _is_stopped

ROWS = 25_000  # more than the first planning chunk (20,000 rows)


def test_ctrl_c_while_planning_then_rerun_verifies_clean(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=ROWS, batch_size=1000)
    proc = scene.start(stop_at="after_outcome@1")
    wait_until(lambda: _is_stopped(proc.pid) or proc.poll() is not None, timeout_s=90)
    assert proc.poll() is None, scene.describe(scene.finish(proc))
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGCONT)
    interrupted = scene.finish(proc)
    assert interrupted.returncode != 0, scene.describe(interrupted)
    # The run really ended half-way through planning (the scenario, not the assertion).
    (planned,) = scene.query("SELECT count(*) FROM rows WHERE campaign_id = :campaign")[0]
    assert 0 < planned < ROWS, planned

    rerun = scene.upload()
    assert rerun.returncode == 0, scene.describe(rerun)
    scene.assert_exactly_once()  # includes `ledger verify` exiting 0
