"""Replies the uploader must not take at face value: an idempotence conflict (HTTP 409, or 400
``idempotence.key.conflict``) and a 200 with the wrong number of job ids. Neither may lead to a
row sent twice or a row resent under another key; the ledger must say what it knows.

* Conflict: another request used our batch's key first with other bytes (the server's key
  store is account-wide). The run stops (exit 1: a human must look), the batch stays in doubt
  under its key, its rows are not sent, and no later run resends them under a new key.
* Wrong number of ids: the server created the jobs, but its reply does not say which is whose
  (a tiny proxy drops one id from every reply to that key, replays included). The batch stays in
  doubt, is not resent in that run, and once its key has expired reconciliation adopts the jobs
  by phone: every row ends with exactly one job.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone
from tests.load.proxy import ReplyRewriter
from tests.load.wire import hooked_client

ROWS = 40  # four batches of 10
DAY_AND_AN_HOUR = 25 * 3600


class Wire:
    """Every addPhones request as it leaves: its key and its phones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[tuple[str, list[str]]] = []

    def __call__(self, request: requests.PreparedRequest) -> None:
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        with self.lock:
            key = str(request.headers["Idempotence-Key"])
            self.sent.append((key, [item["phone"] for item in json.loads(body)]))

    def keys_carrying(self, phones: set[str]) -> set[str]:
        return {key for key, sent in self.sent if phones & set(sent)}


class FirstKeyTaken:
    """Before our first request leaves, another client uses its key with other bytes."""

    def __init__(self, emulator: Emulator, token: str) -> None:
        self.url = f"{emulator.base_url}/api/calls/campaign/{token}/addPhones"
        self.lock = threading.Lock()
        self.key: str | None = None

    def __call__(self, request: requests.PreparedRequest) -> None:
        with self.lock:
            if self.key is not None:
                return
            self.key = str(request.headers["Idempotence-Key"])
            other = requests.post(
                self.url,
                data=json.dumps([{"phone": phone(999)}]),
                headers={"Idempotence-Key": self.key, "Content-Type": "application/json"},
                timeout=5,
            )
            assert other.status_code == 200


def _batch(uploader: Uploader, key: str) -> tuple[str, set[str], set[str]]:
    """The batch of ``key``: its state, its phones, the states of its rows."""
    with open_ledger(uploader.ledger_url) as ledger:
        with ledger.store.engine.connect() as conn:
            state = conn.exec_driver_sql(
                f"SELECT state FROM batches WHERE request_key = '{key}'"
            ).scalar_one()
            rows = conn.exec_driver_sql(
                "SELECT r.phone, r.state FROM rows r JOIN batch_rows br ON br.row_id = r.id "
                f"JOIN batches b ON b.id = br.batch_id WHERE b.request_key = '{key}'"
            ).all()
        assert verify_ledger(ledger.store.engine) == []
    return state, {p for p, _ in rows}, {s for _, s in rows}


@contextmanager
def _conflicts_as(status: int, uploader: Uploader, emulator: Emulator) -> Iterator[None]:
    """The server's conflict reply as it comes (409), or as a 400 with the same body."""
    if status == 409:
        yield
        return

    def as_400(_key: str, got: int, body: Any) -> tuple[int, Any] | None:
        return (400, body) if got == 409 else None

    with ReplyRewriter(emulator.base_url, as_400) as proxy:
        uploader.api["base_url"] = proxy.base_url
        yield


@pytest.mark.parametrize("senders", [1, 4])
@pytest.mark.parametrize("status", [409, 400])
def test_an_idempotence_conflict_stops_the_run_and_resends_nothing_under_another_key(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], status: int, senders: int
) -> None:
    csv = uploader.csv(ROWS)
    taken, wire = FirstKeyTaken(emulator, campaign["token"]), Wire()

    def before(request: requests.PreparedRequest) -> None:
        taken(request)
        wire(request)

    with _conflicts_as(status, uploader, emulator):
        make = hooked_client(uploader, before=before, concurrency=senders)
        first = uploader.run(csv, client=make, concurrency=senders)
        again = uploader.run(csv, client=make, concurrency=senders)

    assert taken.key is not None
    for run in (first, again):
        assert run.exit_code == ExitCode.FAILED, run.lines()
        assert "was used with another body" in str(run.error), run.lines()
    state, phones, row_states = _batch(uploader, taken.key)
    assert state == "unknown"  # in doubt under its own key: nothing decided, nothing lost
    assert row_states == {"batched"}
    assert len(phones) == 10
    assert wire.keys_carrying(phones) == {taken.key}  # never resent under another key
    assert not phones & set(jobs_per_phone(emulator, campaign["id"]))  # and never created


def _drop_one_id(poisoned: list[str]) -> Any:
    """Rewrite every 200 reply to the first key seen: one job id short."""

    def rewrite(key: str, status: int, body: Any) -> tuple[int, Any] | None:
        if not poisoned:
            poisoned.append(key)
        if key != poisoned[0] or status != 200:
            return None
        return 200, body[:-1]

    return rewrite


@pytest.mark.parametrize("senders", [1, 4])
def test_a_reply_with_too_few_job_ids_is_settled_by_phone_never_resent_under_a_new_key(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], senders: int
) -> None:
    csv = uploader.csv(ROWS)
    poisoned: list[str] = []
    wire = Wire()
    with ReplyRewriter(emulator.base_url, _drop_one_id(poisoned)) as proxy:
        uploader.api["base_url"] = proxy.base_url
        make = hooked_client(uploader, before=wire, concurrency=senders)
        first = uploader.run(csv, client=make, concurrency=senders)
        (key,) = poisoned
        assert first.exit_code == ExitCode.PENDING, first.lines()
        assert (first.sent, first.pending) == (ROWS - 10, 10)
        assert [k for k, _ in wire.sent].count(key) == 1  # not resent in the same run
        state, phones, row_states = _batch(uploader, key)
        assert (state, row_states) == ("unknown", {"batched"})

        # The same night again: the key is fresh, so the batch goes out under it once more;
        # the server replays its reply (one id short again) and the batch stays in doubt.
        again = uploader.run(csv, client=make, concurrency=senders)
        assert again.exit_code == ExitCode.PENDING, again.lines()
        assert [k for k, _ in wire.sent].count(key) == 2

        # A day later the key has expired: the jobs are found by phone and adopted.
        emulator.advance(DAY_AND_AN_HOUR)
        uploader.clock.advance(DAY_AND_AN_HOUR)
        settled = uploader.run(csv, client=make, concurrency=senders)
    assert settled.exit_code == ExitCode.OK, settled.lines()
    assert (settled.adopted, settled.refreshed) == (10, 0)
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(ROWS)}
    assert wire.keys_carrying(phones) == {key}  # its rows never went out under another key
    state, _, row_states = _batch(uploader, key)
    assert row_states == {"sent"}
