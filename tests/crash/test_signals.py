"""Signals end an upload in order (DESIGN.md invariant 9): SIGTERM, SIGHUP and SIGINT sent to
a real ``python -m pipeline upload`` process group with four senders while its requests are on
the wire.

After the signal no new request leaves (the requests that reach the emulator after it are at
most those that were on the wire at that moment), the on-wire ones are recorded, the run is
written with its exit code (3, or 130 for Ctrl-C), lease and worker row are released and the
summary is printed; the next run finishes the file exactly once. A second signal ends the
process at once; a signal during the planning of a big file keeps what was planned.

Every addPhones request is slowed by a ``delay`` fault, so requests are certainly on the wire
when the signal goes (it is sent as soon as the second wave of four has arrived).
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene, wait_until
from tests.crash.signals import (
    ArrivalFaults,
    after,
    count_arrivals,
    finish,
    group_gone,
    on_the_wire,
    released,
    run_row,
    signal_when,
    start,
)

DELAY_S = 1.0  # per addPhones request: far longer than the moment between two requests
ROWS, BATCH = 4000, 20  # 200 batches: sending takes minutes at this pace, if not stopped
EXIT = {signal.SIGTERM: 3, signal.SIGHUP: 3, signal.SIGINT: 130}
SUMMARY = re.compile(r"rows read (\d+) = sent (\d+) \+ rejected 0 \+ duplicate 0 \+ pending (\d+)")


def _slow_scene(tmp_path: Path, emulator: WallClockEmulator) -> tuple[Scene, ArrivalFaults]:
    """Four senders; every addPhones request takes DELAY_S."""
    scene = Scene.create(tmp_path, emulator, rows=ROWS, batch_size=BATCH, concurrency=4)
    arrivals = count_arrivals(emulator)
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": DELAY_S}])
    return scene, arrivals


@pytest.mark.slow
@pytest.mark.parametrize("signum", list(EXIT), ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_the_upload_in_order(
    signum: signal.Signals, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene, arrivals = _slow_scene(tmp_path, emulator)
    cmd = start(scene, scene.argv())
    # Four answered, four more arrived: those four are on the wire for DELAY_S from now.
    moment = signal_when(cmd, signum, lambda: arrivals.arrived["addPhones"] >= 8)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    code = EXIT[signum]
    assert stopped.returncode == code, scene.describe(stopped)
    requests = scene.add_phone_requests()
    wire, late = on_the_wire(requests, moment), after(requests, moment)
    assert wire, "no request was on the wire when the signal was sent"
    assert len(late) <= len(wire), (
        f"{len(late)} addPhones request(s) reached the server after the signal; "
        f"{len(wire)} were on the wire then"
    )
    # The summary, and it tells the truth: every answered request's rows are recorded sent.
    summary = SUMMARY.search(stopped.stdout)
    assert summary is not None, scene.describe(stopped)
    read, sent, pending = map(int, summary.groups())
    answered = sum(e["status"] == 200 for e in requests)
    assert (read, sent, pending) == (ROWS, BATCH * answered, ROWS - BATCH * answered)
    assert f"stopped by {'Ctrl-C' if code == 130 else signal.Signals(signum).name}" in (
        stopped.stdout
    )
    assert f"(exit {code})" in stopped.stdout
    assert "Traceback" not in stopped.stderr and "KeyboardInterrupt" not in stopped.stderr
    finished_at, status = run_row(scene, "upload")
    assert finished_at is not None and status == code
    assert released(scene), "the lease or the worker row is still held"

    again = scene.upload()  # at once: a held lease would make it exit 5
    assert again.returncode == 0, scene.describe(again)
    scene.assert_exactly_once()
    scene.assert_key_discipline()


@pytest.mark.slow
def test_a_second_signal_ends_the_upload_at_once_and_the_rerun_is_exactly_once(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene, arrivals = _slow_scene(tmp_path, emulator)
    cmd = start(scene, scene.argv())
    signal_when(cmd, signal.SIGTERM, lambda: arrivals.arrived["addPhones"] >= 8)
    # The second one once the first was taken in (two at once may arrive as one).
    signal_when(cmd, signal.SIGTERM, lambda: "SIGTERM received" in cmd.stderr())
    ended = finish(scene, cmd)
    emulator.clear_faults()

    assert ended.returncode == 128 + signal.SIGTERM, scene.describe(ended)
    assert "SIGTERM again: ending at once" in ended.stderr
    assert "rows read" not in ended.stdout  # no orderly end: no summary

    again = scene.upload()
    assert again.returncode == 0, scene.describe(again)
    scene.assert_exactly_once()
    scene.assert_key_discipline()


@pytest.mark.slow
def test_a_signal_cuts_a_retry_after_pause_short(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    # The server asks for ten minutes; the uploader would wait them out (cap: 15 min, run
    # budget: an hour).
    scene = Scene.create(
        tmp_path, emulator, rows=100, retry_after_cap_s=900, run_budget_s=3600, concurrency=4
    )
    emulator.set_faults([{"kind": "rate_limit", "endpoint": "addPhones", "retryAfter": 600}])
    cmd = start(scene, scene.argv())
    signal_when(
        cmd,
        signal.SIGTERM,
        lambda: any(e["status"] == 429 for e in scene.add_phone_requests()),
    )
    stopped = finish(scene, cmd)  # fails as hung (after 120 s) if the pause is waited out
    emulator.clear_faults()
    assert stopped.returncode == 3, scene.describe(stopped)
    assert "stopped by SIGTERM" in stopped.stdout
    assert run_row(scene, "upload")[1] == 3
    assert released(scene)


@pytest.mark.slow
def test_a_ctrl_c_during_planning_of_a_big_file_keeps_what_was_planned(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    signum = signal.SIGINT  # (the reader's part for TERM/HUP: tests/extract/test_worker_signals)
    # Planned in parts of 20,000, 100,000, 100,000, 80,000 rows; the signal comes once the
    # first part's batches go out, so at least the last part is never planned.
    rows = 300_000
    scene = Scene.create(tmp_path, emulator, rows=rows, batch_size=1000, concurrency=4)
    arrivals = count_arrivals(emulator)
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": DELAY_S}])
    # A second process reads the file (as for any big file on a machine with two CPUs); the
    # signal goes to the whole group, reader included, as a terminal's Ctrl-C does.
    cmd = start(scene, scene.argv(), env={"JAICP_WORKERS": "2"})
    signal_when(cmd, signum, lambda: arrivals.arrived["addPhones"] >= 1)
    stopped = finish(scene, cmd)
    emulator.clear_faults()

    assert stopped.returncode == EXIT[signum], scene.describe(stopped)
    assert "the process reading the file" not in stopped.stderr, stopped.stderr
    assert "Traceback" not in stopped.stderr and "KeyboardInterrupt" not in stopped.stderr
    wait_until(lambda: group_gone(cmd.proc.pid), timeout_s=10)  # the reader did not outlive it
    summary = SUMMARY.search(stopped.stdout)
    assert summary is not None, scene.describe(stopped)
    read, sent, pending = map(int, summary.groups())
    assert 0 < read < rows and pending > 0 and read == sent + pending
    assert scene.query("SELECT count(*) FROM rows WHERE campaign_id = :campaign")[0][0] == read
    [(total,)] = scene.query("SELECT rows_total FROM inputs WHERE campaign_id = :campaign")
    assert total is None, "a file whose planning was stopped is marked complete"
    assert run_row(scene, "upload")[1] == EXIT[signum]
    assert released(scene)

    again = scene.upload()
    assert again.returncode == 0, scene.describe(again)
    # The re-run splits `sent` into what it sent now and what the stopped run had sent.
    split = re.search(rf"rows read {rows} = sent (\d+)(?: now \+ (\d+) before)? \+", again.stdout)
    assert split is not None, again.stdout
    before = int(split[2] or 0)
    assert int(split[1]) + before == rows and before == sent
    scene.assert_exactly_once()  # `ledger verify` included: no false alarm after a stop
    scene.assert_key_discipline()
