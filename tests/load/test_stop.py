"""Stopping a run from outside, without the command line: ``RunControl.stop`` from any thread
(an orchestrator running the library in a worker thread), the interruptible sleep, and the
signal helper the command line wraps around its commands.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.cli.signals import SIGNALS, stop_error, stop_on_signals
from pipeline.emulator import Emulator
from pipeline.errors import PipelineError, RunInterruptedError, RunStoppedError
from pipeline.ledger import open_ledger
from pipeline.load import RunControl, UploadSummary, run_upload
from pipeline.load.stop import StopFlag
from tests.crash.harness import wait_until
from tests.load.conftest import Uploader


def test_a_run_in_a_worker_thread_stops_in_order_when_asked(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    csv = uploader.csv(400)  # 40 batches of 10
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.5}])
    cfg = uploader.config(concurrency=4)
    control = RunControl()
    done: list[UploadSummary] = []

    def work() -> None:
        with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
            done.append(
                run_upload(
                    cfg,
                    [csv],
                    token=uploader.token,
                    ledger=ledger,
                    client=lambda: CallsApiClient.from_config(cfg, uploader.token),
                    clock=uploader.clock,
                    sleep=control.sleep,
                    rng=random.Random(0),
                    control=control,
                )
            )

    thread = threading.Thread(target=work, name="orchestrated-upload")
    thread.start()
    wait_until(lambda: len(uploader.add_phones_log()) >= 4)
    control.stop(RunStoppedError("the orchestrator cancelled the task; run it again later"))
    thread.join(timeout=120)
    assert not thread.is_alive()

    [summary] = done
    assert summary.exit_code == 3 and isinstance(summary.error, RunStoppedError)
    assert "the orchestrator cancelled the task" in summary.lines()[-1]
    answered = [e for e in uploader.add_phones_log() if e["status"] == 200]
    assert summary.sent == 10 * len(answered) < 400  # the queue was dropped, replies recorded
    assert summary.adds_up() and summary.pending == 400 - summary.sent
    with (
        open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger,
        ledger.store.engine.connect() as conn,
    ):
        run = conn.exec_driver_sql("SELECT finished_at, exit_status FROM runs").one()
        held = conn.exec_driver_sql("SELECT owner FROM leases").scalars().all()
    assert run[0] is not None and run[1] == 3
    assert held == [None]


def test_the_sleep_of_a_stopped_run_ends_at_once() -> None:
    flag = StopFlag()
    sleeper = threading.Thread(target=flag.sleep, args=(3600.0,))
    sleeper.start()
    flag.stop(RunStoppedError("stop"))
    sleeper.join(timeout=60)
    assert not sleeper.is_alive()
    flag.sleep(3600.0)  # and every later one returns at once too
    assert flag.interrupted
    with pytest.raises(RunStoppedError):
        flag.check()


@pytest.fixture
def handlers() -> Iterator[dict[int, Any]]:
    before: dict[int, Any] = {signum: signal.getsignal(signum) for signum in SIGNALS}
    yield before
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == before


@pytest.mark.parametrize(
    ("signum", "error", "code"),
    [
        (signal.SIGTERM, RunStoppedError, 3),
        (signal.SIGHUP, RunStoppedError, 3),
        (signal.SIGINT, RunInterruptedError, 130),
    ],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_signal_within_the_block_asks_the_run_to_stop(
    signum: signal.Signals, error: type[PipelineError], code: int, handlers: dict[int, Any]
) -> None:
    flag = StopFlag()
    said: list[str] = []
    with stop_on_signals(flag.stop, say=said.append):
        os.kill(os.getpid(), signum)
        wait_until(lambda: flag.stopped)
        wait_until(lambda: bool(said))
    assert type(flag.stop_error) is error and flag.stop_error.exit_code == code
    assert f"{signal.Signals(signum).name} received" in said[0]
    assert signal.set_wakeup_fd(-1) == -1  # the pipe was given back


def test_outside_the_main_thread_no_handler_is_installed(handlers: dict[int, Any]) -> None:
    seen: list[object] = []

    def inside() -> None:
        with stop_on_signals(StopFlag().stop, say=print):
            seen.extend(signal.getsignal(signum) for signum in SIGNALS)

    thread = threading.Thread(target=inside)
    thread.start()
    thread.join()
    assert seen == list(handlers.values())


def test_stop_errors_name_the_signal_and_what_to_do() -> None:
    term, intr = stop_error(signal.SIGTERM), stop_error(signal.SIGINT)
    assert "SIGTERM" in str(term) and "(exit 3)" in str(term) and term.exit_code == 3
    assert "Ctrl-C" in str(intr) and "(exit 130)" in str(intr) and intr.exit_code == 130
    assert "Run the same command again" in str(term)
