"""Replies that refuse a batch: what each does to it and to the run.

* 409 idempotence conflict → the run stops loudly (a bug in our key discipline).
* 400 ``invalid.call.task.state`` → the batch stays pending under its key, the run stops
  (exit 4: the campaign must be started).
* 400 naming a phone of the batch → that row ``rejected``, the others back to planned.
* 400 without a phone → split in two under new keys (``Ledger.split_refused``) until the
  refused row is alone and ``rejected`` with the server's code.
* 413 → split in two under new keys (``Ledger.split_too_large``), the campaign's batch size
  lowered in the ledger; a row too large alone is ``rejected`` (``row_too_large``). Not when
  an earlier attempt may have created the jobs: a 413 from a proxy in front of the server
  says nothing about it, and new keys could call the rows twice; the batch stays in doubt.

Usage::

    refusals = Refusals(ledger, lease, control, body_for=BODY_FOR)
    outcome = refusals.bad_request(work, exc)            # BadRequestError
    outcome = refusals.too_large(work, exc, maybe_created=False)
"""

from __future__ import annotations

import logging

from pipeline.errors import (
    ApiError,
    BadRequestError,
    CampaignNotRunningError,
    CampaignStateError,
    IdempotenceConflictError,
    PipelineError,
    RequestTooLargeError,
)
from pipeline.ledger import BatchWork, BodyFor, Holder, Ledger
from pipeline.load.send.outcome import Outcome
from pipeline.load.stop import RunControl

log = logging.getLogger("pipeline.load")


class Refusals:
    """Records refusals of one lease's batches; stops the run when a human must act."""

    def __init__(
        self, ledger: Ledger, lease: Holder, control: RunControl, *, body_for: BodyFor
    ) -> None:
        self.ledger, self.lease, self.control = ledger, lease, control
        self.body_for = body_for  # the bytes of split batches (pipeline.load.send.sender.BODY_FOR)

    def bad_request(self, work: BatchWork, exc: BadRequestError) -> Outcome:
        if isinstance(exc, IdempotenceConflictError):
            self.keep_pending(work, exc)
            self.control.stop(
                PipelineError(
                    f"batch {work.id}: the server says key {work.request_key} was used with "
                    f"another body. The uploader never does that, so this is a bug in its key "
                    f"discipline: the run stopped; keep the ledger and report it. ({exc})"
                )
            )
            return Outcome.STOPPED
        if isinstance(exc, CampaignStateError):
            self.keep_pending(work, exc)
            self.control.stop(
                CampaignNotRunningError(
                    f"the campaign does not accept new numbers ({exc.error_type}); nothing of "
                    f"batch {work.id} was created and it stays pending under its key. Start or "
                    f"resume the campaign in JAICP, then run upload again."
                )
            )
            return Outcome.STOPPED
        code = exc.error_type or "server.bad_request"
        if exc.phone is not None and exc.phone in {row.phone for row in work.rows}:
            back = self.ledger.replies.record_bad_row(
                self.lease, work.id, phone=exc.phone, code=code, message=exc.message
            )
            log.warning(
                "batch %d: server rejected a row (%s); %d rows re-batched", work.id, code, back
            )
            return Outcome.BAD_ROW
        halves = self.ledger.splits.split_refused(
            self.lease, work.id, code=code, message=exc.message, body_for=self.body_for
        )
        if not halves:
            log.warning("batch %d (one row) rejected by the server: %s", work.id, exc)
            return Outcome.REJECTED
        log.warning(
            "batch %d refused by the server without naming a row (%s); split into batches %s",
            work.id,
            code,
            ", ".join(map(str, halves)),
        )
        return Outcome.SPLIT

    def too_large(
        self, work: BatchWork, exc: RequestTooLargeError, *, maybe_created: bool
    ) -> Outcome:
        if maybe_created:
            # A 413 from a proxy in front of the server says nothing about an earlier attempt
            # that may have gone through: new keys could create its jobs twice.
            self.keep_pending(work, exc)
            log.error(
                "batch %d: HTTP 413 after an attempt that may have created its jobs; not split "
                "(that could call its rows twice): it stays in doubt until its key expires and "
                "reconciliation looks its phones up",
                work.id,
            )
            return Outcome.PENDING
        parts = self.ledger.splits.split_too_large(
            self.lease, work.id, message=exc.message, body_for=self.body_for
        )
        if not parts:
            log.warning("batch %d: one row alone is too large for the server: rejected", work.id)
            return Outcome.REJECTED
        log.warning(
            "batch %d (%d rows) refused as too large (HTTP 413); split into batches %s; this "
            "campaign's batches hold at most %d rows from now on",
            work.id,
            len(work.rows),
            ", ".join(map(str, parts)),
            (len(work.rows) + 1) // 2,
        )
        return Outcome.SPLIT

    def keep_pending(self, work: BatchWork, exc: ApiError) -> None:
        # Nothing was created (or we cannot tell): "unknown" keeps the key, so a later run
        # resends the same bytes or reconciles — never loses the rows, never doubles them.
        self.ledger.replies.record_unknown(self.lease, work.id, error=exc.message)
