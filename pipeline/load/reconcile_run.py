"""``reconcile`` on its own: settle expired in-doubt batches without sending anything new.

The refreshed batches it creates (rows not found on the server, under new keys) are sent by
the next ``upload``. Usage::

    counts, pending = run_reconcile(cfg, token=token, ledger=ledger, client=client,
                                    sleep=time.sleep, rng=random.Random())

With ``control`` (a :class:`~pipeline.load.stop.StopFlag`; pass its ``sleep`` too), a
``control.stop(RunStoppedError(...))`` from any thread ends it after the lookup on the wire:
the run is recorded with the error's exit code and the lease released; the caller reads
``control.stop_error``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import ExitCode, PipelineError
from pipeline.ledger import Ledger
from pipeline.load.lease import LeaseKeeper, owner_is_dead, owner_name
from pipeline.load.reconcile_lookup import ReconcileCounts, reconcile_unknown
from pipeline.load.retry import RetryPolicy
from pipeline.load.stop import StopFlag


def run_reconcile(
    cfg: Config,
    *,
    token: str,
    ledger: Ledger,
    client: CallsApiClient,
    sleep: Callable[[float], None],
    rng: random.Random,
    control: StopFlag | None = None,
) -> tuple[ReconcileCounts, int]:
    """Reconcile under the campaign lease; returns the counts and the campaign's pending rows.

    Raises :class:`~pipeline.errors.LeaseHeldError` while another run holds the campaign
    lease (on a sharing PostgreSQL ledger: while an upload plans, freezes or reconciles; it
    may run beside uploads that are only sending, whose batches it leaves alone).
    """
    campaign = ledger.campaigns.ensure(token)
    run_id = ledger.runs.start(
        command="reconcile", files=[], config_digest=cfg.digest(), campaign_id=campaign.id
    )
    try:
        lease = ledger.leases.acquire(
            campaign.id,
            owner=owner_name(),
            ttl_s=cfg.upload.lease_ttl_s,
            run_id=run_id,
            owner_is_dead=owner_is_dead,
        )
    except PipelineError as exc:
        ledger.runs.finish(run_id, exit_status=exc.exit_code)
        raise
    status = ExitCode.FAILED
    ttl = cfg.upload.lease_ttl_s
    # Registered as a worker under the lease's owner name: uploads sharing the campaign
    # (PostgreSQL) then see the batches it claims as taken and leave them alone.
    worker = ledger.workers.register(campaign.id, owner=lease.owner, ttl_s=ttl, run_id=run_id)
    ledger.workers.reap(campaign.id, owner_is_dead=owner_is_dead)  # e.g. a killed upload's
    try:
        errors: list[PipelineError] = []
        with LeaseKeeper(ledger, lease, worker=worker, on_lost=errors.append, ttl_s=ttl):
            counts = reconcile_unknown(
                ledger,
                lease,
                client,
                retry=RetryPolicy.from_config(cfg.upload, rng=rng),
                sleep=sleep,
                skew_s=cfg.upload.key_safety_margin_s,
                stopped=lambda: control is not None and control.interrupted,
            )
        if errors:
            raise errors[0]
        pending = ledger.runs.pending_rows(campaign.id)
        status = ExitCode.PENDING if pending else ExitCode.OK
        if control is not None and control.stop_error is not None:
            status = control.stop_error.exit_code
    except PipelineError as exc:
        status = exc.exit_code
        raise
    finally:
        ledger.runs.finish(run_id, exit_status=status)
        ledger.leases.release(lease)
        ledger.workers.end(worker)
    return counts, pending
