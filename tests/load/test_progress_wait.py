"""Headless progress keeps its promise while the run waits: the emulator answers 429 with a
long ``Retry-After``, the uploader waits it out, and the view's timer prints lines *during*
that wait ("no batch settled for N s"), not only once rows move again.

No timing assert: the run's wait (its injected sleep) ends when the view has printed a
timer line, or after a generous bound; the test checks that the line came inside the wait.
With the timer broken the wait runs into its bound and the test fails.
"""

from __future__ import annotations

import io
import json
import random
import threading
from typing import Any

from pipeline.api import CallsApiClient
from pipeline.cli.output import PlainProgress
from pipeline.emulator import Emulator
from pipeline.ledger import open_ledger
from pipeline.load.upload.progress import Progress
from pipeline.load.upload.run import run_upload
from tests.load.conftest import Uploader

RETRY_AFTER_S = 60.0  # on the uploader's clock; the real wait ends with the view's line
BOUND_S = 30.0  # real seconds the wait may last when no line comes (only when broken)
MARK = "no batch settled for"


class Lines(io.StringIO):
    """A stream that tells when a timer line was written, and whether inside the wait."""

    def __init__(self) -> None:
        super().__init__()
        self.beat = threading.Event()
        self.waiting = False
        self.during_wait: list[str] = []

    def write(self, text: str) -> int:
        if MARK in text:
            if self.waiting:
                self.during_wait.append(text)
            self.beat.set()
        return super().write(text)


def _run_with_pause(uploader: Uploader, emulator: Emulator, view: PlainProgress, out: Lines) -> Any:
    uploader.pass_campaign_check()
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "times": 1, "retryAfter": RETRY_AFTER_S}]
    )
    cfg = uploader.config(retry_after_cap_s=120)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        out.beat.clear()
        out.waiting = True
        try:
            out.beat.wait(BOUND_S)  # the run is waiting: the view must speak meanwhile
        finally:
            out.waiting = False
        uploader.sleep(seconds)

    with view, open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        summary = run_upload(
            cfg,
            [uploader.csv(30)],
            token=uploader.token,
            ledger=ledger,
            client=lambda: CallsApiClient.from_config(cfg, uploader.token),
            clock=uploader.clock,
            sleep=sleep,
            rng=random.Random(0),
            on_progress=view.update,
        )
    assert summary.exit_code == 0 and summary.sent == 30, summary.lines()
    assert summary.retries >= 1
    assert RETRY_AFTER_S in waits  # the server's pause was waited out, in one sleep
    return summary


def test_plain_lines_come_while_a_retry_after_pause_is_waited_out(
    uploader: Uploader, emulator: Emulator
) -> None:
    out = Lines()
    view = PlainProgress(stream=out, every_s=0.1)
    _run_with_pause(uploader, emulator, view, out)
    assert out.during_wait, out.getvalue()
    assert "sending: 0 " in out.during_wait[0]  # the counts, repeated while nothing settles
    # once the pause was over, rows went out as usual
    assert "sending: 30 of 30 row(s) settled" in out.getvalue().splitlines()[-1]


def test_json_timer_lines_carry_numbers_and_idle_seconds(
    uploader: Uploader, emulator: Emulator
) -> None:
    out = Lines()
    view = PlainProgress(stream=out, json_lines=True, every_s=0.1)
    _run_with_pause(uploader, emulator, view, out)
    entry = json.loads(out.during_wait[0])
    assert entry["logger"] == "pipeline.progress" and entry["stage"] == "send"
    assert entry["done"] == 0 and isinstance(entry["idle_s"], float) and entry["rate"] == 0.0


def test_the_timer_speaks_only_after_every_s_of_silence() -> None:
    now = [0.0]
    out = io.StringIO()
    view = PlainProgress(stream=out, every_s=10.0, clock=lambda: now[0])
    view.update(Progress("send", 0, 100))
    now[0] = 9.9
    assert view.beat() is False and out.getvalue().count("\n") == 1
    view.update(Progress("send", 50, 100))  # 50 %: a line of its own at 9.9 s
    now[0] = 19.8
    assert view.beat() is False  # 9.9 s after that line
    now[0] = 20.0
    assert view.beat() is True
    assert (
        out.getvalue()
        .splitlines()[-1]
        .endswith(
            "sending: 50 of 100 row(s) settled, 2 rows/s; no batch settled for 10 s (waiting for "
            "the server: a retry, a Retry-After pause or a slow reply)"
        )
    )
    assert view.beat() is False  # the timer's own line counts as a line


def test_quiet_views_and_views_not_entered_start_no_timer() -> None:
    out = io.StringIO()
    with PlainProgress(stream=out, every_s=0.1, quiet=True) as view:
        assert view.beat() is False
    assert out.getvalue() == ""
    assert not any(t.name == "progress-timer" for t in threading.enumerate())
