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
from tests.crash.harness import Scene, write_csv
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
@pytest.mark.parametrize(
    ("command", "signum", "code"),
    [("reconcile", signal.SIGINT, 130), ("upload", signal.SIGTERM, 3)],
    ids=["reconcile", "upload"],
)
def test_a_signal_stops_reconciliation_between_lookups(
    command: str, signum: signal.Signals, code: int, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=200, batch_size=20, max_attempts_per_request=1)
    # Last night's file (in doubt) and tonight's (not planned yet), 100 rows each.
    tonight = write_csv(tmp_path / "tonight.csv", scene.people[100:])
    write_csv(scene.csv, scene.people[:100])
    files = [scene.csv, tonight]
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones"}])
    first = scene.upload()
    assert first.returncode == 3, scene.describe(first)  # five batches in doubt
    emulator.advance(DAY_AND_AN_HOUR_S)  # ... and their keys expired
    arrivals = count_arrivals(emulator)  # (no fault left on addPhones)
    emulator.set_faults([{"kind": "delay", "endpoint": "jobReport", "delaySeconds": DELAY_S}])

    # `reconcile` alone, or the reconciliation an upload does first.
    cmd = start(
        scene, argv(scene, "reconcile") if command == "reconcile" else scene.argv(files), env=OFFSET
    )
    moment = signal_when(cmd, signum, lambda: arrivals.arrived["jobReport"] >= 1)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    assert stopped.returncode == code, scene.describe(stopped)
    assert ("stopped by Ctrl-C" if code == 130 else "stopped by SIGTERM") in stopped.stdout
    _assert_no_new_request(scene, "/getReport", moment)
    assert not after(scene.add_phone_requests(), moment)  # and nothing was sent
    assert run_row(scene, command)[1] == code
    assert released(scene)
    left = scene.query(
        "SELECT count(*) FROM batches WHERE campaign_id = :campaign AND state = 'unknown'"
    )
    assert left[0][0] > 0, "every batch was reconciled although the run was stopped"
    # Stopped before planning: tonight's file was not read.
    assert scene.query("SELECT count(*) FROM rows WHERE campaign_id = :campaign") == [(100,)]

    again = finish(scene, start(scene, argv(scene, "reconcile"), env=OFFSET))
    assert again.returncode == 3, scene.describe(again)  # done; refreshed rows wait for upload
    assert "nothing pending" not in again.stdout
    upload = scene.upload(clock_offset_s=90_000, files=files)
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
