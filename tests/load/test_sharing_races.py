"""PostgreSQL work sharing, in process: interleavings of a sharing run with another
host's worker or coordinator, each placed exactly where it hurts.

The other host is played by the test through the ledger API (its own ``Ledger`` on the same
PostgreSQL database, its own HTTP client); the run under test is ``run_upload`` with the fake
clock of :class:`~tests.load.conftest.Uploader` (its sleep moves the clock). The emulator is the
witness for jobs.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipeline.api import CallJobReport, CallsApiClient
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.extract.snapshot import file_info
from pipeline.ledger import BatchWork, Ledger, Worker, canonical_body, open_ledger
from pipeline.ledger.admin.verify import verify_ledger
from pipeline.ledger.sharing.leases import Leases
from pipeline.ledger.sharing.workers import Workers
from pipeline.ledger.store.database import Store
from pipeline.load import UploadSummary
from pipeline.load.upload.input_planning import plan_file
from pipeline.load.upload.run import run_upload
from tests.load.conftest import Uploader, write_csv

OTHER = "other-host:4242:abcd"  # a run on another host: never "known dead" here
DAY_AND_AN_HOUR = 25 * 3600


@dataclass
class HookedUploader(Uploader):
    """An :class:`Uploader` whose sleeps (the sharing run's polls) first run ``on_sleep``."""

    on_sleep: Callable[[], None] | None = None

    def sleep(self, seconds: float) -> None:
        if self.on_sleep is not None:
            self.on_sleep()
        super().sleep(seconds)


def _hooked(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, url: str
) -> HookedUploader:
    return HookedUploader(emulator, campaign["token"], tmp_path, url)


def _other_host_plans(uploader: Uploader, csv: Path, *, ttl_s: float, release: bool) -> int:
    """Another host's coordinator planned and froze ``csv`` (sent nothing); campaign id."""
    cfg = uploader.config()
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        campaign = ledger.campaigns.ensure(uploader.token)
        run_id = ledger.runs.start(
            command="upload", files=[], config_digest="x" * 64, campaign_id=campaign.id
        )
        lease = ledger.leases.acquire(campaign.id, owner=OTHER, ttl_s=ttl_s, run_id=run_id)
        plan_file(cfg, csv, file_info(csv), ledger, lease, now=uploader.clock())
        ledger.freezing.freeze_batches(lease, batch_size=10, body_for=canonical_body)
        if release:
            ledger.leases.release(lease)
        return campaign.id


def test_a_coordinator_frozen_inside_a_transaction_does_not_hang_the_other_runs(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, pg_url: str
) -> None:
    """Hang: ``leases.acquire`` waits without limit on the lease row's lock.

    Every transaction of the coordinator (each plan chunk, each freeze step — run while its own
    requests are on the wire —, each reconcile step) starts with ``fence()``, an UPDATE of the
    campaign's lease row that holds the row lock until commit. Freeze that process inside one
    (SIGSTOP, a suspended VM, a host cut off the network whose TCP connection PostgreSQL keeps
    until keepalive gives up, ~2 h by default) and every sharing run that reaches
    ``_try_lease`` blocks in ``SELECT … FROM leases … FOR UPDATE`` for as long: no further
    sends, no ``run_budget_s``, no exit. (On SQLite the same wait ends after the 30 s busy
    timeout.)
    """
    uploader = _hooked(emulator, campaign, tmp_path, pg_url)
    csv = uploader.csv(30)
    _other_host_plans(uploader, csv, ttl_s=5, release=False)
    # The other host's coordinator is frozen half-way through a fenced transaction.
    blocker = sa.create_engine(pg_url)
    conn = blocker.connect()
    tx = conn.begin()
    conn.exec_driver_sql(f"UPDATE leases SET epoch = epoch WHERE owner = '{OTHER}'")

    got: list[UploadSummary | BaseException] = []

    def run() -> None:
        try:
            got.append(uploader.run(csv, run_budget_s=20))
        except BaseException as exc:
            got.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    try:
        thread.start()
        thread.join(timeout=30)  # the run's budget is 20 s of its (fake) clock
        hung = thread.is_alive()
    finally:
        tx.rollback()
        conn.close()
        thread.join(timeout=60)
        blocker.dispose()
    assert not hung, (
        "the sharing run was still blocked on the lease row 30 s after it started (budget 20 s): "
        "a coordinator frozen inside a transaction stops every other run"
    )
    assert got and isinstance(got[0], UploadSummary), got


def test_a_run_does_not_report_work_left_while_a_live_worker_is_retrying_it(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, pg_url: str
) -> None:
    """Misleading exit 3: ``others_in_flight`` does not count ``unknown`` batches.

    ``unknown`` is also the state of a batch between two attempts of the same worker (the
    sender records the transient failure, then sleeps its backoff, then marks the next
    attempt). A sharing run that finds nothing else to do sees no batch "in flight", exits at
    once and prints "work left for the next run: some batches could not be sent now; run
    upload again (exit 3)" while the other worker is about to confirm the batch. (If that
    worker then dies, nobody is left to finish the batch in this round either.)
    """
    uploader = _hooked(emulator, campaign, tmp_path, pg_url)
    csv = uploader.csv(30)
    campaign_id = _other_host_plans(uploader, csv, ttl_s=600, release=True)
    cfg = uploader.config()
    client = CallsApiClient.from_config(cfg, uploader.token)
    with open_ledger(pg_url, clock=uploader.clock) as other:
        w2 = other.workers.register(campaign_id, owner="other-host:4343:w2", ttl_s=600)
        (held,) = other.sending.claim_sendable(w2, limit=1)
        other.sending.mark_attempt(w2, held.id)
        other.replies.record_unknown(
            w2, held.id, error="503 Service Unavailable"
        )  # now backing off

        retried: list[bool] = []

        def w2_retries() -> None:  # its backoff ends while our run polls
            if not retried:
                retried.append(True)
                _send(other, w2, held, client)

        uploader.on_sleep = w2_retries
        summary = uploader.run(csv)
        if not retried:
            w2_retries()  # leave the campaign complete either way

    assert summary.exit_code == ExitCode.OK, "\n".join(summary.lines())


def _send(ledger: Ledger, worker: Worker, work: BatchWork, client: CallsApiClient) -> None:
    ledger.sending.mark_attempt(worker, work.id)
    ids = client.add_phones_body(work.body(canonical_body), idempotence_key=work.request_key)
    ledger.replies.record_success(worker, work.id, ids)


class _ReportHook(CallsApiClient):
    """A client whose first ``job_report`` lets ``before`` run first (another host's send)."""

    before: Callable[[], None] | None = None

    def job_report(
        self, *, phones: Iterable[str | int] | None = None, ids: Iterable[str | int] | None = None
    ) -> list[CallJobReport]:
        hook, type(self).before = type(self).before, None
        if hook is not None:
            hook()
        return super().job_report(phones=phones, ids=ids)


def test_reconcile_beside_a_sending_worker_never_adopts_that_workers_new_job(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, pg_url: str
) -> None:
    """Lost row (one job carried by two ledger rows): the fixed single-run race, back with peers.

    Night 1: row A (phone P, DebtX) goes out once, nothing is created, the batch stays unknown.
    25 h later another host plans night 2's row B (same phone P, DebtY — a different row) into
    batch Y, and its worker claims Y. Our sharing run takes the lease and reconciles A's
    expired batch: ``_phones_in_fresh_doubt`` is taken before the lookups and only counts
    batches already in doubt, so Y (claimed, not yet sent) does not hold P back. Between that
    and our ``getReport``, the worker sends Y: the server creates B's job J for P after A's
    first send, no ledger row carries J yet, so reconciliation adopts J for A. Then the worker
    records J for B. A is never called; ``ledger verify`` finds job J on two rows.
    (In a single run this cannot happen: its own fresh batches settle before it reconciles —
    tests/load/test_reconcile.py::test_reconcile_never_adopts_the_job_of_a_fresh_batch_….)
    """
    uploader = _hooked(emulator, campaign, tmp_path, pg_url)
    p = "79161234567"
    night1 = write_csv(tmp_path / "night1.csv", [(p, "DebtX")])
    night2 = write_csv(tmp_path / "night2.csv", [(p, "DebtY")])
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 1}])
    assert uploader.run(night1, max_attempts_per_request=1).exit_code == ExitCode.PENDING
    emulator.clear_faults()
    emulator.advance(DAY_AND_AN_HOUR)
    uploader.clock.advance(DAY_AND_AN_HOUR)

    campaign_id = _other_host_plans(uploader, night2, ttl_s=600, release=True)
    cfg = uploader.config()
    plain = CallsApiClient.from_config(cfg, uploader.token)
    with open_ledger(pg_url, clock=uploader.clock) as other:
        w2 = other.workers.register(campaign_id, owner="other-host:4343:w2", ttl_s=600)
        (y,) = other.sending.claim_sendable(w2, limit=5)  # A's batch is expired: only Y is sendable
        on_wire: list[list[str]] = []

        def w2_sends_y() -> None:  # the server has B's job; the ledger does not know it yet
            other.sending.mark_attempt(w2, y.id)
            on_wire.append(
                plain.add_phones_body(y.body(canonical_body), idempotence_key=y.request_key)
            )

        def w2_records() -> None:
            if on_wire:
                other.replies.record_success(w2, y.id, on_wire.pop())

        _ReportHook.before = w2_sends_y
        uploader.on_sleep = w2_records
        try:
            uploader.run(night2, client=lambda: _ReportHook.from_config(cfg, uploader.token))
        finally:
            _ReportHook.before = None
        w2_records()
        other.workers.end(w2)
    uploader.on_sleep = None
    uploader.run()  # anything left (a refreshed A) goes out now

    names = sorted(j["payload"]["name"] for j in emulator.jobs(campaign["id"]))
    with open_ledger(pg_url) as ledger:
        problems = [str(x) for x in verify_ledger(ledger.store.engine)]
    assert names == ["DebtX", "DebtY"] and problems == [], (
        f"jobs on the server: {names}; ledger verify: {problems}"
    )


class _RacingWorkers(Workers):
    """``ledger.workers`` whose ``others_in_flight``, once armed, lets ``race`` run right after
    it answered — the instant between a sharing run's "is anyone busy?" and its own claim."""

    race: Callable[[], None] | None = None
    armed = False

    def others_in_flight(self, worker: Worker) -> int:
        busy = super().others_in_flight(worker)
        if self.armed and self.race is not None and busy == 0:
            race, self.race = self.race, None
            race()
        return busy


class _ArmingLeases(Leases):
    """``ledger.leases`` that arms ``workers`` once the lease is released."""

    def __init__(self, store: Store, workers: _RacingWorkers) -> None:
        super().__init__(store)
        self.racing = workers

    def release(self, lease: Any) -> None:
        super().release(lease)
        self.racing.armed = True  # our turn as coordinator is over: from now on it may end


def _racing_ledger(pg_url: str, uploader: Uploader, race: Callable[[], None]) -> Ledger:
    ledger = open_ledger(pg_url, clock=uploader.clock, key_safety_margin_s=3600)
    workers = _RacingWorkers(ledger.store)
    workers.race = race
    ledger.workers = workers
    ledger.leases = _ArmingLeases(ledger.store, workers)
    return ledger


def test_a_run_does_not_end_with_work_left_when_a_peer_claims_the_last_batches_meanwhile(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, pg_url: str
) -> None:
    """Misleading exit 3, found by bench_sharing (200k rows, 3 workers: exits [0, 0, 3]).

    After its turn with the lease a sharing run asks whether any live peer holds a batch (no),
    then claims (nothing: a peer claimed the last batches in between) and used to end there,
    reporting those batches as "work left" though they were on their way.
    """
    uploader = _hooked(emulator, campaign, tmp_path, pg_url)
    first, second = uploader.csv(30), uploader.csv(20, start=30)
    cfg = uploader.config()
    client = CallsApiClient.from_config(cfg, uploader.token)
    with open_ledger(pg_url, clock=uploader.clock) as other:
        campaign_id = other.campaigns.ensure(uploader.token).id
        w2 = other.workers.register(campaign_id, owner="other-host:4343:w2", ttl_s=600)
        taken: list[BatchWork] = []
        raced: list[bool] = []

        def peer_plans_and_claims() -> None:
            raced.append(True)
            run_id = other.runs.start(
                command="upload", files=[], config_digest="x" * 64, campaign_id=campaign_id
            )
            lease = other.leases.acquire(campaign_id, owner=OTHER, ttl_s=600, run_id=run_id)
            plan_file(cfg, second, file_info(second), other, lease, now=uploader.clock())
            other.freezing.freeze_batches(lease, batch_size=10, body_for=canonical_body)
            other.leases.release(lease)
            taken.extend(other.sending.claim_sendable(w2, limit=10))

        def peer_sends() -> None:
            while taken:
                _send(other, w2, taken.pop(), client)

        uploader.on_sleep = peer_sends
        cfg_ledger = _racing_ledger(pg_url, uploader, peer_plans_and_claims)
        summary = run_upload(
            cfg,
            [first],
            token=uploader.token,
            ledger=cfg_ledger,
            client=lambda: CallsApiClient.from_config(cfg, uploader.token),
            clock=uploader.clock,
            sleep=uploader.sleep,
            rng=random.Random(0),
        )
        cfg_ledger.close()
        assert raced, "the race never ran: the test did not test anything"
        peer_sends()

    assert summary.exit_code == ExitCode.OK, "\n".join(summary.lines())
    assert len(emulator.jobs(campaign["id"])) == 50
