"""Work sharing on one PostgreSQL ledger: several uploader processes on the same campaign and
file split its batches, and exactly-once holds when one of them freezes past its lease (SIGSTOP,
then SIGCONT) or when they are killed at random moments.

The processes are real (``python -m pipeline upload``), the ledger is a fresh PostgreSQL
database, the server is the emulator; the witnesses are the emulator's jobs and request log and
the ledger, as in the rest of the crash suite. Every addPhones request is slowed a little so the
workers overlap however fast the machine is; no assertion depends on timing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import KILLED, Scene, wait_until

TTL_S = 4.0  # lease of each worker: short, so "twice the lease" is a few seconds


def _pid_of(owner: str) -> int:
    return int(owner.split(":")[1])  # owners are host:pid:random


def _confirmed_by_pid(scene: Scene) -> Counter[int]:
    rows = scene.query(
        "SELECT claim_owner, count(*) FROM batches "
        "WHERE campaign_id = :campaign AND state = 'confirmed' GROUP BY claim_owner"
    )
    return Counter({_pid_of(owner): int(n) for owner, n in rows})


def _is_stopped(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "T"


@pytest.mark.slow
def test_three_workers_split_a_20000_row_file_exactly_once(
    emulator: WallClockEmulator, tmp_path: Path, pg_url: str
) -> None:
    scene = Scene.create(
        tmp_path, emulator, rows=20_000, pg_url=pg_url, batch_size=200, lease_ttl_s=10
    )
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.04}])
    procs = [scene.start() for _ in range(3)]
    results = [scene.finish(p) for p in procs]

    assert [r.returncode for r in results] == [0, 0, 0], "\n\n".join(
        scene.describe(r) for r in results
    )
    scene.assert_exactly_once()
    scene.assert_key_discipline()
    # No faults, no stalls: every batch went out once, under its own key.
    keys = Counter(e["idempotenceKey"] for e in scene.add_phone_requests())
    assert set(keys.values()) == {1} and len(keys) == 100
    # The work was really split: each process confirmed some of the batches.
    per_pid = _confirmed_by_pid(scene)
    assert set(per_pid) == {p.pid for p in procs}, per_pid
    assert sum(per_pid.values()) == 100
    assert any("shared the campaign with up to" in r.stdout for r in results)
    # One of them planned the file; the others saw it planned and did not read it again.
    assert scene.query("SELECT count(*) FROM inputs WHERE campaign_id = :campaign") == [(1,)]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after_send", "after_intent"])
def test_a_worker_frozen_for_twice_its_lease_cannot_double_a_call(
    point: str, emulator: WallClockEmulator, tmp_path: Path, pg_url: str
) -> None:
    scene = Scene.create(
        tmp_path, emulator, rows=3000, pg_url=pg_url, batch_size=100, lease_ttl_s=TTL_S
    )
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.05}])
    # It stops itself at that point of its 3rd attempt: after_send = the reply is in its socket
    # but not recorded; after_intent = the attempt is recorded, the request not sent yet.
    frozen = scene.start(stop_at=f"{point}@3")
    others = [scene.start(), scene.start()]
    wait_until(lambda: _is_stopped(frozen.pid) or frozen.poll() is not None, timeout_s=90)
    assert frozen.poll() is None, scene.describe(scene.finish(frozen))
    (held_key,) = [
        key
        for (key,) in scene.query(
            "SELECT request_key FROM batches WHERE campaign_id = :campaign "
            f"AND state = 'sending' AND claim_owner LIKE '%:{frozen.pid}:%'"
        )
    ]
    time.sleep(2 * TTL_S)  # the scenario itself: frozen for twice its lease (no assertion on it)
    os.kill(frozen.pid, signal.SIGCONT)
    woke = scene.finish(frozen)
    done = [scene.finish(p) for p in others]

    assert [r.returncode for r in done] == [0, 0], "\n\n".join(scene.describe(r) for r in done)
    # The woken worker found itself fenced: its late write (or send) was refused, exit 5.
    assert woke.returncode == 5, scene.describe(woke)
    refused = (
        "has expired or ended; this write was refused"
        if point == "after_send"
        else "not sent: this run's lease was last renewed more than"
    )
    assert refused in woke.stdout + woke.stderr, scene.describe(woke)
    scene.assert_exactly_once()  # no extra job on the emulator, ledger agrees with it
    scene.assert_key_discipline()
    # The batch it held was finished by another worker under the same key.
    ((owner, state),) = scene.query(
        "SELECT claim_owner, state FROM batches WHERE campaign_id = :campaign "
        f"AND request_key = '{held_key}'"
    )
    assert state == "confirmed" and _pid_of(owner) != frozen.pid
    sends = Counter(e["idempotenceKey"] for e in scene.add_phone_requests())[held_key]
    # after_send: its own request reached the server, then the taker's replay; after_intent:
    # only the taker's request.
    assert sends == (2 if point == "after_send" else 1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 6])
def test_random_kills_of_sharing_workers_then_a_final_run_is_exactly_once(
    seed: int, emulator: WallClockEmulator, tmp_path: Path, pg_url: str
) -> None:
    rng = random.Random(seed)
    scene = Scene.create(
        tmp_path, emulator, rows=10_000, seed=seed, pg_url=pg_url, batch_size=200,
        lease_ttl_s=TTL_S,
    )  # fmt: skip
    emulator.set_faults([{"kind": "delay", "endpoint": "addPhones", "delaySeconds": 0.1}])
    kills = 0
    for _ in range(3):
        procs = [scene.start() for _ in range(3)]
        deadline = time.monotonic() + rng.uniform(0.8, 2.5)
        for proc in sorted(procs, key=lambda _p: rng.random()):
            # Each worker dies at its own random moment (or finishes first).
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
            deadline += rng.uniform(0.0, 0.7)
        for proc in procs:
            result = scene.finish(proc)
            if result.returncode == KILLED:
                kills += 1
            else:
                assert result.returncode == 0, scene.describe(result)
    # Requests are slow enough (0.1 s each, 50 batches) that the first round cannot finish
    # before its kills: the test never passes without killing anything.
    assert kills >= 2
    final = scene.upload()
    assert final.returncode == 0, f"after {kills} kill(s): {scene.describe(final)}"
    scene.assert_exactly_once()
    scene.assert_key_discipline()
