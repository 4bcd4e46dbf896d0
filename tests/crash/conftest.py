"""Fixtures of the crash suite.

* ``emulator`` — overrides the shared fixture with a :class:`WallClockEmulator`: the same
  emulator (port 0, seed 0) whose request-log entries also carry
  ``wall`` (``time.monotonic()`` when the entry was written). The emulated ``ts`` never moves
  on its own, so wall time is the only way to see that a client waited; tests use it only as a
  lower bound ("no earlier than"), never as an upper one.
  Its clock starts at the real time (not the shared fixture's fixed 2023 date): the uploader's
  reconciliation compares the server's job times with its own send times, and a real server and
  its client agree on the time to within seconds, not years.

Usage::

    def test_x(emulator: WallClockEmulator, tmp_path: Path) -> None:
        scene = Scene.create(tmp_path, emulator, rows=100)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.emulator import Emulator


class WallClockEmulator(Emulator):
    """An :class:`Emulator` whose log entries also say when (wall clock) they were written."""

    def record(self, entry: dict[str, Any]) -> None:
        super().record({**entry, "wall": time.monotonic()})


@pytest.fixture
def emulator() -> Iterator[WallClockEmulator]:
    start_ms = int(time.time() * 1000)
    emu = WallClockEmulator(host="127.0.0.1", port=0, seed=0, start_ms=start_ms)
    with emu:
        yield emu
