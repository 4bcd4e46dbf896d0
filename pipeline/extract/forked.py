"""Forked worker processes that stream what they produce back to the parent, in order.

A :class:`Forked` child runs ``work()`` and pickles every item it yields into an unlinked
temporary file (length-prefixed frames); the parent iterates them whenever it is ready, at
its own pace, so a child never waits for the parent and memory does not hold a backlog.
Forking (not spawning) means the child starts with the parent's imports, configuration and
string-hash seed, so ``hash()`` of the same text is the same on both sides.

An exception in the child is pickled and raised again in the parent at the point of the
stream where it happened; a child that dies without a word raises :class:`WorkerError`.
The child leaves with ``os._exit``, so it never runs the parent's clean-up or flushes the
parent's buffers. With ``ignore_stop_signals`` the child ignores TERM, HUP and INT: a signal
to the whole process group (Ctrl-C in a terminal, systemd stopping the unit) is the parent's
to act on, and the parent ends the child itself (``close``) when it stops.

Usage::

    child = Forked(lambda: (n * n for n in range(3)))
    try:
        list(child)          # [0, 1, 4]
    finally:
        child.close()        # kills it if it still runs
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pipeline.errors import WorkerError

_HEADER = 8  # bytes of the frame length
_POLL_S = 0.002  # how long the parent sleeps when the child has not written the next frame
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Forked:
    """One forked child running ``work``; iterate it once for the items it yields."""

    def __init__(
        self, work: Callable[[], Iterable[Any]], *, ignore_stop_signals: bool = False
    ) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._offset = 0
        self.exit_code: int | None = None
        # Blocked across the fork: until the child has set its own dispositions, a signal to
        # the group would run the parent's handlers in it (and write to the parent's wakeup
        # pipe, see pipeline.cli.signals, as if the parent had got it twice).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow forks)
            self._child(work, mask, ignore_stop_signals)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self.pid = pid

    def _child(  # pragma: no cover - the child
        self, work: Callable[[], Iterable[Any]], mask: set[int | signal.Signals], ignore: bool
    ) -> None:
        fd = self._file.fileno()
        code = 0
        try:
            signal.set_wakeup_fd(-1)  # the parent's pipe; our signals are not the parent's
            if ignore:
                for signum in _STOP_SIGNALS:
                    signal.signal(signum, signal.SIG_IGN)
            else:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for item in work():
                _write(fd, pickle.dumps((True, item), protocol=pickle.HIGHEST_PROTOCOL))
            _write(fd, pickle.dumps((False, None)))
        except BaseException as exc:  # everything goes to the parent, then the child leaves
            code = 1
            with contextlib.suppress(BaseException):
                try:
                    data = pickle.dumps((False, exc))
                except Exception:  # an exception that cannot be pickled: send its text
                    data = pickle.dumps((False, WorkerError(f"{type(exc).__name__}: {exc}")))
                _write(fd, data)
        finally:
            os._exit(code)

    def __iter__(self) -> Iterator[Any]:
        while True:
            more, value = self._next_frame()
            if not more:
                if value is not None:
                    raise value
                return
            yield value

    def _next_frame(self) -> tuple[bool, Any]:
        fd = self._file.fileno()
        while True:
            head = os.pread(fd, _HEADER, self._offset)
            if len(head) == _HEADER:
                size = int.from_bytes(head, "little")
                body = os.pread(fd, size, self._offset + _HEADER)
                if len(body) == size:
                    self._offset += _HEADER + size
                    frame = pickle.loads(body)  # noqa: S301 - written by our own child
                    assert isinstance(frame, tuple)
                    return frame
            if self.exit_code is not None:
                raise WorkerError(
                    f"a worker process (pid {self.pid}) ended with exit code {self.exit_code} "
                    f"before finishing its part of the file; run again with --workers 1 and "
                    f"report the problem if it persists"
                )
            self._reap(block=False)
            if self.exit_code is None:
                time.sleep(_POLL_S)

    def _reap(self, *, block: bool) -> None:
        if self.exit_code is not None:
            return
        pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        if pid:
            self.exit_code = os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        """Stop the child if it still runs, reap it and drop its file (idempotent)."""
        if self.exit_code is None:
            with contextlib.suppress(ProcessLookupError):
                self._reap(block=False)
                if self.exit_code is None:
                    os.kill(self.pid, signal.SIGKILL)
            self._reap(block=True)
        self._file.close()


def _write(fd: int, data: bytes) -> None:  # pragma: no cover - runs in the child
    view = memoryview(len(data).to_bytes(_HEADER, "little") + data)
    while view:
        view = view[os.write(fd, view) :]
