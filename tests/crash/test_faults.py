"""Server and network faults during one run: lost replies, 5xx before and after the commit,
429 with Retry-After (which pauses every sender), replies slower than the timeout, connection
refused for a while, and an address where nothing listens (the run stops after a few batches).

Every case: zero duplicates, the ledger agrees with the server, no key with two bodies, and no
key sent more than ``max_attempts_per_request`` times in one run.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene, wait_until

MAX_ATTEMPTS = 5


def per_key(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(entry["idempotenceKey"] for entry in entries)


def assert_bounded(entries: list[dict[str, Any]], limit: int = MAX_ATTEMPTS) -> None:
    worst = per_key(entries).most_common(1)
    assert worst and worst[0][1] <= limit, (
        f"a key was sent {worst[0][1]} times in one run (max {limit})"
    )


TRANSIENT: dict[str, list[dict[str, Any]]] = {
    "lost_replies": [{"kind": "drop_after_commit", "endpoint": "addPhones", "times": 2}],
    "5xx_before_commit": [
        {"kind": "error_before_commit", "endpoint": "addPhones", "times": 2, "status": 503}
    ],
    "5xx_after_commit": [
        {"kind": "error_after_commit", "endpoint": "addPhones", "times": 2, "status": 502}
    ],
    "reset_before_commit": [{"kind": "drop_before_commit", "endpoint": "addPhones", "times": 2}],
    # One of each in a row on the same request: lost, then 500 after commit, then 503 before.
    "mixed": [
        {"kind": "drop_after_commit", "endpoint": "addPhones", "times": 1},
        {"kind": "error_after_commit", "endpoint": "addPhones", "times": 1, "status": 500},
        {"kind": "error_before_commit", "endpoint": "addPhones", "times": 1, "status": 503},
    ],
}


@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_transient_faults_are_retried_under_the_same_key(
    name: str, emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=100, max_attempts_per_request=MAX_ATTEMPTS)
    rules = TRANSIENT[name]
    emulator.set_faults(rules, seed=1)

    result = scene.upload()
    assert result.returncode == 0, scene.describe(result)

    scene.assert_exactly_once()
    scene.assert_key_discipline()
    log = scene.add_phone_requests()
    assert_bounded(log)
    # Every fault hit the first request, so its key carries the retries: one per fault, then
    # the success; after a commit the success must be the server's stored reply (a replay).
    faults = sum(rule["times"] for rule in rules)
    first_key = log[0]["idempotenceKey"]
    tries = [e for e in log if e["idempotenceKey"] == first_key]
    assert [e["fault"] is not None for e in tries] == [True] * faults + [False]
    committed = any(rule["kind"].endswith("after_commit") for rule in rules)
    assert tries[-1]["replayed"] is committed
    assert len(log) == 100 // 20 + faults


def test_rate_limit_retry_waits_for_retry_after(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=60, retry_after_cap_s=10)
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "times": 1, "retryAfter": 1.5}]
    )

    result = scene.upload()
    assert result.returncode == 0, scene.describe(result)

    scene.assert_exactly_once()
    scene.assert_key_discipline()
    log = scene.add_phone_requests()
    limited, retry = log[0], log[1]
    assert limited["status"] == 429 and retry["idempotenceKey"] == limited["idempotenceKey"]
    # Wall clock as a lower bound only: the retry cannot have come before Retry-After passed.
    assert retry["wall"] - limited["wall"] >= 1.5


def test_retry_after_beyond_the_cap_leaves_work_pending_then_finishes(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=60, retry_after_cap_s=1)
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "addPhones", "times": 1, "retryAfter": 600}]
    )

    first = scene.upload()
    assert first.returncode == 3, f"expected 'work left pending' (3); {scene.describe(first)}"
    log = scene.add_phone_requests()
    assert len(scene.jobs()) < 60
    # It did not wait 600 s, nor hammer: the limited key went out once in this run.
    assert per_key(log)[log[0]["idempotenceKey"]] == 1

    emulator.clear_faults()
    second = scene.upload()
    assert second.returncode == 0, scene.describe(second)
    scene.assert_exactly_once()
    scene.assert_key_discipline()


def test_slow_replies_beyond_the_read_timeout(emulator: WallClockEmulator, tmp_path: Path) -> None:
    scene = Scene.create(tmp_path, emulator, rows=100, timeout_s=0.5)
    emulator.set_faults(
        [{"kind": "delay", "endpoint": "addPhones", "times": 2, "delaySeconds": 1.5}]
    )

    result = scene.upload()
    assert result.returncode == 0, scene.describe(result)
    # The slow requests are still running on the server after the client gave up on them;
    # judge only once they have landed (a condition, not a duration).
    wait_until(lambda: sum(e["fault"] == "delay" for e in scene.add_phone_requests()) == 2)

    scene.assert_exactly_once()
    scene.assert_key_discipline()
    log = scene.add_phone_requests()
    assert_bounded(log)
    # The server took longer than the read timeout, so the client gave up and retried each
    # slow request under its key (whichever copy committed first, the other was a replay).
    slow_keys = {e["idempotenceKey"] for e in log if e["fault"] == "delay"}
    assert all(per_key(log)[key] >= 2 for key in slow_keys)


def test_connection_refused_for_a_while(emulator: WallClockEmulator, tmp_path: Path) -> None:
    scene = Scene.create(
        tmp_path,
        emulator,
        rows=100,
        max_attempts_per_request=8,
        backoff_base_s=0.3,
        backoff_max_s=1,
    )
    emulator.stop()  # the port is free now: connections are refused until start() below
    proc = scene.start()
    time.sleep(1.0)  # let it meet the closed port; the outcome holds for any length of outage
    emulator.start()  # same port, same state
    result = scene.finish(proc)
    # Whether its retries outlasted the outage depends on the jitter: 0, or 3 (pending) and
    # a second run finishes. Either way nothing may be lost or doubled.
    assert result.returncode in (0, 3), scene.describe(result)
    if result.returncode == 3:
        again = scene.upload()
        assert again.returncode == 0, scene.describe(again)
    scene.assert_exactly_once()
    scene.assert_key_discipline()


def test_persistent_5xx_is_bounded_then_a_later_run_finishes(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    scene = Scene.create(tmp_path, emulator, rows=60, max_attempts_per_request=3)
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "status": 503}])

    first = scene.upload()
    assert first.returncode == 3, f"expected 'work left pending' (3); {scene.describe(first)}"
    first_log = scene.add_phone_requests()
    assert first_log, "the uploader never tried"
    assert_bounded(first_log, 3)
    assert scene.jobs() == []

    emulator.clear_faults()
    second = scene.upload()
    assert second.returncode == 0, scene.describe(second)
    assert_bounded(scene.add_phone_requests()[len(first_log) :], 3)
    scene.assert_exactly_once()
    scene.assert_key_discipline()


def test_a_rate_limit_pauses_every_sender(emulator: WallClockEmulator, tmp_path: Path) -> None:
    # Every request takes the server 1 s, so each sender has at most one request out at a
    # time. The first request gets a 429 (Retry-After 2 s) at the moment the other three
    # senders get their replies: those that were about to send again may do so, once each;
    # after that nobody sends until the pause is over. (Before, every sender went on at
    # full speed and only the batch that got the 429 waited.)
    scene = Scene.create(
        tmp_path, emulator, rows=100, batch_size=5, concurrency=4, backoff_base_s=0.05
    )
    took, retry_after = 1.0, 2.0
    emulator.set_faults(
        [
            {"kind": "delay", "endpoint": "addPhones", "delaySeconds": took},
            {"kind": "rate_limit", "endpoint": "addPhones", "times": 1, "retryAfter": retry_after},
        ]
    )
    result = scene.upload()
    assert result.returncode == 0, scene.describe(result)
    scene.assert_exactly_once()
    scene.assert_key_discipline()

    log = scene.add_phone_requests()
    limited = next(e for e in log if e["status"] == 429)
    replied = limited["arrivedAt"] + took  # the 429 left the server no earlier than this
    during = [e for e in log if replied < e["arrivedAt"] < replied + retry_after]
    assert len(during) <= 3, f"{len(during)} requests arrived during the {retry_after} s pause"
    again = [
        e for e in log if e is not limited and e["idempotenceKey"] == limited["idempotenceKey"]
    ]
    assert again and again[0]["arrivedAt"] >= replied + retry_after  # a lower bound only


def test_an_address_nobody_listens_on_stops_the_run_then_a_later_run_sends_once(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    import socket

    scene = Scene.create(tmp_path, emulator, rows=200)  # 10 batches of 20
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        good, scene.base_url = scene.base_url, f"http://127.0.0.1:{closed.getsockname()[1]}"
        scene.configure()
        first = scene.upload()
    assert first.returncode == 3, scene.describe(first)
    said = first.stdout + first.stderr
    # A new ledger asks `campaign info` before its first batch: that is where it stops.
    assert "could not connect" in said and scene.base_url in said and "nothing was sent" in said
    assert "api.base_url" in said and "JAICP_BASE_URL" in said
    assert scene.add_phone_requests() == [] and scene.jobs() == []
    states = dict(scene.query("SELECT state, count(*) FROM rows GROUP BY state"))
    assert "sent" not in states and sum(states.values()) == 200

    scene.base_url = good
    scene.configure()
    second = scene.upload()
    assert second.returncode == 0, scene.describe(second)
    scene.assert_exactly_once()
    scene.assert_key_discipline()
