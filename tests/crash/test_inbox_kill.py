"""``upload --inbox`` killed with SIGKILL in the middle of a file, then run again: every row
is sent exactly once, the file ends in done/, and nothing is filed before the ledger says so.

The uploader runs as a real subprocess (``python -m pipeline upload --inbox DIR``) that kills
itself at a crash point (:mod:`pipeline.load.send.crash_points`); the verdict comes from the
emulator's jobs, its request log and the ledger file (:mod:`tests.crash.harness`).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene, make_people, write_csv
from tests.crash.signals import argv, count_arrivals, finish, released, run_row, signal_when, start


def inbox_scene(tmp_path: Path, emulator: WallClockEmulator) -> tuple[Scene, Path]:
    scene = Scene.create(tmp_path, emulator, rows=200, batch_size=20)
    with scene.config.open("a", encoding="utf-8") as fh:
        fh.write("inbox:\n  settle_s: 0\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.move(scene.csv, inbox / "tonight.csv")
    return scene, inbox


def run_inbox(
    scene: Scene, inbox: Path, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pipeline", "upload", "--config", str(scene.config),
            "--ledger", scene.ledger_url, "--summary-json", "--inbox", str(inbox)]  # fmt: skip
    proc = subprocess.Popen(
        argv,
        env=scene.env(crash_at),
        cwd=scene.tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return scene.finish(proc)


def test_killed_in_the_middle_of_a_file_then_run_again(
    tmp_path: Path, emulator: WallClockEmulator
) -> None:
    scene, inbox = inbox_scene(tmp_path, emulator)

    died = run_inbox(scene, inbox, crash_at="after_send@4")  # the 4th batch is on the server

    assert died.returncode == KILLED, scene.describe(died)
    assert (inbox / "tonight.csv").exists(), "filed although its run never finished"
    assert not (inbox / "done").exists() or not any((inbox / "done").iterdir())
    sent_before = len(scene.jobs())
    assert 0 < sent_before < 200

    again = run_inbox(scene, inbox)

    assert again.returncode == 0, scene.describe(again)
    summary = json.loads(again.stdout)
    assert [(f["name"], f["status"]) for f in summary["files"]] == [("tonight.csv", "done")]
    assert summary["files"][0]["run"]["rows"]["sent_before"] > 0  # resumed, not started over
    assert (inbox / "done" / "tonight.csv").exists()
    assert not (inbox / "tonight.csv").exists()
    scene.assert_exactly_once()
    scene.assert_key_discipline()


def test_killed_after_the_last_outcome_the_next_run_only_files_it(
    tmp_path: Path, emulator: WallClockEmulator
) -> None:
    """Every row is sent and recorded, but the process dies before its run ends and before the
    move: the next run files it without sending a row of it again, then takes the next file."""
    scene, inbox = inbox_scene(tmp_path, emulator)
    # A second export waiting behind the first: taken by the second run only.
    later = make_people(30, seed=9)
    write_csv(inbox / "later.csv", later)

    died = run_inbox(scene, inbox, crash_at="after_outcome@10")  # 200 rows / 20 = 10 batches

    assert died.returncode == KILLED, scene.describe(died)
    assert (inbox / "tonight.csv").exists() and (inbox / "later.csv").exists()
    requests = len(scene.add_phone_requests())

    again = run_inbox(scene, inbox)

    assert again.returncode == 0, scene.describe(again)
    files = json.loads(again.stdout)["files"]
    assert [(f["name"], f["status"]) for f in files] == [
        ("tonight.csv", "done"),
        ("later.csv", "done"),
    ]
    # Either no run at all (the ledger already held the whole file) or one that only
    # finished recording it (killed before its input was marked complete): nothing sent.
    first = files[0]["run"]
    assert first is None or first["rows"]["sent_now"] == 0, first
    assert len(scene.add_phone_requests()) == requests + 2  # later.csv's 30 rows only
    scene.people += later
    scene.assert_exactly_once()


def test_sigterm_in_the_middle_of_a_file_stops_in_order_and_takes_no_other_file(
    tmp_path: Path, emulator: WallClockEmulator
) -> None:
    scene, inbox = inbox_scene(tmp_path, emulator)
    later = make_people(20, seed=7)
    write_csv(inbox / "later.csv", later)
    arrivals = count_arrivals(emulator)
    # Slow requests: the signal certainly comes while the first file is being sent.
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.2}])
    command = argv(scene, "upload", "--summary-json", "--inbox", str(inbox))
    cmd = start(scene, command)
    signal_when(cmd, signal.SIGTERM, lambda: arrivals.arrived["addPhones"] >= 3)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    assert stopped.returncode == 3, scene.describe(stopped)
    files = json.loads(stopped.stdout)["files"]
    assert [(f["name"], f["status"]) for f in files] == [
        ("tonight.csv", "left"),
        ("later.csv", "waiting"),
    ]
    assert "stopped by SIGTERM" in (files[0]["run"]["error"] or "")
    assert sorted(p.name for p in inbox.iterdir()) == ["later.csv", "tonight.csv"]
    assert run_row(scene, "upload")[1] == 3
    assert released(scene)

    again = run_inbox(scene, inbox)

    assert again.returncode == 0, scene.describe(again)
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["later.csv", "tonight.csv"]
    scene.people += later
    scene.assert_exactly_once()
    scene.assert_key_discipline()
