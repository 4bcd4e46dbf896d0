"""Freezing while a request is on the wire: the idle work runs during the request, on the
caller's thread; its errors wait for the reply; and an upload stays exactly-once with batches
frozen step by step between sends (a bad row restarting the freezer included)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, LedgerError
from pipeline.ledger import open_ledger
from pipeline.ledger.verify import verify_ledger
from pipeline.load.hooks import TestHooks
from pipeline.load.overlap import Wire
from pipeline.records import CallItem
from tests.load.conftest import Uploader, jobs_per_phone, phone


class _WaitsForIdle:
    """A client whose request does not finish before the caller's idle work has run twice."""

    def __init__(self, hooks: TestHooks) -> None:
        self.hooks = hooks
        self.idle_ran = threading.Event()
        self.seen: list[tuple[str, int]] = []

    def add_phones_body(self, body: bytes, *, idempotence_key: str | None) -> list[str]:
        self.seen.append((threading.current_thread().name, self.hooks.current_attempt()))
        assert self.idle_ran.wait(timeout=30), "idle work never ran while the request waited"
        return [f"job-{len(body)}"]


def test_idle_work_runs_on_the_callers_thread_while_the_request_waits() -> None:
    hooks = TestHooks()
    hooks.start_attempt()
    attempt = hooks.start_attempt()  # the after_send crash point must see this number
    client = _WaitsForIdle(hooks)
    idle_threads: list[str] = []

    def idle() -> bool:
        idle_threads.append(threading.current_thread().name)
        if len(idle_threads) == 2:
            client.idle_ran.set()
        return len(idle_threads) < 2

    wire = Wire(hooks)
    try:
        ids = wire.client(client, idle=idle).add_phones_body(b"[1]", idempotence_key="k")
    finally:
        wire.close()
    assert ids == ["job-3"]
    assert idle_threads == [threading.current_thread().name] * 2
    ((request_thread, request_attempt),) = client.seen
    assert request_thread.startswith("wire") and request_attempt == attempt == 2
    assert wire.idle_error is None


def test_an_idle_error_waits_for_the_reply_and_stops_the_idle_work() -> None:
    client = _WaitsForIdle(TestHooks())
    calls = 0

    def failing_idle() -> bool:
        nonlocal calls
        calls += 1
        client.idle_ran.set()
        raise LedgerError("the disk is full")

    wire = Wire(TestHooks())
    try:
        ids = wire.client(client, idle=failing_idle).add_phones_body(b"[]", idempotence_key="k")
    finally:
        wire.close()
    assert ids == ["job-2"]  # the reply still arrives, so its outcome can be recorded
    assert calls == 1 and isinstance(wire.idle_error, LedgerError)


def _plan_old_rows_with_a_bad_one(uploader: Uploader, n: int) -> None:
    # An earlier tool version planned "12345" (the transform refuses it today); the server
    # rejects its batch with a 400 naming that phone while later rows are still unfrozen.
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        camp = ledger.ensure_campaign(uploader.token)
        run_id = ledger.start_run(command="upload", files=[], config_digest="x")
        lease = ledger.acquire_lease(camp.id, owner="old:1:x", ttl_s=1, run_id=run_id)
        state = ledger.begin_input(lease, name="old.csv", sha256="0" * 64)
        items = [CallItem(i + 1, phone(i), {"name": f"N{i}"}) for i in range(n)]
        items.insert(2, CallItem(n + 1, "12345", {"name": "bad"}))
        ledger.plan_chunk(lease, state.id, items)
        ledger.complete_input(lease, state.id, rows_total=n + 1)
        ledger.release_lease(lease)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_batches_are_frozen_between_sends_and_every_row_goes_out_once(
    concurrency: int, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    _plan_old_rows_with_a_bad_one(uploader, 35)
    summary = uploader.run(uploader.csv(60, start=100), concurrency=concurrency)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    expected = {phone(i): 1 for i in [*range(35), *range(100, 160)]}
    assert jobs_per_phone(emulator, campaign["id"]) == expected
    with open_ledger(uploader.ledger_url) as ledger:
        assert verify_ledger(ledger.read()) == []
        with ledger.read().connect() as conn:
            bad = conn.execute(text("select state from rows where phone='12345'")).scalar()
            first_send = conn.execute(
                text("select min(id) from events where entity='batch' and to_state='sending'")
            ).scalar_one()
            frozen_before = conn.execute(
                text(
                    "select count(*) from events where entity='batch' and from_state is null "
                    "and id < :first"
                ),
                {"first": first_send},
            ).scalar_one()
    assert bad == "rejected"
    # One sender freezes as it goes: the first request leaves once one batch is frozen (the
    # others freeze while requests are on the wire). Several senders get all 10 frozen first.
    assert frozen_before == (1 if concurrency == 1 else 10)
