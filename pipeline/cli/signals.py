"""TERM, HUP and INT end a command in order; a second one ends the process at once.

Usage::

    control = RunControl()
    with stop_on_signals(control.stop, say=view.line):
        summary = run_upload(..., control=control, sleep=control.sleep)

The first signal calls ``stop`` with :class:`~pipeline.errors.RunStoppedError` (TERM, HUP:
exit 3, work left and safe to re-run) or :class:`~pipeline.errors.RunInterruptedError`
(INT: exit 130); the command then sends nothing new, waits for what is on the wire, records
the run and prints its summary. A second signal (an impatient Ctrl-C, say) ends the process
at once with 128 + its number, which the ledger's intent-before-effect discipline makes as safe
as ``kill -9``: the next run resumes.

Why a pipe and a thread instead of work in the handler: a Python-level handler runs only when
the main thread gets back to Python bytecode — after a whole SQLite statement of a planned
chunk, say, while the sender threads go on sending — and it must not take a lock that the code
it interrupted may hold. The signal module's C handler writes each signal's number to a pipe
(``signal.set_wakeup_fd``) the moment it arrives; a watcher thread blocked on that pipe calls
``stop`` right away. The Python-level handlers do nothing (they are there so that the
default action — end the process, or raise ``KeyboardInterrupt`` somewhere — does not run).

Only the main thread may install handlers; elsewhere (a command invoked from a worker thread)
this does nothing, and the caller stops the run through ``RunControl.stop`` itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from pipeline.errors import PipelineError, RunInterruptedError, RunStoppedError

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
_DONE = 0  # written to the pipe when the command ends: no signal has number 0


def stop_error(signum: int) -> RunStoppedError:
    """The error that ends a run stopped by ``signum`` (its exit code: 3, or 130 for INT)."""
    name = signal.Signals(signum).name
    what = (
        "no request was sent after it; the requests already on the wire were waited for and "
        "recorded; the rest stays pending. Run the same command again to continue: nothing "
        "is sent twice"
    )
    if signum == signal.SIGINT:
        return RunInterruptedError(f"stopped by Ctrl-C ({name}): {what} (exit 130).")
    return RunStoppedError(f"stopped by {name}: {what} (exit 3).")


@contextlib.contextmanager
def stop_on_signals(
    stop: Callable[[PipelineError], None], *, say: Callable[[str], None]
) -> Iterator[None]:
    """Within the block, TERM/HUP/INT call ``stop`` (and ``say`` what happens), see above."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)  # set_wakeup_fd requires it
    watcher = threading.Thread(
        target=_watch, args=(read_fd, stop, say), name="signal-watcher", daemon=True
    )
    watcher.start()
    # The pipe first: a signal between the two steps must not reach a handler without it.
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {signum: signal.signal(signum, _noted) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        # Not EOF: a forked child may still hold a copy of the write end.
        os.write(write_fd, bytes([_DONE]))
        watcher.join()
        os.close(write_fd)
        os.close(read_fd)


def _noted(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the watcher thread has seen the signal."""


def _watch(fd: int, stop: Callable[[PipelineError], None], say: Callable[[str], None]) -> None:
    seen = 0
    while True:
        data = os.read(fd, 1)
        if not data or data[0] == _DONE:
            return
        signum = data[0]
        if signum not in SIGNALS:
            continue  # another signal with a Python handler (none of ours)
        seen += 1
        name = signal.Signals(signum).name
        if seen > 1:
            # No locks, no buffered streams: the main thread may hold them right now.
            os.write(
                2,
                f"\n{name} again: ending at once; the ledger is safe, run the same command "
                f"again to resume (exit {128 + signum})\n".encode(),
            )
            os._exit(128 + signum)
        stop(stop_error(signum))
        with contextlib.suppress(Exception):  # a closed stderr must not end the watcher
            say(
                f"{name} received: stopping — nothing new is sent; waiting for the requests "
                f"on the wire (at most api.timeout_s), then the summary. Send it again to "
                f"end at once."
            )
