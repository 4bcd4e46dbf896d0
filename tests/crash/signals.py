"""Helpers of the signal tests: a command in its own process group, signalled at a known moment,
and what reached the emulator after that moment.

Usage::

    counting = count_arrivals(emulator)               # live count of requests that arrived
    cmd = start(scene, argv(scene, "upload", ...))    # own process group, stderr to a file
    moment = signal_when(cmd, signal.SIGTERM, lambda: counting.arrived["addPhones"] >= 8)
    result = finish(scene, cmd)
    wire = on_the_wire(entries, moment)               # arrived before, answered after
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.emulator.faults import Faults
from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import RUN_TIMEOUT_S, Scene, wait_until


class ArrivalFaults(Faults):
    """The emulator's faults, also counting the requests as they arrive (before any delay)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.arrived: Counter[str] = Counter()

    def pick(self, endpoint: str) -> Any:
        with self._lock:
            self.arrived[endpoint] += 1
        return super().pick(endpoint)


def count_arrivals(emulator: WallClockEmulator) -> ArrivalFaults:
    faults = ArrivalFaults()
    emulator.faults = faults
    return faults


def argv(scene: Scene, *args: str) -> list[str]:
    """``python -m pipeline COMMAND --config C --ledger L ARGS`` for the scene."""
    command, *rest = args
    return [sys.executable, "-m", "pipeline", "--log-level", "INFO", command,
            "--config", str(scene.config), "--ledger", scene.ledger_url, *rest]  # fmt: skip


@dataclass
class Command:
    """A started command; its stderr goes to a file, readable while it runs."""

    proc: subprocess.Popen[str]
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")


def start(scene: Scene, command: list[str], *, env: dict[str, str] | None = None) -> Command:
    """Start ``command`` in a process group of its own (as a shell job or a systemd unit)."""
    path = scene.tmp / f"stderr-{time.monotonic_ns()}.txt"
    with path.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(
            command,
            env={**scene.env(), **(env or {})},
            cwd=scene.tmp,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            process_group=0,
        )
    return Command(proc, path)


def signal_when(
    cmd: Command, signum: int, ready: Callable[[], bool], *, group: bool = True
) -> float:
    """Once ``ready()`` holds, send ``signum`` to the command (its whole process group by
    default, as a terminal's Ctrl-C or systemd's stop does); returns the moment
    (``time.monotonic()``) just before it was sent."""
    wait_until(lambda: ready() or cmd.proc.poll() is not None, timeout_s=60)
    if cmd.proc.poll() is not None:
        out, _ = cmd.proc.communicate()
        raise AssertionError(f"the command ended before the signal:\n{out}\n{cmd.stderr()}")
    moment = time.monotonic()
    if group:
        os.killpg(cmd.proc.pid, signum)
    else:
        cmd.proc.send_signal(signum)
    return moment


def finish(scene: Scene, cmd: Command) -> subprocess.CompletedProcess[str]:
    try:
        out, _ = cmd.proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(cmd.proc.pid, signal.SIGKILL)
        cmd.proc.communicate()
        raise AssertionError(f"the command hung:\n{cmd.stderr()[-3000:]}") from None
    err = cmd.stderr()
    scene.check_output(out + err)
    return subprocess.CompletedProcess(cmd.proc.args, cmd.proc.returncode, out, err)


def group_gone(pgid: int) -> bool:
    """Whether no process of the group is left (the forked reader included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def on_the_wire(entries: list[dict[str, Any]], moment: float) -> list[dict[str, Any]]:
    """Requests that had reached the server at ``moment`` and were answered after it."""
    return [e for e in entries if e["arrived"] <= moment < e["wall"]]


def after(entries: list[dict[str, Any]], moment: float) -> list[dict[str, Any]]:
    """Requests that reached the server after ``moment``."""
    return [e for e in entries if e["arrived"] > moment]


def run_row(scene: Scene, command: str) -> tuple[Any, ...]:
    """(finished_at, exit_status) of the last run of ``command`` in the ledger."""
    rows = scene.query(
        "SELECT finished_at, exit_status FROM runs WHERE command = '" + command + "' "
        "AND campaign_id = :campaign ORDER BY id DESC LIMIT 1"
    )
    assert rows, f"no {command} run in the ledger"
    return tuple(rows[0])


def released(scene: Scene) -> bool:
    """The campaign lease is free and every worker row of the campaign has ended."""
    held = scene.query(
        "SELECT count(*) FROM leases WHERE campaign_id = :campaign AND owner IS NOT NULL"
    )
    live = scene.query(
        "SELECT count(*) FROM workers WHERE campaign_id = :campaign AND ended_at IS NULL"
    )
    return bool(held[0][0] == 0 and live[0][0] == 0)
