"""Asking a run to stop, from any thread, and waits that end when it does.

Usage::

    control = RunControl()                      # the uploader's StopFlag (with its counters)
    run_upload(..., control=control, sleep=control.sleep)      # in one thread ...
    control.stop(RunStoppedError("stopped by SIGTERM ..."))    # ... and this from any other

    flag = StopFlag()                           # reconcile, results, cancel take a plain one
    flag.sleep(30.0)                            # returns at once once stopped
    flag.interrupted, flag.check()              # stopped from outside? raise its error

The library installs no signal handler: only the main thread may, and the library may run in
another one (an Airflow task, say). The command line does it (:mod:`pipeline.cli.signals`) and
calls :meth:`StopFlag.stop`; any other caller can do the same from wherever it learns that the
run must end.
"""

from __future__ import annotations

import threading

from pipeline.errors import PipelineError, RunStoppedError


class StopFlag:
    """The reason a run must stop (the first one given), and an interruptible sleep."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.stop_error: PipelineError | None = None

    @property
    def stopped(self) -> bool:
        """Whether the run must send nothing more."""
        return self.stop_error is not None

    @property
    def interrupted(self) -> bool:
        """Whether the run was asked to stop from outside (a signal): it must also stop
        planning and reconciling, not only sending."""
        return isinstance(self.stop_error, RunStoppedError)

    def stop(self, error: PipelineError) -> None:
        """Stop the run; the first reason wins (later ones are consequences)."""
        with self._lock:
            if self.stop_error is None:
                self.stop_error = error
        self._stopping.set()

    def check(self) -> None:
        """Raise the reason to stop, if there is one (between two requests of a command)."""
        if self.stop_error is not None:
            raise self.stop_error

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less: until the run is stopped (backoff, Retry-After, polls)."""
        if seconds > 0:
            self._stopping.wait(seconds)


class RunControl(StopFlag):
    """State shared by the sender threads: counters and the reason to stop.

    Its :meth:`StopFlag.stop` is how a caller (the command line's signal
    handling, say) asks the run to end in order; pass its ``sleep`` to ``run_upload`` too, so
    that no backoff outlives the stop.
    """

    def __init__(self) -> None:
        super().__init__()
        self.budget_spent = False
        self.attempts = 0
        self.retries = 0
        self.confirmed_batches = 0

    @property
    def stopped(self) -> bool:
        """Whether the run must send nothing more."""
        return self.stop_error is not None or self.budget_spent

    def count(self, *, attempts: int = 0, retries: int = 0, confirmed: int = 0) -> None:
        """Add to the counters (thread-safe)."""
        with self._lock:
            self.attempts += attempts
            self.retries += retries
            self.confirmed_batches += confirmed
