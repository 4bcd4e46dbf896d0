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
  key until ``max_attempts_per_request`` attempts in this run or the run budget ends it; then
  the batch stays pending for the next run. Every wait is at least ``backoff_base_s``.
* 429 → every sender holds off (not only the one that got it) for its ``Retry-After``
  (floored at the backoff base); one above ``retry_after_cap_s`` stops sending for this run
  (exit 3): the server will not take requests for longer than we are willing to wait.
* no connection at all (refused, DNS, connect timeout) → nothing was sent; retried as above.
  After a few batches in a row whose every attempt failed to connect the run stops (exit 3)
  naming ``api.base_url`` / ``JAICP_BASE_URL``, instead of trying for ``run_budget_s``
  (:mod:`pipeline.load.send.edge`).
* 413 → the server processed nothing: the batch is split into two under new keys, the
  campaign's batch size is lowered in the ledger for this and later runs, and a single row
  still too large is ``rejected`` (``row_too_large``). Not when an earlier attempt may have
  created the jobs (a 413 from a proxy in front would not know): then it stays in doubt.
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

import logging
from collections.abc import Callable, Sequence

from pipeline.api import encode_add_phones
from pipeline.errors import (
    ApiError,
    ApiNotConnectedError,
    BadRequestError,
    KeyExpiredError,
    RateLimitedError,
    RequestTooLargeError,
    StaleLeaseError,
    TransientApiError,
)
from pipeline.ledger import BatchWork, BodyFor, Holder, Ledger, canonical_body
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.send.crash_points import TestHooks
from pipeline.load.send.edge import AddPhonesClient, Edge
from pipeline.load.send.outcome import Outcome
from pipeline.load.send.refusals import Refusals
from pipeline.load.stop import RunControl
from pipeline.records import CallItem

__all__ = [
    "BODY_FOR",
    "BatchSender",
    "Outcome",
    "body_for",
]

log = logging.getLogger("pipeline.load")


def body_for(items: Sequence[CallItem]) -> bytes:
    """The exact ``addPhones`` bytes of a batch's rows (the ledger stores their digest).

    This is the ledger's :func:`~pipeline.ledger.canonical_body` in effect (a test
    proves it byte-identical to :func:`encode_add_phones` on varied rows); handing the ledger
    that very function lets it splice bodies from stored JSON instead of re-encoding rows.
    """
    return encode_add_phones([item.to_api() for item in items])


# What the uploader passes as ``body_for``: the same bytes as body_for() above.
BODY_FOR: BodyFor = canonical_body


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
        self.edge = Edge(control, policy, budget, sleep)
        self.refusals = Refusals(ledger, lease, control, body_for=BODY_FOR)

    def send(self, work: BatchWork, client: AddPhonesClient) -> Outcome:
        """Send ``work`` until it has an outcome or must wait for the next run."""
        return self._finish(work, self._attempts(work, client, attempt=0, failed=None))

    def resume(
        self, work: BatchWork, client: AddPhonesClient, *, attempt: int, failed: ApiError
    ) -> Outcome:
        """Go on with ``work`` after its attempt number ``attempt`` (intent recorded, request
        made by the caller: :class:`~pipeline.load.send.flights.Flights`) failed with ``failed``:
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

    def _attempts(
        self, work: BatchWork, client: AddPhonesClient, *, attempt: int, failed: ApiError | None
    ) -> Outcome:
        body = work.body(BODY_FOR)  # refuses to send bytes other than the frozen ones
        # Whether an attempt may have created the jobs (one of an earlier run, or one here
        # that connected and failed transiently), and whether any attempt here connected.
        maybe_created, connected = work.attempts > 0, False
        while True:
            if failed is None:
                attempt += 1
                sent = self._attempt(work, body, client)
                if isinstance(sent, Outcome):
                    return sent
                if not isinstance(sent, ApiError):
                    self.hooks.reach("after_reply")
                    return self._after_success(work, sent)
                failed = sent
            error, failed = failed, None
            reached = not isinstance(error, ApiNotConnectedError)
            connected = connected or reached
            if isinstance(error, TransientApiError):
                maybe_created = maybe_created or reached
                wait = self._after_transient(work, attempt, error)
                if wait is None:
                    if not connected:
                        self.edge.unreachable(error)
                    return Outcome.PENDING
                self.control.count(retries=1)
                if not isinstance(error, RateLimitedError):
                    self.sleep(wait)  # a 429's wait is the pause of all senders (edge.hold)
                continue
            if isinstance(error, RequestTooLargeError):
                return self.refusals.too_large(work, error, maybe_created=maybe_created)
            if isinstance(error, BadRequestError):
                return self.refusals.bad_request(work, error)
            # invalid token, unexpected reply, TLS: a human must look
            self.refusals.keep_pending(work, error)
            self.control.stop(error)
            return Outcome.STOPPED

    def _attempt(
        self, work: BatchWork, body: bytes, client: AddPhonesClient
    ) -> Outcome | list[str] | ApiError:
        """One attempt: intent committed, then the request; its job ids or its failure, or
        the outcome of a batch that cannot be sent now."""
        if not self.edge.hold():
            return Outcome.PENDING if self.control.budget_spent else Outcome.STOPPED
        if not self.budget.allows():
            self.control.budget_spent = True
            return Outcome.PENDING
        attempt = self.hooks.start_attempt()
        self.hooks.reach("before_intent")
        try:
            self.ledger.sending.mark_attempt(self.lease, work.id)
        except KeyExpiredError:
            return Outcome.EXPIRED
        self.control.count(attempts=1)
        self.hooks.reach("after_intent")
        if not self.fresh():
            self.stale(work)
            return Outcome.STOPPED
        try:
            return self.edge.request(work, body, client, attempt=attempt)
        except ApiError as exc:
            return exc

    def _after_transient(
        self, work: BatchWork, attempt: int, exc: TransientApiError
    ) -> float | None:
        self.ledger.replies.record_unknown(self.lease, work.id, error=exc.message)
        if self.control.stopped:
            return None  # e.g. a Retry-After beyond the cap: told once, by the stop itself
        wait = self.policy.wait(attempt=attempt, error=exc)
        if wait is None:
            why = (
                f"Retry-After {exc.retry_after:g} s is above upload.retry_after_cap_s"
                if self.policy.beyond_cap(exc) and attempt < self.policy.max_attempts
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

    def _after_success(self, work: BatchWork, ids: list[str]) -> Outcome:
        if len(ids) != len(work.rows):
            error = (
                f"the server returned {len(ids)} job ids for {len(work.rows)} phones; the "
                f"outcome is unknown until reconciliation by phone"
            )
            self.ledger.replies.record_unknown(self.lease, work.id, error=error)
            log.error("batch %d: %s", work.id, error)
            return Outcome.PENDING
        self.ledger.replies.record_success(self.lease, work.id, ids)
        self.control.count(confirmed=1)
        self.hooks.reach("after_outcome")
        return Outcome.CONFIRMED
