"""An input file that changes while a run reads it (issue 10 §1): no row is lost for good.

The scenario of the report: a CRM sync job copies the export in place — it truncates the file
and writes the same bytes back — while ``upload`` is reading it. Before the fix, the run
planned the rows it had read until the truncation, marked the file complete under the digest
of the whole file, and every later run of the same bytes said "complete": the rest was never
sent. Now the file is read once, into a private copy whose digest is what is recorded.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene, is_stopped, wait_until

# Big enough that most of the file is unread when the run is stopped (below); the number
# itself is not the point (it was 300,000 with planning chunks of 100,000 rows; the crash
# suite does not import pipeline.load to read PLAN_ROWS).
ROWS = 100_000


@pytest.mark.slow
def test_an_export_truncated_and_rewritten_during_a_run_loses_no_row(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=ROWS, batch_size=2000)
    original = scene.csv.read_bytes()
    # The uploader stops itself when its first batch is about to leave: most of the file is
    # still unread then (read in this process, a chunk ahead at most: the first planned chunk
    # is 5,000 rows, the one read ahead 25,000; see pipeline.load.upload.input_planning).
    proc = scene.start(stop_at="after_intent@1", extra_env={"JAICP_WORKERS": "1"})
    wait_until(lambda: is_stopped(proc.pid) or proc.poll() is not None, timeout_s=90)
    assert proc.poll() is None, scene.describe(scene.finish(proc))
    with scene.csv.open("r+b") as fh:  # the sync job: truncate in place...
        fh.truncate(0)
    os.kill(proc.pid, signal.SIGCONT)
    first = scene.finish(proc)
    scene.csv.write_bytes(original)  # ...and the same bytes back, after the run
    second = scene.upload()

    assert first.returncode == 0, scene.describe(first)
    assert second.returncode == 0, scene.describe(second)
    scene.assert_exactly_once()  # every one of the rows has its one job
    (planned,) = scene.query("SELECT rows_total FROM inputs WHERE campaign_id = :campaign")
    assert planned == (ROWS,)
