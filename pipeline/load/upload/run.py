"""The upload run: lease → finish old work → plan new files → freeze → send → summary.

Usage::

    with open_ledger(cfg.ledger.url, clock=clock,
                     key_safety_margin_s=cfg.upload.key_safety_margin_s) as ledger:
        summary = run_upload(cfg, [Path("export.csv")], token=token, ledger=ledger,
                             client=lambda: CallsApiClient.from_config(cfg, token),
                             clock=clock, sleep=time.sleep, rng=random.Random())
    print("\\n".join(summary.lines())); raise SystemExit(summary.exit_code)

Clock, sleep and random generator are injected so tests control retries without waiting. The
ledger must use the same clock. ``client`` is a client, or a factory called once per sender
thread (required when ``upload.concurrency`` > 1: each thread gets its own HTTP session).

To stop a run from outside (a signal, an orchestrator's cancel), pass ``control=RunControl()``
with ``sleep=control.sleep`` and call ``control.stop(RunStoppedError(...))`` from any thread:
no new request leaves, the requests on the wire are waited for and recorded, planning stops
at the next chunk, and the summary (exit code of the error) is returned as for any ending.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import (
    ConfigError,
    LeaseHeldError,
    LedgerError,
    PipelineError,
    TransientApiError,
)
from pipeline.extract.snapshot import Snapshot, Snapshots
from pipeline.ledger import Campaign, ContactRules, Holder, Lease, Ledger, Worker
from pipeline.load.lease import LeaseKeeper, owner_is_dead, owner_name
from pipeline.load.reconcile_lookup import reconcile_unknown
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.screen import empty_error, empty_inputs, empty_warning, screen_inputs
from pipeline.load.send.crash_points import TestHooks
from pipeline.load.send.dispatcher import Dispatcher
from pipeline.load.send.pace import Pace, threads
from pipeline.load.stop import RunControl
from pipeline.load.suppress_lists import contact_rules
from pipeline.load.upload.campaign_check import SendGate
from pipeline.load.upload.input_planning import plan_file
from pipeline.load.upload.progress import Meter, MeteredSender, Progress
from pipeline.load.upload.summary import UploadSummary

ClientSource = CallsApiClient | Callable[[], CallsApiClient]

# How often a sharing run that has nothing to send looks again (at most; see _Run.share).
_POLL_S = 0.2


def run_upload(
    cfg: Config,
    files: Sequence[Path],
    *,
    token: str,
    ledger: Ledger,
    client: ClientSource,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    rng: random.Random,
    progress: Callable[[str], None] | None = None,
    hooks: TestHooks | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    new_ledger: bool = False,
    control: RunControl | None = None,
) -> UploadSummary:
    """Upload ``files`` to the token's campaign exactly once; see the module doc.

    Raises :class:`InputFileError` (unreadable file), :class:`ConfigError` (sharing asked of
    SQLite; :class:`UnknownNumbersError` when this ledger has never sent to a campaign that
    holds numbers and ``new_ledger`` is not set, see :mod:`pipeline.load.upload.campaign_check`) or
    :class:`LeaseHeldError` (another run holds the campaign and work is not shared) before
    anything is sent; every later failure ends the run in an orderly way and is reported in
    the summary (``summary.error``, ``summary.exit_code``).
    """
    say = progress or (lambda _line: None)
    hooks = hooks or TestHooks()
    started = clock()
    make_client = _client_factory(client, cfg, hooks)
    # Read before the ledger hears of the run: a malformed list stops it (ConfigError, exit 4).
    rules = contact_rules(cfg)
    # Each file is read once, into a private copy that every later stage reads (and its
    # digest is the copy's): see pipeline.extract.snapshot.
    with Snapshots() as snapshots:
        inputs = [snapshots.take(path) for path in files]
        shared = sharing(cfg, ledger)
        campaign = ledger.campaigns.ensure(token)
        run_id = ledger.runs.start(
            command="upload",
            files=[snap.info for snap in inputs],
            config_digest=cfg.digest(),
            campaign_id=campaign.id,
        )
        # upload.max_reject_ratio: a file mostly rejected stops the run before any request.
        screen_inputs(cfg, ledger, campaign.id, run_id, inputs, now=clock())
        ttl = cfg.upload.lease_ttl_s
        holder: Holder
        if shared:
            holder = ledger.workers.register(
                campaign.id, owner=owner_name(), ttl_s=ttl, run_id=run_id
            )
            worker = holder
        else:
            holder = _acquire(ledger, campaign.id, run_id, ttl)
            # A worker row under the lease's owner name too: sharing runs started elsewhere (other
            # config) then see this run's claims as live and leave its batches alone.
            worker = ledger.workers.register(
                campaign.id, owner=holder.owner, ttl_s=ttl, run_id=run_id
            )
            # A lease taken over from a killed run of this host: its worker row is as dead.
            ledger.workers.reap(campaign.id, owner_is_dead=owner_is_dead)
        run = _Run(cfg, ledger, holder, make_client, clock, sleep, rng, hooks, control)
        # Asked before anything is sent: what earlier runs had sent of these files.
        before = ledger.runs.sent_rows(campaign.id, [snap.info.sha256 for snap in inputs])
        # None: nothing of these files can be sent in this run; counted once, at the end.
        run.all_sent_before = before is None
        run.summary.sent_before = before or 0
        run.summary.files = [(str(snap.source), snap.info.sha256) for snap in inputs]
        run.worker = worker
        run.rules = rules
        run.snapshots = snapshots
        run.gate_sending(campaign, new_ledger=new_ledger)
        meter = run.sender.meter = Meter(on_progress) if on_progress else None
        try:
            with LeaseKeeper(
                ledger,
                holder if isinstance(holder, Lease) else None,
                worker=worker,
                on_lost=run.control.stop,
                ttl_s=ttl,
            ) as keeper:
                run.sender.fresh = keeper.fresh
                if isinstance(holder, Worker):
                    run.share(holder, keeper, inputs, say, meter)
                else:
                    run.coordinate(holder, inputs, say, meter)
        except PipelineError as exc:
            run.control.stop(exc)
        finally:
            run.finish(run_id, started)
        return run.summary


def sharing(cfg: Config, ledger: Ledger) -> bool:
    """Whether this run shares the campaign's batches with other runs (see upload.share_work)."""
    backend = ledger.store.backend
    if cfg.upload.share_work is None:
        return backend == "postgresql"
    if cfg.upload.share_work and backend != "postgresql":
        raise ConfigError(
            f"upload.share_work is true but the ledger is {backend}: several uploaders can "
            f"share a campaign only on a PostgreSQL ledger (ledger.url: postgresql+psycopg://…). "
            f"Remove upload.share_work, or move the ledger with `jaicp-pipeline ledger migrate`."
        )
    return cfg.upload.share_work


def _acquire(ledger: Ledger, campaign_id: int, run_id: int, ttl_s: float) -> Lease:
    try:
        return ledger.leases.acquire(
            campaign_id,
            owner=owner_name(),
            ttl_s=ttl_s,
            run_id=run_id,
            owner_is_dead=owner_is_dead,
        )
    except LeaseHeldError as exc:
        ledger.runs.finish(run_id, exit_status=exc.exit_code)
        raise


class _Run:
    """The parts of one upload run after it holds the campaign lease or joined as a worker."""

    def __init__(  # noqa: PLR0917 - private; built once by run_upload
        self,
        cfg: Config,
        ledger: Ledger,
        holder: Holder,
        make_client: Callable[[], CallsApiClient],
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        rng: random.Random,
        hooks: TestHooks,
        control: RunControl | None,
    ) -> None:
        self.cfg, self.ledger, self.holder, self.clock = cfg, ledger, holder, clock
        self.campaign_id = holder.campaign_id
        self.sleep = sleep
        self.control = control or RunControl()
        self.summary = UploadSummary(run_id=holder.run_id or 0)
        self.policy = RetryPolicy.from_config(cfg.upload, rng=rng)
        self.budget = Budget(clock, seconds=cfg.upload.run_budget_s)
        self.peers_seen = 0  # other live workers seen at once (sharing runs)
        self.worker: Worker | None = None  # this run's row in `workers` (ended by finish)
        self.snapshots: Snapshots | None = None  # the private copies of the run's files
        self.gate: SendGate | None = None  # the new-ledger check, asked before the first send
        self.rules: ContactRules | None = None  # do-not-call lists and contact caps
        self.empty: list[str] = []  # planned files without a data row (upload.empty_file)
        self.all_sent_before = False  # nothing of the run's files could be sent (sent_rows)
        self.sender = sender = MeteredSender(
            ledger,
            holder,
            policy=self.policy,
            budget=self.budget,
            sleep=sleep,
            hooks=hooks,
            control=self.control,
        )
        self.dispatcher = Dispatcher(
            ledger, holder, sender, make_client, batch_size=cfg.upload.batch_size
        )
        # upload.concurrency: auto — up to max_concurrency threads, as many sending as the
        # replies allow (pipeline.load.send.pace).
        self.senders = threads(cfg.upload.concurrency, cfg.upload.max_concurrency)
        if cfg.upload.concurrency == "auto":
            pace = Pace(maximum=self.senders, clock=time.monotonic)
            self.dispatcher.pace = sender.edge.pace = pace

    def gate_sending(self, campaign: Campaign, *, new_ledger: bool) -> None:
        """Send nothing until the campaign passed the new-ledger check (asked once, when the
        first batches are claimed: a run with nothing to send makes no request for it)."""
        self.gate = SendGate(
            self.ledger,
            campaign,
            self.dispatcher.client,
            run_id=self.summary.run_id,
            new_ledger=new_ledger,
            retry=self.policy,
            budget=self.budget,
            sleep=self.sleep,
            control=self.control,
        )
        self.dispatcher.may_send = self.gate

    def coordinate(
        self,
        lease: Lease,
        inputs: Sequence[Snapshot],
        say: Callable[[str], None],
        meter: Meter | None,
    ) -> None:
        """Everything only the campaign lease's holder does: reconcile, plan, freeze; and send."""
        run = self
        self.dispatcher.lease = lease
        # Fresh in-doubt batches go first: a resend settles which jobs they own, so the
        # reconciliation of an expired batch with the same phone cannot adopt their job.
        say("finishing batches of earlier runs")
        run.send(meter)
        if not run.control.stopped:
            run.reconcile(lease, say)
            run.send(meter)
        # Planning is offline: a run that had to stop sending (budget spent, campaign
        # stopped, token refused) still records tonight's files, so their rows are counted
        # as pending and the next run sends them. Only a ledger failure (lease lost) or a
        # stop asked from outside (a signal: the operator wants the process gone) stops it.
        if not isinstance(run.control.stop_error, LedgerError) and not run.control.interrupted:
            for snap in inputs:
                # Each planned chunk's batches go out while the next chunk is planned.
                counts = plan_file(
                    self.cfg,
                    snap.path,
                    snap.info,
                    self.ledger,
                    lease,
                    now=self.clock(),
                    on_chunk=run.after_chunk,
                    name=str(snap.source),
                    rules=self.rules,
                )
                run.summary.repeats_of_earlier_runs += counts.repeat_of_earlier_run
                run.summary.suppressed += counts.suppressed
                run.summary.contact_capped += counts.contact_cap
                if self.snapshots is not None:
                    self.snapshots.release(snap)  # planned: nothing reads the copy again
                say(f"{snap.source}: planned")
                if meter is not None:
                    read = counts.planned + counts.rejected + counts.duplicate
                    meter.planned(read + counts.skipped_already_planned, snap.info.name)
            self.empty = empty_inputs(self.ledger, self.campaign_id, inputs)
            if (
                isinstance(self.holder, Worker)
                and self.ledger.workers.count_live(self.campaign_id) > 1
            ):
                # Other workers are waiting for batches: freeze them all now (quick, relaxed
                # commits) rather than one per request of ours, or they would starve.
                run.dispatcher.freeze()
            else:
                run.dispatcher.start_freezing()
        if not run.control.stopped:
            say("sending")
            run.send(meter)
        if run.dispatcher.expired and not run.control.stopped:
            run.reconcile(lease, say)
            run.send(meter)

    def share(
        self,
        worker: Worker,
        keeper: LeaseKeeper,
        inputs: Sequence[Snapshot],
        say: Callable[[str], None],
        meter: Meter | None,
    ) -> None:
        """Work on the campaign beside other runs until it is done (PostgreSQL).

        Send whatever batch is free; take the campaign lease whenever it is free and this
        run's files are not planned yet (or rows wait to be frozen again) and do the
        lease holder's part; otherwise wait, polling, while other live workers still hold
        batches — when one of them dies or stalls past its lease its batches become free here.
        """
        control, ledger = self.control, self.ledger
        poll_s = min(_POLL_S, self.cfg.upload.lease_ttl_s / 8)
        coordinated, first = False, True
        while True:
            self.peers_seen = max(
                self.peers_seen, ledger.workers.count_live(worker.campaign_id) - 1
            )
            # Asked BEFORE claiming: a worker that is not live now never is again, so if no
            # live worker holds a batch now, the claims below see every batch left to send.
            ledger.workers.reap(worker.campaign_id, owner_is_dead=owner_is_dead)
            busy = ledger.workers.others_in_flight(worker)
            # The progress total is set once; later polls only add settled batches to it.
            claimed, first = self.send(meter if first else None), False
            if isinstance(control.stop_error, LedgerError):
                return  # our worker is gone (stalled past its lease): write nothing more
            if control.interrupted:
                return  # stopped from outside; its polls would not wait, only spin
            if not coordinated or (
                not control.stopped and ledger.freezing.planned_rows(worker.campaign_id)
            ):
                lease = self._try_lease(worker)
                if lease is not None:
                    keeper.adopt(lease)
                    try:
                        self.coordinate(lease, inputs, say, meter)
                    finally:
                        self.dispatcher.lease = None
                        ledger.leases.release(keeper.drop() or lease)
                    coordinated = True
                    continue
            elif control.stopped:
                return
            elif not (busy or claimed or ledger.workers.others_in_flight(worker)):
                # Idle before and after our claim: nothing left that anyone live is doing.
                # (Asked again after the claim: a peer may have claimed the last batches
                # between our first question and our claim; ending then would report them
                # as work left although they are on their way.)
                return
            if not self.budget.allows(poll_s):
                control.budget_spent = True
                return
            self.sleep(poll_s)

    def _try_lease(self, worker: Worker) -> Lease | None:
        try:
            return self.ledger.leases.acquire(
                worker.campaign_id,
                owner=worker.owner,
                ttl_s=self.cfg.upload.lease_ttl_s,
                run_id=worker.run_id,
                owner_is_dead=owner_is_dead,
            )
        except LeaseHeldError:
            return None

    def after_chunk(self) -> None:
        """After each planned chunk: send its batches; end planning when stopped from outside
        (the rows planned so far stay pending; the next run plans the rest of the file)."""
        self.dispatcher.pump()
        if self.control.interrupted:
            assert self.control.stop_error is not None
            raise self.control.stop_error

    def send(self, meter: Meter | None = None) -> int:
        """Send every batch that is free now; returns how many were claimed."""
        if meter is not None:
            meter.start_sending(self.ledger.runs.pending_rows(self.campaign_id))
        return self.dispatcher.send_all(concurrency=self.senders)

    def reconcile(self, lease: Lease, say: Callable[[str], None]) -> None:
        try:
            got = reconcile_unknown(
                self.ledger,
                lease,
                self.dispatcher.client(),
                retry=self.policy,
                sleep=self.sleep,
                skew_s=self.cfg.upload.key_safety_margin_s,
                stopped=lambda: self.control.interrupted,
            )
        except TransientApiError as exc:
            # The batch stays in doubt (nothing was decided); other work can still go out.
            self.summary.notes.append(f"reconciliation postponed to the next run: {exc}")
            return
        self.dispatcher.expired = False
        if got.batches:
            say(f"reconciled {got.batches} batch(es) whose keys expired")
        s = self.summary
        s.reconciled_batches += got.batches
        s.adopted += got.adopted
        s.refreshed += got.refreshed
        s.suspects += got.suspects

    def finish(self, run_id: int, started: datetime) -> None:
        """Count, record the run's end and release the lease (also after errors)."""
        s, control = self.summary, self.control
        try:
            self.dispatcher.close()
            fail_empty = self.cfg.upload.empty_file == "fail"
            s.error = control.stop_error or (empty_error(self.empty) if fail_empty else None)
            s.budget_spent = control.budget_spent
            s.attempts, s.retries = control.attempts, control.retries
            s.batches_confirmed = control.confirmed_batches
            s.pending_campaign = self.ledger.runs.pending_rows(self.campaign_id)
            s.duration_s = (self.clock() - started).total_seconds()
            counts = self.ledger.runs.finish(
                run_id,
                # pending_campaign includes this run's rows, so the code is already final here
                exit_status=s.exit_code,
                stats={
                    "attempts": s.attempts,
                    "retries": s.retries,
                    "sent_before": s.sent_before,
                },
                all_sent_before=self.all_sent_before,
            )
            s.notes[:0] = self.gate.notes if self.gate is not None else []
            s.notes += [] if fail_empty else [empty_warning(name) for name in self.empty]
            if self.peers_seen:
                s.notes.append(
                    f"shared the campaign with up to {self.peers_seen} other run(s) (PostgreSQL "
                    f"ledger); this run confirmed {control.confirmed_batches} batch(es)"
                )
            s.sent, s.rejected = int(counts["sent"]), int(counts["rejected"])
            s.duplicate, s.pending = int(counts["duplicate"]), int(counts["pending"])
            s.read = s.sent + s.rejected + s.duplicate + s.pending
            s.sent_before = int(counts["sent_before"])
            s.sent_before = min(s.sent_before, s.sent)  # sent stays sent; guard all the same
        finally:
            if isinstance(self.holder, Lease):
                self.ledger.leases.release(self.holder)
            if self.worker is not None:
                self.ledger.workers.end(self.worker)


def _client_factory(
    client: ClientSource, cfg: Config, hooks: TestHooks
) -> Callable[[], CallsApiClient]:
    if isinstance(client, CallsApiClient):
        if threads(cfg.upload.concurrency, cfg.upload.max_concurrency) > 1:
            raise ValueError(
                "upload.concurrency > 1 needs a client factory (one HTTP session per thread)"
            )
        hooks.install(client.session)
        return lambda: client

    def make() -> CallsApiClient:
        made = client()
        hooks.install(made.session)
        return made

    return make
