"""Reconciliation: settle batches whose outcome is unknown and whose key is too old to resend.

The server forgets a key after 24 h, so such a batch can only be settled by asking the server
what exists: ``callJob/getReport`` by phone. For each row of the batch a job is adopted when

* it has the row's phone, in this campaign (the token's campaign),
* it was created at or after the batch's first send (minus ``skew_s`` of clock difference
  between this host and the server: earlier jobs are taken only when no later one exists),
* and no other ledger row owns it already (a job id recorded for another row, or adopted
  earlier in this pass — batches are settled oldest first).

``getReport`` does not return a job's payload, so the payload cannot be compared; the
conditions above make a wrong adoption need a job that the ledger does not know, for the same
phone, created around the same time — recorded in the audit event as a suspect when several
jobs qualify (the earliest is adopted). Rows with no such job are frozen into a new batch
under a new key (generation + 1) by the ledger, in the same transaction.

Usage::

    counts = reconcile_unknown(ledger, lease, client, retry=retry, skew_s=3600)
    counts.batches, counts.adopted, counts.refreshed, counts.suspects

With ``stopped`` (e.g. ``lambda: control.interrupted``) it ends early once that says yes: no
lookup starts after it, and the batches not settled yet stay in doubt for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pipeline.api import CallJobReport
from pipeline.errors import BadRequestError, TransientApiError
from pipeline.ledger import BatchWork, Lease, Ledger
from pipeline.load.retry import RetryPolicy
from pipeline.load.send.sender import BODY_FOR

log = logging.getLogger("pipeline.load")

LOOKUP_CHUNK = 200  # phones per getReport request
_CLAIM = 20  # batches settled per claim


class ReportClient(Protocol):
    """The one client method reconciliation needs (a CallsApiClient in practice)."""

    def job_report(
        self, *, phones: Iterable[str | int] | None = None, ids: Iterable[str | int] | None = None
    ) -> list[CallJobReport]: ...


class _StoppedError(Exception):
    """The run was stopped from outside in the middle of a batch's lookups."""


@dataclass(slots=True)
class ReconcileCounts:
    """What one reconciliation pass did."""

    batches: int = 0
    adopted: int = 0
    refreshed: int = 0
    suspects: int = 0
    lookups: int = 0
    postponed: int = 0


def reconcile_unknown(
    ledger: Ledger,
    lease: Lease,
    client: ReportClient,
    *,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    skew_s: float,
    stopped: Callable[[], bool] = lambda: False,
) -> ReconcileCounts:
    """Settle every expired in-doubt batch of the lease's campaign (see the module doc).

    A lookup that keeps failing transiently raises its :class:`TransientApiError`: the batch
    stays in doubt (nothing was decided) and the caller leaves it for the next run.
    """
    counts = ReconcileCounts()
    taken: set[str] = set()
    postponed: set[int] = set()
    while not stopped() and (works := ledger.reconciling.claim_expired(lease, limit=_CLAIM)):
        if all(work.id in postponed for work in works):
            break  # only batches we already put off are left: the next run tries again
        for work in works:
            if stopped():
                return counts
            if work.id in postponed:
                continue
            phones = {item.phone for item in work.items}
            # Planned batches with these phones are held first, so no worker sharing the
            # campaign sends one while we look (its new job would look like ours); then the
            # fresh in-doubt ones are checked: nothing can join them while we hold the rest.
            held = ledger.reconciling.hold_planned(lease, phones)
            if held is None or ledger.reconciling.phones_in_fresh_doubt(lease.campaign_id, phones):
                # A batch with a still-valid key holds one of these phones (in doubt, or about
                # to be sent by a live worker): a job found for it may be that batch's.
                # Decide once that batch has settled.
                if held:
                    ledger.reconciling.release_held(lease, held)
                postponed.add(work.id)
                counts.postponed += 1
                log.info("batch %d: reconciliation postponed (phone in a fresh batch)", work.id)
                continue
            try:
                new, found, suspects = _settle(
                    ledger, lease, client, work, taken, retry, sleep, counts, skew_s, stopped
                )
            except _StoppedError:
                return counts  # nothing was decided for it: the batch stays in doubt
            finally:
                ledger.reconciling.release_held(lease, held)
            counts.batches += 1
            counts.adopted += len(found)
            counts.refreshed += len(work.items) - len(found)
            counts.suspects += suspects
            log.info(
                "batch %d reconciled: %d adopted, %d refreshed%s",
                work.id,
                len(found),
                len(work.items) - len(found),
                f" into batch {new}" if new else "",
            )
    return counts


def _settle(  # noqa: PLR0917 - one step of reconcile_unknown, private
    ledger: Ledger,
    lease: Lease,
    client: ReportClient,
    work: BatchWork,
    taken: set[str],
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    counts: ReconcileCounts,
    skew_s: float,
    stopped: Callable[[], bool],
) -> tuple[int | None, dict[int, str], int]:
    """Look the batch's phones up, adopt what exists, refresh the rest (one batch)."""
    phones = sorted({i.phone for i in work.items})
    jobs = _lookup(client, phones, retry, sleep, counts, stopped=stopped)
    owned = ledger.reconciling.owned_job_ids(
        lease.campaign_id, {j.call_job_id for found in jobs.values() for j in found}
    )
    found, notes = _match(work, jobs, owned | taken, skew_s)
    taken.update(found.values())
    suspects = sum(len(n) for n in notes.values())
    reason = "callJob/getReport by phone after key expiry"
    if notes:
        listed = "; ".join(f"row {r}: also {', '.join(ids)}" for r, ids in notes.items())
        reason += f"; suspect duplicate jobs (not adopted): {listed}"
    new = ledger.reconciling.reconcile_batch(
        lease, work.id, found=found, body_for=BODY_FOR, reason=reason[:2000]
    )
    return new, found, suspects


def _match(
    work: BatchWork, jobs: dict[str, list[CallJobReport]], unavailable: set[str], skew_s: float
) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Row id → adopted job id, and row id → other qualifying job ids (suspects)."""
    assert work.first_sent_at is not None  # claim_expired returns sent batches only
    first = work.first_sent_at
    earliest = first - timedelta(seconds=skew_s)
    found: dict[int, str] = {}
    notes: dict[int, list[str]] = {}
    chosen: set[str] = set()
    for row_id, item in zip(work.row_ids, work.items, strict=True):
        candidates = [
            job
            for job in jobs.get(item.phone, [])
            if job.call_job_id not in unavailable
            and job.call_job_id not in chosen
            and job.created_at is not None
            and job.created_at >= earliest
        ]
        if not candidates:
            continue
        # Prefer jobs created after the first send; among those the earliest.
        candidates.sort(key=lambda j: (_created(j) < first, _created(j), int_or(j.call_job_id)))
        found[row_id] = candidates[0].call_job_id
        chosen.add(candidates[0].call_job_id)
        if len(candidates) > 1:
            notes[row_id] = [j.call_job_id for j in candidates[1:]]
    return found, notes


def _created(job: CallJobReport) -> datetime:
    assert job.created_at is not None
    return job.created_at


def int_or(text: str) -> int:
    """Numeric ids sort numerically; others sort after them."""
    return int(text) if text.isdigit() else 1 << 62


def _lookup(
    client: ReportClient,
    phones: Sequence[str],
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    counts: ReconcileCounts,
    *,
    stopped: Callable[[], bool],
) -> dict[str, list[CallJobReport]]:
    """Jobs per phone. ``phone.not.found`` fails a whole request when any one phone has no
    job, so such a chunk is split in halves until the phones without jobs are isolated."""
    out: dict[str, list[CallJobReport]] = {}
    todo = [list(phones[n : n + LOOKUP_CHUNK]) for n in range(0, len(phones), LOOKUP_CHUNK)]
    while todo:
        if stopped():
            raise _StoppedError
        chunk = todo.pop()
        try:
            reports = _report_with_retry(client, chunk, retry, sleep, counts, stopped=stopped)
        except BadRequestError as exc:
            if exc.error_type != "phone.not.found":
                raise
            if len(chunk) > 1:
                half = len(chunk) // 2
                todo += [chunk[:half], chunk[half:]]
            continue  # a single phone not found: it has no job at all
        for job in reports:
            out.setdefault(job.phone, []).append(job)
    return out


def _report_with_retry(
    client: ReportClient,
    chunk: list[str],
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    counts: ReconcileCounts,
    *,
    stopped: Callable[[], bool],
) -> list[CallJobReport]:
    attempt = 0
    while True:
        attempt += 1
        counts.lookups += 1
        try:
            return client.job_report(phones=chunk)
        except TransientApiError as exc:
            wait = retry.wait(attempt=attempt, error=exc)
            if wait is None:
                raise
            sleep(wait)
            if stopped():
                raise _StoppedError from None
