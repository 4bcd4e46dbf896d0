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
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import (
    InputFileError,
    LeaseHeldError,
    LedgerError,
    PipelineError,
    TransientApiError,
)
from pipeline.ledger import InputFile, Lease, Ledger
from pipeline.load.batches import Dispatcher, pending_rows
from pipeline.load.hooks import TestHooks
from pipeline.load.lease import LEASE_TTL_S, LeaseKeeper, owner_is_dead, owner_name
from pipeline.load.planning import plan_file
from pipeline.load.progress import Meter, MeteredSender, Progress
from pipeline.load.reconcile import reconcile_unknown
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.sender import RunControl
from pipeline.load.summary import UploadSummary

ClientSource = CallsApiClient | Callable[[], CallsApiClient]


def file_info(path: Path) -> InputFile:
    """Name, sha256 and size of an input file (InputFileError when it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(f"{path}: file not found; check the path.") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the file: {exc.strerror or exc}.") from None
    return InputFile(path.name, digest.hexdigest(), size)


def config_digest(cfg: Config) -> str:
    """sha256 of the validated config (stored on the run: which settings produced it)."""
    return hashlib.sha256(cfg.model_dump_json().encode("utf-8")).hexdigest()


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
) -> UploadSummary:
    """Upload ``files`` to the token's campaign exactly once; see the module doc.

    Raises :class:`InputFileError` (unreadable file) or :class:`LeaseHeldError` (another
    run holds the campaign) before anything is sent; every later failure ends the run in an
    orderly way and is reported in the summary (``summary.error``, ``summary.exit_code``).
    """
    say = progress or (lambda _line: None)
    hooks = hooks or TestHooks()
    started = clock()
    make_client = _client_factory(client, cfg, hooks)
    inputs = [(path, file_info(path)) for path in files]
    campaign = ledger.ensure_campaign(token)
    run_id = ledger.start_run(
        command="upload",
        files=[info for _, info in inputs],
        config_digest=config_digest(cfg),
        campaign_id=campaign.id,
    )
    lease = _acquire(ledger, campaign.id, run_id)
    run = _Run(cfg, ledger, lease, make_client, clock, sleep, rng, hooks)
    meter = run.sender.meter = Meter(on_progress) if on_progress else None
    try:
        with LeaseKeeper(ledger, lease, on_lost=run.control.stop):
            # Fresh in-doubt batches go first: a resend settles which jobs they own, so the
            # reconciliation of an expired batch with the same phone cannot adopt their job.
            say("finishing batches of earlier runs")
            run.send(meter)
            if not run.control.stopped:
                run.reconcile(say)
                run.send(meter)
            # Planning is offline: a run that had to stop sending (budget spent, campaign
            # stopped, token refused) still records tonight's files, so their rows are counted
            # as pending and the next run sends them. Only a ledger failure (lease lost) stops it.
            if not isinstance(run.control.stop_error, LedgerError):
                for path, info in inputs:
                    counts = plan_file(cfg, path, info, ledger, lease, now=clock())
                    run.summary.repeats_of_earlier_runs += counts.repeat_of_earlier_run
                    say(f"{path}: planned")
                    if meter is not None:
                        read = counts.planned + counts.rejected + counts.duplicate
                        meter.planned(read + counts.skipped_already_planned, path.name)
                run.dispatcher.start_freezing()
            if not run.control.stopped:
                say("sending")
                run.send(meter)
            if run.dispatcher.expired and not run.control.stopped:
                run.reconcile(say)
                run.send(meter)
    except PipelineError as exc:
        run.control.stop(exc)
    finally:
        run.finish(run_id, started)
    return run.summary


def _acquire(ledger: Ledger, campaign_id: int, run_id: int) -> Lease:
    try:
        return ledger.acquire_lease(
            campaign_id,
            owner=owner_name(),
            ttl_s=LEASE_TTL_S,
            run_id=run_id,
            owner_is_dead=owner_is_dead,
        )
    except LeaseHeldError as exc:
        ledger.finish_run(run_id, exit_status=exc.exit_code)
        raise


class _Run:
    """The parts of one upload run after the lease is held."""

    def __init__(  # noqa: PLR0917 - private; built once by run_upload
        self,
        cfg: Config,
        ledger: Ledger,
        lease: Lease,
        make_client: Callable[[], CallsApiClient],
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        rng: random.Random,
        hooks: TestHooks,
    ) -> None:
        self.cfg, self.ledger, self.lease, self.clock = cfg, ledger, lease, clock
        self.sleep = sleep
        self.control = RunControl()
        self.summary = UploadSummary(run_id=lease.run_id or 0)
        self.policy = RetryPolicy.from_config(cfg.upload, rng=rng)
        self.sender = sender = MeteredSender(
            ledger,
            lease,
            policy=self.policy,
            budget=Budget(clock, seconds=cfg.upload.run_budget_s),
            sleep=sleep,
            hooks=hooks,
            control=self.control,
        )
        self.dispatcher = Dispatcher(
            ledger, lease, sender, make_client, batch_size=cfg.upload.batch_size
        )

    def send(self, meter: Meter | None = None) -> None:
        if meter is not None:
            meter.start_sending(pending_rows(self.ledger, self.lease.campaign_id))
        self.dispatcher.send_all(concurrency=self.cfg.upload.concurrency)

    def reconcile(self, say: Callable[[str], None]) -> None:
        try:
            got = reconcile_unknown(
                self.ledger,
                self.lease,
                self.dispatcher.client(),
                retry=self.policy,
                sleep=self.sleep,
                skew_s=self.cfg.upload.key_safety_margin_s,
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
            s.error = control.stop_error
            s.budget_spent = control.budget_spent
            s.attempts, s.retries = control.attempts, control.retries
            s.batches_confirmed = control.confirmed_batches
            s.pending_campaign = pending_rows(self.ledger, self.lease.campaign_id)
            s.duration_s = (self.clock() - started).total_seconds()
            counts = self.ledger.finish_run(
                run_id,
                # pending_campaign includes this run's rows, so the code is already final here
                exit_status=s.exit_code,
                stats={"attempts": s.attempts, "retries": s.retries},
            )
            s.sent, s.rejected = int(counts["sent"]), int(counts["rejected"])
            s.duplicate, s.pending = int(counts["duplicate"]), int(counts["pending"])
            s.read = s.sent + s.rejected + s.duplicate + s.pending
        finally:
            self.ledger.release_lease(self.lease)


def _client_factory(
    client: ClientSource, cfg: Config, hooks: TestHooks
) -> Callable[[], CallsApiClient]:
    if isinstance(client, CallsApiClient):
        if cfg.upload.concurrency > 1:
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
