"""Sending one frozen batch: intent first, then the request, then the outcome — retried with the
same key and the same bytes while the failure is transient and the run has time.

Usage::

    control = RunControl()
    sender = BatchSender(ledger, lease, policy=policy, budget=budget, sleep=time.sleep,
                         hooks=TestHooks(), control=control)
    outcome = sender.send(work, client)          # Outcome.CONFIRMED, .PENDING, ...

What each reply means (DESIGN.md §3 "Send"):

* 200 with one id per phone → ``confirmed``.
* a transient failure (connection, timeout, 5xx, 429) → ``unknown``; retried under the same
  key until ``max_attempts_per_request`` attempts in this run, a ``Retry-After`` above the cap,
  or the run budget ends it; then the batch stays pending for the next run.
* 400 naming a phone of the batch → that row ``rejected`` with the server's reason, the others
  back to planned (re-frozen under new keys by the caller).
* 400 ``invalid.call.task.state`` (campaign stopped/paused/finished): nothing was created; the
  batch stays pending under its key and the run stops (exit 4: someone must start the campaign).
* any other 400 without a phone (``invalid.dialer_priority``, ``invalid.call.allowed.time``…):
  the server refuses what some row asks for without saying which, and nothing was created:
  the batch is split into two new batches under new keys (``Ledger.split_refused``), sent in
  turn, until the refused row is alone and ``rejected`` with the server's code; the good rows
  go out and the run goes on.
* 404 ``invalid.token``, an unexpected reply, or an idempotence conflict (a bug in our key
  discipline) → the run stops at once; the batch stays pending (nothing is lost).
* 200 with the wrong number of ids → ``unknown`` and not resent in this run (the server would
  replay the same reply); reconciliation by phone resolves it once the key has expired.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from pipeline.api import encode_add_phones
from pipeline.errors import (
    ApiError,
    BadRequestError,
    CampaignStateError,
    ConfigError,
    IdempotenceConflictError,
    KeyExpiredError,
    PipelineError,
    StaleLeaseError,
    TransientApiError,
)
from pipeline.ledger import BatchWork, Holder, Ledger
from pipeline.ledger.batches import BodyFor, canonical_body
from pipeline.load.hooks import TestHooks
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.stop import StopFlag
from pipeline.records import CallItem

log = logging.getLogger("pipeline.load")


def body_for(items: Sequence[CallItem]) -> bytes:
    """The exact ``addPhones`` bytes of a batch's rows (the ledger stores their digest).

    This is the ledger's :func:`~pipeline.ledger.batches.canonical_body` in effect (a test
    proves it byte-identical to :func:`encode_add_phones` on varied rows); handing the ledger
    that very function lets it splice bodies from stored JSON instead of re-encoding rows.
    """
    return encode_add_phones([item.to_api() for item in items])


# What the uploader passes as ``body_for``: the same bytes as body_for() above.
BODY_FOR: BodyFor = canonical_body


class Outcome(enum.Enum):
    """What became of one batch in this run."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    BAD_ROW = "bad_row"  # one row rejected, the others back to planned: freeze again
    SPLIT = "split"  # refused without naming a row: its rows are in two new batches
    PENDING = "pending"  # left for the next run
    EXPIRED = "expired"  # the key may have expired meanwhile: reconcile
    STOPPED = "stopped"  # the run is stopping; not sent


class CampaignNotRunningError(ConfigError):
    """The campaign refuses new jobs (stopped, finished): a human must act (exit 4)."""


class RunControl(StopFlag):
    """State shared by the sender threads: counters and the reason to stop.

    Its :meth:`~pipeline.load.stop.StopFlag.stop` is how a caller (the command line's signal
    handling, say) asks the run to end in order; pass its ``sleep`` to ``run_upload`` too, so
    that no backoff outlives the stop.
    """

    def __init__(self) -> None:
        super().__init__()
        self.budget_spent = False
        self.attempts = 0
        self.retries = 0
        self.confirmed_batches = 0

    @property
    def stopped(self) -> bool:
        """Whether the run must send nothing more."""
        return self.stop_error is not None or self.budget_spent

    def count(self, *, attempts: int = 0, retries: int = 0, confirmed: int = 0) -> None:
        """Add to the counters (thread-safe)."""
        with self._lock:
            self.attempts += attempts
            self.retries += retries
            self.confirmed_batches += confirmed


class BatchSender:
    """Sends batches of one lease; safe to use from several threads (one client each)."""

    def __init__(
        self,
        ledger: Ledger,
        lease: Holder,
        *,
        policy: RetryPolicy,
        budget: Budget,
        sleep: Callable[[float], None],
        hooks: TestHooks,
        control: RunControl,
    ) -> None:
        self.ledger = ledger
        self.lease = lease
        self.policy = policy
        self.budget = budget
        self.sleep = sleep
        self.hooks = hooks
        self.control = control
        # Asked right before each request (LeaseKeeper.fresh): False once this process may
        # have been frozen past its lease, when others may be sending its batches already.
        self.fresh: Callable[[], bool] = lambda: True

    def send(self, work: BatchWork, client: AddPhonesClient) -> Outcome:
        """Send ``work`` until it has an outcome or must wait for the next run."""
        return self._finish(work, self._attempts(work, client, attempt=0, failed=None))

    def resume(
        self, work: BatchWork, client: AddPhonesClient, *, attempt: int, failed: ApiError
    ) -> Outcome:
        """Go on with ``work`` after its attempt number ``attempt`` (intent recorded, request
        made by the caller: :class:`~pipeline.load.overlap.Flights`) failed with ``failed``:
        retried, rejected or left pending exactly as :meth:`send` would have."""
        return self._finish(work, self._attempts(work, client, attempt=attempt, failed=failed))

    def confirm(self, work: BatchWork, ids: list[str]) -> Outcome:
        """Record a reply with job ids for ``work`` (one with the wrong number stays unknown)."""
        return self._finish(work, self._after_success(work, ids))

    def settled(self, work: BatchWork, outcome: Outcome) -> None:
        """Called once with the outcome of every batch this sender handled (progress)."""

    def waiting(self, rows: int) -> None:
        """Called when ``rows`` more rows are launched while their file is being planned."""

    def stale(self, work: BatchWork) -> None:
        """Stop the run: the lease may be gone (``fresh()`` said no), so ``work`` is not sent.

        The intent is recorded and the batch stays claimed by us: once our lease has expired
        another run resends it under the same key (or reconciles it).
        """
        self.control.stop(
            StaleLeaseError(
                f"batch {work.id} not sent: this run's lease was last renewed more than "
                f"half its TTL ago (the process was stalled, or the ledger database was "
                f"unreachable), so other runs may be working on its batches soon. The "
                f"run stops; run it again to continue."
            )
        )

    def _finish(self, work: BatchWork, outcome: Outcome) -> Outcome:
        self.settled(work, outcome)
        return outcome

    def _attempts(  # noqa: PLR0911 - one return per way a batch ends
        self, work: BatchWork, client: AddPhonesClient, *, attempt: int, failed: ApiError | None
    ) -> Outcome:
        body = work.body(BODY_FOR)  # refuses to send bytes other than the frozen ones
        while True:
            if failed is None:
                if self.control.stopped:
                    return Outcome.STOPPED
                if not self.budget.allows():
                    self.control.budget_spent = True
                    return Outcome.PENDING
                attempt += 1
                self.hooks.start_attempt()
                self.hooks.reach("before_intent")
                try:
                    self.ledger.mark_attempt(self.lease, work.id)
                except KeyExpiredError:
                    return Outcome.EXPIRED
                self.control.count(attempts=1)
                self.hooks.reach("after_intent")
                if not self.fresh():
                    self.stale(work)
                    return Outcome.STOPPED
                try:
                    ids = client.add_phones_body(body, idempotence_key=work.request_key)
                except ApiError as exc:
                    failed = exc
                else:
                    self.hooks.reach("after_reply")
                    return self._after_success(work, ids)
            error, failed = failed, None
            if isinstance(error, TransientApiError):
                wait = self._after_transient(work, attempt, error)
                if wait is None:
                    return Outcome.PENDING
                self.control.count(retries=1)
                self.sleep(wait)
                continue
            if isinstance(error, BadRequestError):
                return self._after_bad_request(work, error)
            # invalid token, unexpected reply, TLS: a human must look
            self._keep_pending(work, error)
            self.control.stop(error)
            return Outcome.STOPPED

    def _after_transient(
        self, work: BatchWork, attempt: int, exc: TransientApiError
    ) -> float | None:
        self.ledger.record_unknown(self.lease, work.id, error=exc.message)
        wait = self.policy.wait(attempt=attempt, error=exc)
        if wait is None:
            why = (
                f"Retry-After {exc.retry_after:g} s is above upload.retry_after_cap_s"
                if exc.retry_after is not None and attempt < self.policy.max_attempts
                else f"{attempt} attempts used (upload.max_attempts_per_request)"
            )
            log.warning("batch %d left for the next run: %s; last error: %s", work.id, why, exc)
            return None
        if not self.budget.allows(wait):
            self.control.budget_spent = True
            log.warning("batch %d left for the next run: the run budget is spent", work.id)
            return None
        log.info("batch %d attempt %d failed (%s); retrying in %.2f s", work.id, attempt, exc, wait)
        return wait

    def _after_bad_request(self, work: BatchWork, exc: BadRequestError) -> Outcome:
        if isinstance(exc, IdempotenceConflictError):
            self._keep_pending(work, exc)
            self.control.stop(
                PipelineError(
                    f"batch {work.id}: the server says key {work.request_key} was used with "
                    f"another body. The uploader never does that, so this is a bug in its key "
                    f"discipline: the run stopped; keep the ledger and report it. ({exc})"
                )
            )
            return Outcome.STOPPED
        if isinstance(exc, CampaignStateError):
            self._keep_pending(work, exc)
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
            back = self.ledger.record_bad_row(
                self.lease, work.id, phone=exc.phone, code=code, message=exc.message
            )
            log.warning(
                "batch %d: server rejected a row (%s); %d rows re-batched", work.id, code, back
            )
            return Outcome.BAD_ROW
        halves = self.ledger.split_refused(
            self.lease, work.id, code=code, message=exc.message, body_for=BODY_FOR
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

    def _after_success(self, work: BatchWork, ids: list[str]) -> Outcome:
        if len(ids) != len(work.rows):
            error = (
                f"the server returned {len(ids)} job ids for {len(work.rows)} phones; the "
                f"outcome is unknown until reconciliation by phone"
            )
            self.ledger.record_unknown(self.lease, work.id, error=error)
            log.error("batch %d: %s", work.id, error)
            return Outcome.PENDING
        self.ledger.record_success(self.lease, work.id, ids)
        self.control.count(confirmed=1)
        self.hooks.reach("after_outcome")
        return Outcome.CONFIRMED

    def _keep_pending(self, work: BatchWork, exc: ApiError) -> None:
        # Nothing was created (or we cannot tell): "unknown" keeps the key, so a later run
        # resends the same bytes or reconciles — never loses the rows, never doubles them.
        self.ledger.record_unknown(self.lease, work.id, error=exc.message)


class AddPhonesClient(Protocol):
    """The one client method the sender needs (a CallsApiClient in practice)."""

    def add_phones_body(self, body: bytes, *, idempotence_key: str | None) -> list[str]: ...
