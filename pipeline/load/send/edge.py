"""What the network edge tells every sender of a run, not only the one that met it.

* A 429 pauses all senders until its ``Retry-After`` (floored at the backoff base) has
  passed; one above ``upload.retry_after_cap_s`` stops sending for this run (exit 3): the
  server will not take requests for longer than we are willing to wait.
* With ``upload.concurrency: auto`` every reply and its time is told to the run's
  :class:`~pipeline.load.send.pace.Pace`: a 429, a 5xx, a timeout or a cut-off reply as
  overload (fewer senders), any other reply with its latency (more senders while they stay fast).
* A batch left pending without any of its attempts connecting (refused, DNS failure, connect
  timeout) counts towards a circuit breaker: after ``UNREACHABLE_BATCHES`` in a row the run
  stops (exit 3) naming ``api.base_url`` / ``JAICP_BASE_URL``. Any connection made (whatever
  its reply) starts the count again.

Usage (by :class:`~pipeline.load.send.sender.BatchSender` and the threads of
:class:`~pipeline.load.send.flights.Flights`)::

    edge = Edge(control, policy, budget, sleep)
    if edge.hold():                                   # waits out a pause of all senders
        ids = edge.request(work, body, client, attempt=1)
    edge.unreachable(error)                           # a batch that never connected
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from pipeline.errors import (
    ApiError,
    ApiNotConnectedError,
    RateLimitedError,
    TransientApiError,
)
from pipeline.ledger import BatchWork
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.send.pace import Pace
from pipeline.load.stop import RunControl

log = logging.getLogger("pipeline.load")

# Batches in a row that could not connect at all (every attempt) before the run stops: one
# could be a blip the backoff did not outlast; three (with their retries) are an address
# that is wrong or down, and every further try would be the same.
UNREACHABLE_BATCHES = 3


class AddPhonesClient(Protocol):
    """The one client method the sender needs (a CallsApiClient in practice)."""

    def add_phones_body(self, body: bytes, *, idempotence_key: str | None) -> list[str]: ...


class Edge:
    """The run-wide reactions to what one request met; one per run, shared by its threads."""

    def __init__(
        self,
        control: RunControl,
        policy: RetryPolicy,
        budget: Budget,
        sleep: Callable[[float], None],
    ) -> None:
        self.control, self.policy, self.budget, self.sleep = control, policy, budget, sleep
        self._lock = threading.Lock()
        self.paused_until: datetime | None = None  # after a 429 no sender sends before this
        self._unreached = 0  # batches in a row whose every attempt could not connect
        self.pace: Pace | None = None  # upload.concurrency: auto (told of every reply)

    def pause(self, until: datetime) -> None:
        """No sender sends before ``until`` (a later pause wins)."""
        with self._lock:
            if self.paused_until is None or until > self.paused_until:
                self.paused_until = until

    def pause_left(self) -> float:
        """Seconds until the pause ends (0: none), on the uploader's clock."""
        until = self.paused_until
        return 0.0 if until is None else max(0.0, (until - self.budget.now()).total_seconds())

    def request(
        self, work: BatchWork, body: bytes, client: AddPhonesClient, *, attempt: int
    ) -> list[str]:
        """The ``addPhones`` request of ``work`` (its intent committed), told to the run: a
        429 pauses every sender (or, beyond the cap, stops sending), and any connection made
        resets the count of unreachable batches. Raises the client's ApiError."""
        pace = self.pace
        start = pace.clock() if pace is not None else 0.0
        try:
            ids = client.add_phones_body(body, idempotence_key=work.request_key)
        except ApiNotConnectedError:
            raise  # nothing reached the server: no sign of its load either way
        except ApiError as exc:
            self._reached()
            if pace is not None:
                if isinstance(exc, TransientApiError):  # 429, 5xx, timeout, cut off
                    pace.overloaded()
                else:
                    pace.replied(pace.clock() - start)
            if isinstance(exc, RateLimitedError):
                self.rate_limited(exc, attempt)
            raise
        self._reached()
        if pace is not None:
            pace.replied(pace.clock() - start)
        return ids

    def hold(self) -> bool:
        """Wait out a pause of all senders (a 429) before a request; False when the run
        stopped, or the pause outlasts the run budget (then it is marked spent)."""
        control = self.control
        while not control.stopped:
            left = self.pause_left()
            if left <= 0:
                return True
            if not self.budget.allows(left):
                control.budget_spent = True
                log.warning("the run budget ends before the server's pause: stopping")
                return False
            self.sleep(left)
        return False

    def _reached(self) -> None:
        with self._lock:
            self._unreached = 0  # a connection was made (whatever came of it)

    def rate_limited(self, exc: RateLimitedError, attempt: int) -> None:
        delay = self.policy.delay(attempt=attempt, error=exc)
        if delay is None:
            self.control.stop(
                RateLimitedError(
                    f"the server asked to wait {exc.retry_after:g} s before any further request "
                    f"(HTTP 429, Retry-After), more than upload.retry_after_cap_s "
                    f"({self.policy.retry_after_cap_s:g} s): sending stopped for this run; "
                    f"nothing is lost, the rows not sent stay pending. Run upload again later "
                    f"(exit 3).",
                    url=exc.url,
                    status=exc.status,
                    retry_after=exc.retry_after,
                )
            )
            return
        self.pause(self.budget.now() + timedelta(seconds=delay))
        log.warning("HTTP 429: every sender holds off for %.2f s", delay)

    def unreachable(self, error: TransientApiError) -> None:
        """A batch was left pending without any of its attempts connecting."""
        with self._lock:
            self._unreached += 1
            count = self._unreached
        if count < UNREACHABLE_BATCHES:
            return
        base = error.url.partition("/api/")[0] or "the API"
        self.control.stop(
            ApiNotConnectedError(
                f"could not connect to {base} for {count} batches in a row: none of their "
                f"requests reached the server, nothing of them was sent, and their rows stay "
                f"pending. The run stops instead of trying until upload.run_budget_s. Check "
                f"api.base_url in the config and JAICP_BASE_URL in the environment (it wins "
                f"over the config), the network, proxy and firewall; then run upload again. "
                f"Last error: {error}",
                url=error.url,
            )
        )
