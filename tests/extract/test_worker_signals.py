"""A forked reader told to (``ignore_stop_signals``) leaves TERM, HUP and INT to its parent.

Ctrl-C in a terminal and systemd's stop signal the whole process group, reader included, and
systemd signals the processes of a unit one by one: a reader that died of it (or raised
``KeyboardInterrupt``) would end the upload with a confusing "the process reading the file
ended" instead of the orderly stop the uploader is making. The uploader ends its reader itself.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from pipeline.extract.forked import Forked

SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def _waits_for(flag: Path) -> Iterator[str]:
    yield "started"
    while not flag.exists():
        time.sleep(0.005)
    yield "done"


def _mask() -> set[int]:
    return {int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])}


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_reader_that_leaves_signals_to_its_parent_lives_through_them(
    signum: signal.Signals, tmp_path: Path
) -> None:
    flag = tmp_path / "go"
    before = _mask()
    child = Forked(partial(_waits_for, flag), ignore_stop_signals=True)
    try:
        # Blocked only across the fork: the parent takes its signals as before.
        assert _mask() == before
        stream = iter(child)
        assert next(stream) == "started"
        # Pending before the flag exists: the child meets the signal before it sees the flag.
        os.kill(child.pid, signum)
        flag.touch()
        try:
            rest = list(stream)
        except BaseException as exc:  # a KeyboardInterrupt pickled by the child, say
            pytest.fail(f"the reader took {signal.Signals(signum).name}: {exc!r}")
        assert rest == ["done"]
    finally:
        child.close()
    assert child.exit_code == 0
