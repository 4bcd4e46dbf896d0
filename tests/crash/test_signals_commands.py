"""Signals end ``reconcile``, ``cancel`` and ``results`` in order too: the request on the wire is
waited for, no new one leaves, the run is recorded with the exit code (3, or 130 for Ctrl-C),
the lease is released, and running the same command again finishes the work.

Each command runs as a real process in its own group; the endpoint it calls is slowed by a
``delay`` fault and the signal goes once its first request has arrived.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene
from tests.crash.signals import (
    after,
    argv,
    count_arrivals,
    finish,
    on_the_wire,
    released,
    run_row,
    signal_when,
    start,
)

DELAY_S = 1.0
DAY_AND_AN_HOUR_S = 25 * 3600
OFFSET = {"JAICP_PIPELINE_CLOCK_OFFSET_S": "90000"}


def _requests(scene: Scene, path_end: str) -> list[dict[str, object]]:
    return [e for e in scene.emulator.requests_log() if str(e["path"]).endswith(path_end)]


def _assert_no_new_request(scene: Scene, path_end: str, moment: float) -> None:
    sent = _requests(scene, path_end)
    wire, late = on_the_wire(sent, moment), after(sent, moment)
    assert wire, "no request was on the wire when the signal was sent"
    assert len(late) <= len(wire), f"{len(late)} request(s) after the signal, {len(wire)} on it"


@pytest.mark.slow
def test_a_signal_stops_reconcile_between_lookups(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=100, batch_size=20, max_attempts_per_request=1)
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones"}])
    first = scene.upload()
    assert first.returncode == 3, scene.describe(first)  # five batches in doubt
    emulator.advance(DAY_AND_AN_HOUR_S)  # ... and their keys expired
    arrivals = count_arrivals(emulator)  # (no fault left on addPhones)
    emulator.set_faults([{"kind": "delay", "endpoint": "jobReport", "delaySeconds": DELAY_S}])

    cmd = start(scene, argv(scene, "reconcile"), env=OFFSET)
    moment = signal_when(cmd, signal.SIGTERM, lambda: arrivals.arrived["jobReport"] >= 1)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    assert stopped.returncode == 3, scene.describe(stopped)
    assert "stopped by SIGTERM" in stopped.stdout
    _assert_no_new_request(scene, "/getReport", moment)
    assert run_row(scene, "reconcile")[1] == 3
    assert released(scene)
    left = scene.query(
        "SELECT count(*) FROM batches WHERE campaign_id = :campaign AND state = 'unknown'"
    )
    assert left[0][0] > 0, "every batch was reconciled although the run was stopped"

    again = finish(scene, start(scene, argv(scene, "reconcile"), env=OFFSET))
    assert again.returncode == 3, scene.describe(again)  # done; refreshed rows wait for upload
    assert "nothing pending" not in again.stdout
    upload = scene.upload(clock_offset_s=90_000)
    assert upload.returncode == 0, scene.describe(upload)
    scene.assert_exactly_once()
    scene.assert_key_discipline()


def _uploaded(tmp_path: Path, emulator: WallClockEmulator) -> tuple[Scene, str]:
    scene = Scene.create(tmp_path, emulator, rows=40, batch_size=20)
    done = scene.upload()
    assert done.returncode == 0, scene.describe(done)
    [(run_id,)] = scene.query("SELECT id FROM runs WHERE command = 'upload'")
    return scene, str(run_id)


@pytest.mark.slow
def test_a_signal_stops_cancel_between_requests(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene, run_id = _uploaded(tmp_path, emulator)
    arrivals = count_arrivals(emulator)
    emulator.set_faults([{"kind": "delay", "endpoint": "cancel", "delaySeconds": DELAY_S}])
    command = argv(scene, "cancel", "--run", run_id, "--yes", "--chunk-size", "5")

    cmd = start(scene, command)
    moment = signal_when(cmd, signal.SIGHUP, lambda: arrivals.arrived["cancel"] >= 1)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    assert stopped.returncode == 3, scene.describe(stopped)
    assert "stopped by SIGHUP" in stopped.stderr
    _assert_no_new_request(scene, "/callJob/cancel", moment)
    finished_at, status = run_row(scene, "cancel")
    assert finished_at is not None and status == 3
    cancelled = [job for job in scene.jobs() if job["jobStatus"] == "cancelledByUser"]
    assert 0 < len(cancelled) < 40

    again = finish(scene, start(scene, command))
    assert again.returncode == 0, scene.describe(again)
    assert {job["jobStatus"] for job in scene.jobs()} == {"cancelledByUser"}
    keys = [e["idempotenceKey"] for e in _requests(scene, "/callJob/cancel")]
    assert len(keys) == len(set(keys)) == 8  # each chunk asked once (none was left in doubt)


@pytest.mark.slow
def test_a_signal_stops_results_between_chunks(emulator: WallClockEmulator, tmp_path: Path) -> None:
    scene, run_id = _uploaded(tmp_path, emulator)
    arrivals = count_arrivals(emulator)
    emulator.set_faults([{"kind": "delay", "endpoint": "jobReport", "delaySeconds": DELAY_S}])
    out = tmp_path / "results.csv"
    command = argv(scene, "results", "--run", run_id, "--chunk-size", "5", "--out", str(out))

    cmd = start(scene, command)
    moment = signal_when(cmd, signal.SIGINT, lambda: arrivals.arrived["jobReport"] >= 1)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    assert stopped.returncode == 130, scene.describe(stopped)
    assert "stopped by Ctrl-C" in stopped.stderr
    assert "Traceback" not in stopped.stderr and "Aborted" not in stopped.stderr
    _assert_no_new_request(scene, "/callJob/getReport", moment)
    finished_at, status = run_row(scene, "results")
    assert finished_at is not None and status == 130
    assert not out.exists()

    again = finish(scene, start(scene, command))
    assert again.returncode == 0, scene.describe(again)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 41  # header + 40 rows
