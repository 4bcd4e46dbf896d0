"""What the operator sees on stderr: log format, progress (bar or plain lines), final table.

* logs: see :mod:`pipeline.cli.logs` (``--log-format text|json``);
* progress: a rich bar per stage on a terminal, plain timestamped lines otherwise (cron mail,
  log files: no ANSI codes); ``--progress always|never|auto`` overrides the detection;
* ``--quiet``: only errors and the final summary.

Usage::

    view = progress_view(mode="auto", quiet=False)
    with view:
        run_upload(..., progress=view.line, on_progress=view.update)
    show_summary(summary.lines(), rows=summary_rows(summary), fancy=view.fancy)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from pipeline.cli.logs import json_entry
from pipeline.front import Progress, UploadSummary


def _wants_bar(mode: str, stream: TextIO) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    return stream.isatty()


class PlainProgress:
    """Timestamped lines: stage starts, each planned file, rows sent every 10 % and at least
    every ``every_s`` seconds (like a log collector: cron mail shows a slow upload moving).

    Inside ``with view:`` a timer thread keeps that promise while nothing moves: during a
    Retry-After pause, a backoff or a slow reply it prints the last counts again with how long
    nothing has settled (:meth:`beat`), so a cron log never goes silent for longer than
    ``every_s`` (plus a tenth of it, the timer's tick).

    With ``json_lines`` each line is a JSON object; send lines carry ``done``, ``total`` (null
    while planning still adds rows) and ``rate`` (rows/s since the phase began) as numbers,
    the timer's lines also ``idle_s``. ``clock`` (monotonic seconds) is injected by tests.
    """

    fancy = False

    def __init__(
        self,
        *,
        quiet: bool = False,
        json_lines: bool = False,
        stream: TextIO | None = None,
        every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet = quiet
        self.json_lines = json_lines
        self.every_s = every_s
        self._stream = stream
        self._clock = clock
        self._shown = -1  # last tenth of the send stage printed
        self._started = self._last = clock()  # start of the send phase, last line printed
        self._changed = self._started  # when the counts last moved
        self._state: Progress | None = None  # the last report, repeated by beat()
        # update() comes from sender threads (one at a time: the meter serialises them) and
        # beat() from the timer: one lock keeps lines whole and the counters consistent.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    def __enter__(self) -> PlainProgress:
        if not self.quiet:
            self._timer = threading.Thread(target=self._tick, name="progress-timer", daemon=True)
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
            self._timer = None

    def _tick(self) -> None:
        # A tenth of the interval: a line is at most 10 % late, and the thread wakes at most
        # ten times per interval (never more than 20 times a second).
        while not self._stop.wait(max(0.05, self.every_s / 10)):
            self.beat()

    def beat(self) -> bool:
        """Print the last counts again when no line came for ``every_s`` seconds (called by
        the timer; tests call it with an injected clock). True when a line was printed."""
        with self._lock:
            now = self._clock()
            if self.quiet or now - self._last < self.every_s:
                return False
            idle = now - self._changed
            p = self._state
            if p is None:
                self._echo(f"working: no progress to report yet, {idle:,.0f} s since the start")
            elif p.stage == "plan":
                self._echo(
                    f"planning: {p.done} row(s) read so far; still planning ({idle:,.0f} s "
                    f"since the last file was planned)",
                    stage="plan",
                    done=p.done,
                    total=None,
                    idle_s=round(idle, 1),
                )
            else:
                elapsed = now - self._started
                rate = p.done / elapsed if elapsed > 0 else 0.0
                of = "sent while planning" if p.growing else f"of {p.total or 0} row(s) settled"
                self._echo(
                    f"sending: {p.done} {of}, {rate:,.0f} rows/s; no batch settled for "
                    f"{idle:,.0f} s (waiting for the server: a retry, a Retry-After pause or a "
                    f"slow reply)",
                    stage="send",
                    done=p.done,
                    total=None if p.growing else p.total or 0,
                    rate=round(rate, 1),
                    idle_s=round(idle, 1),
                )
            return True

    def _echo(self, text: str, **numbers: Any) -> None:
        if self.quiet:
            return
        with self._lock:
            self._last = self._clock()
            if self.json_lines:
                # With --log-format json every stderr line is one JSON object, progress too.
                line = json_entry("INFO", "pipeline.progress", text, **numbers)
                click.echo(line, err=True, file=self._stream)
            else:
                stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
                click.echo(f"{stamp} {text}", err=True, file=self._stream)

    def line(self, text: str) -> None:
        """A milestone from the run (``finishing batches of earlier runs``, …)."""
        self._echo(text)

    def update(self, p: Progress) -> None:
        """A structured progress report; printed sparsely so cron logs stay short."""
        with self._lock:
            previous, self._state = self._state, p
            if previous is None or (previous.stage, previous.done) != (p.stage, p.done):
                self._changed = self._clock()
            self._show(p)

    def _show(self, p: Progress) -> None:
        if p.stage == "plan":
            self._echo(
                f"planning: {p.label} planned, {p.done} row(s) read so far",
                stage="plan",
                done=p.done,
                total=None,
            )
            return
        now = self._clock()
        total = p.total or 0
        if p.done == 0:
            self._shown, self._started = -1, now
            waiting = "so far, planning goes on" if p.growing else "waiting"
            self._echo(
                f"sending: {total} row(s) {waiting}", stage="send", done=0, total=total, rate=0.0
            )
            return
        tenth = 10 if total == 0 else min(10, p.done * 10 // total)
        due = now - self._last >= self.every_s
        if (tenth > self._shown and not p.growing) or due:
            elapsed = now - self._started
            rate = p.done / elapsed if elapsed > 0 else 0.0
            of = "sent while planning" if p.growing else f"of {total} row(s) settled"
            self._echo(
                f"sending: {p.done} {of}, {rate:,.0f} rows/s",
                stage="send",
                done=p.done,
                total=None if p.growing else total,
                rate=round(rate, 1),
            )
        if not p.growing:
            self._shown = max(self._shown, tenth)


class BarProgress:
    """A rich progress bar per stage on stderr: rows read; rows sent of total, rows/s, ETA."""

    fancy = True

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True, force_terminal=True)
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            disable=quiet,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> BarProgress:
        self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.stop()

    def line(self, text: str) -> None:
        if not self.quiet:
            # print, not log: Console.log ends every line with the caller (output.py:130).
            stamp = datetime.now(UTC).astimezone().strftime("%H:%M:%S")
            self._bar.console.print(f"{stamp} {text}", markup=False, highlight=False)

    def _task(self, stage: str, total: int | None) -> TaskID:
        if stage not in self._tasks:
            name = "planning (rows read)" if stage == "plan" else "sending (rows sent)"
            self._tasks[stage] = self._bar.add_task(name, total=total, rate="-")
        return self._tasks[stage]

    def update(self, p: Progress) -> None:
        task = self._task(p.stage, p.total)
        self._bar.update(task, completed=p.done, total=p.total if p.stage == "send" else p.done)
        speed = self._bar.tasks[self._tasks[p.stage]].speed
        self._bar.update(task, rate=f"{speed:,.0f}" if speed else "-")


ProgressView = PlainProgress | BarProgress


def progress_view(
    mode: str = "auto", *, quiet: bool = False, log_format: str = "text", every_s: float = 10.0
) -> ProgressView:
    """The bar when stderr is a terminal (or ``mode == "always"``), plain lines otherwise.

    Plain lines are JSON objects when ``log_format`` is ``json``; one at least every
    ``every_s`` seconds while rows go out (``upload --progress-every``).
    """
    if _wants_bar(mode, sys.stderr):
        return BarProgress(quiet=quiet)
    return PlainProgress(quiet=quiet, json_lines=log_format == "json", every_s=every_s)


def show_summary(
    summary: UploadSummary, *, fancy: bool, as_json: bool = False, log_json: bool = False
) -> None:
    """The final summary on stdout: a table on a terminal, the plain lines otherwise.

    ``as_json`` (``--summary-json``): one JSON object on stdout instead, nothing else there.
    ``log_json`` (``--log-format json``): the same object also ends the JSON log on stderr,
    as ``{"ts", "level", "logger": "pipeline.summary", "message", "summary": {...}}``.
    """
    data = summary.as_dict()
    if log_json:
        message = summary.lines()[0]
        click.echo(json_entry("INFO", "pipeline.summary", message, summary=data), err=True)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if not fancy:
        for line in summary.lines():
            click.echo(line)
        return
    table = Table(title=f"upload run {summary.run_id}", show_header=True)
    table.add_column("rows", justify="left")
    table.add_column("count", justify="right")
    for name, value in (
        ("read", summary.read),
        ("sent by this run", summary.sent_now),
        ("sent by earlier runs", summary.sent_before),
        ("rejected", summary.rejected),
        ("duplicate", summary.duplicate),
        ("pending", summary.pending),
        ("pending in campaign", summary.pending_campaign),
        ("batches confirmed", summary.batches_confirmed),
        ("retries", summary.retries),
    ):
        table.add_row(name, f"{value:,}")
    console = Console(force_terminal=True)
    console.print(table)
    # The verdict lines (what happened, what to do) stay plain text: they are the message.
    for line in summary.lines()[2:]:
        console.print(line, markup=False, highlight=False)
