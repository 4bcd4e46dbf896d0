"""Requests on the wire while this thread does the ledger work: the intents of the next
batches, the outcomes of the last ones, the planning of the next chunk of the file.

Usage::

    flights = Flights(sender, client_for_thread, concurrency=1)
    group = flights.launch(works)        # intents of all (ONE durable commit), then requests
    ...                                  # other ledger work of this thread meanwhile
    outcomes = flights.settle(group)     # waits for the replies; ONE commit for the confirmed
    # or, while planning: record the replies that are in, keep the rest for later
    outcomes, rest = flights.settle_ready(group, keep=200)
    # or, the last group: record its replies a portion at a time as they come in
    outcomes = flights.settle_in_portions(group, portion=8)
    flights.close()

Why: a request of 2,000 rows keeps the server busy ~17 ms; recording its outcome and the
next intent costs the uploader ~10 ms and a flush to disk each. Done one after the other,
the server waited for the ledger and the ledger for the server. Here the requests of a group
go out from ``concurrency`` helper threads (one at a time when it is 1) while this thread
plans, records and marks; each group costs two flushes however many batches it holds (the
last group of a run, with nothing behind it on the wire, one per round of its replies:
:meth:`Flights.settle_in_portions`).

Every ledger write stays on the calling thread (SQLite sees one writer) and every batch keeps
its order: intent committed → request → reply → outcome committed. The intents of a group are
committed together before any of its requests leaves, and its confirmed outcomes together
after its replies are in (all of them with :meth:`Flights.settle`; with
:meth:`Flights.settle_ready`, those in by then, the others at a later call, each still after
its own reply); a crash in between leaves batches ``sending`` or in doubt,
which the next run resends under the same keys (the server replays what it already did).
With a :class:`~pipeline.load.send.pace.Pace` (``upload.concurrency: auto``) the pool has
``concurrency`` threads (the maximum) but only ``pace.limit`` requests pass its gate at once;
the limit is adjusted after every reply (a verdict needs a full round of replies at the current
limit, see :meth:`Pace.adjust`), so it moves within a group too: a group launched while the
file is planned holds a whole chunk (``PUMP_ROWS``), and waiting for its end to add a sender
would keep most of the file at the starting limit. A change is logged at INFO (an increase
at most once every ``LOG_EVERY_S``).

A request that fails is handed back to :meth:`BatchSender.resume`, which retries, rejects or
leaves it pending exactly as a batch sent on its own would be; that part runs on this thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from pipeline.errors import ApiError, KeyExpiredError, LedgerError, PipelineError
from pipeline.ledger import BatchWork
from pipeline.load.send.edge import AddPhonesClient
from pipeline.load.send.pace import Change, Gate, Pace
from pipeline.load.send.sender import BODY_FOR, BatchSender, Outcome

log = logging.getLogger("pipeline.load")

# Increases of the number of senders are logged at most this often (a far server moves it
# every few hundred milliseconds at first). Decreases always are: halving stops at one, so a
# 429 storm logs a few lines, beside the warnings of its 429s.
LOG_EVERY_S = 10.0
# The interpreter's switch interval while the helper threads send (the default is 5 ms). Each
# request takes and gives back the GIL a dozen times (socket writes and reads, the reply's
# parsing); while this thread does the ledger's Python work, each take waited up to the whole
# interval. On 2 CPUs, 300,000 rows to a server 100 ms away at 8 senders: replies took 138 ms
# (median; p90 324 ms) and the upload 18.8 s; at 0.5 ms, 129 ms (p90 199 ms) and 13.5 s, with
# this thread's own work no slower.
SWITCH_INTERVAL_S = 0.0005


class _NotSent:
    """A request that did not leave: the run stopped, or the lease may be gone."""


_NOT_SENT = _NotSent()


@dataclass(slots=True)
class _Flight:
    work: BatchWork
    attempt: int  # the hooks' number of this attempt (crash points)
    reply: Future[list[str] | _NotSent] | None  # None: its intent was not recorded


@dataclass(slots=True)
class Group:
    """Batches launched together; pass it to :meth:`Flights.settle` once (or to
    :meth:`Flights.settle_ready`, which hands back what it did not settle)."""

    flights: list[_Flight]

    def __add__(self, later: Group) -> Group:
        return Group([*self.flights, *later.flights])


class Flights:
    """Launches groups of claimed batches and settles them (see the module doc)."""

    def __init__(
        self,
        sender: BatchSender,
        client: Callable[[], AddPhonesClient],
        *,
        concurrency: int,
        pace: Pace | None = None,
    ) -> None:
        self.sender = sender
        self.client = client  # this thread's client (one per thread)
        self.concurrency = concurrency
        self.pace = pace
        # Without a pace every thread sends at once (a fixed upload.concurrency).
        self.gate = Gate(concurrency if pace is None else pace.limit)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="sender")
        # Process-wide; given back by close() (a run in a test process, say, leaves it as found).
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch, SWITCH_INTERVAL_S))
        self._log_lock = threading.Lock()
        self._logged_at = float("-inf")
        self._unlogged: Change | None = None  # the first change since the last line

    def launch(self, works: Sequence[BatchWork]) -> Group:
        """Record the intents of ``works`` in one durable commit, then send their requests
        from the helper threads; returns at once (the replies are collected by settle)."""
        sender, hooks = self.sender, self.sender.hooks
        # The frozen bytes, each checked against its digest before any intent is recorded.
        bodies = [work.body(BODY_FOR) for work in works]
        numbers = []
        for _work in works:
            numbers.append(hooks.start_attempt())
            hooks.reach("before_intent")
        marked = self._mark(works)
        sender.control.count(attempts=sum(marked))
        flights = []
        for work, body, attempt, ok in zip(works, bodies, numbers, marked, strict=True):
            reply = None
            if ok:
                hooks.adopt_attempt(attempt)
                hooks.reach("after_intent")
                reply = self._pool.submit(self._request, work, body, attempt)
            flights.append(_Flight(work, attempt, reply))
        return Group(flights)

    def settle(self, group: Group) -> list[Outcome]:
        """Wait for the group's replies; record them (confirmed ones in one commit) and hand
        failed requests to the sender. Returns each batch's outcome, in launch order."""
        sender, hooks = self.sender, self.sender.hooks
        outcomes: dict[int, Outcome] = {}
        confirmed: list[tuple[_Flight, list[str]]] = []
        later: list[tuple[_Flight, list[str] | ApiError]] = []
        for flight in group.flights:
            if flight.reply is None:
                outcomes[flight.work.id] = Outcome.EXPIRED
                continue
            try:
                reply = flight.reply.result()
            except ApiError as exc:
                later.append((flight, exc))
                continue
            if isinstance(reply, _NotSent):
                outcomes[flight.work.id] = self._not_sent(flight.work)
                continue
            hooks.adopt_attempt(flight.attempt)
            hooks.reach("after_reply")
            if len(reply) == len(flight.work.rows):
                confirmed.append((flight, reply))
            else:
                later.append((flight, reply))
        if confirmed:
            sender.ledger.replies.record_successes(
                sender.lease, [(flight.work.id, ids) for flight, ids in confirmed]
            )
            sender.control.count(confirmed=len(confirmed))
            for flight, _ids in confirmed:
                hooks.adopt_attempt(flight.attempt)
                hooks.reach("after_outcome")
                outcomes[flight.work.id] = Outcome.CONFIRMED
                sender.settled(flight.work, Outcome.CONFIRMED)
        for flight, result in later:
            hooks.adopt_attempt(flight.attempt)
            if isinstance(result, list):
                outcomes[flight.work.id] = sender.confirm(flight.work, result)
            else:
                outcomes[flight.work.id] = sender.resume(
                    flight.work, self.client(), attempt=1, failed=result
                )
        return [outcomes[flight.work.id] for flight in group.flights]

    def settle_ready(self, group: Group, *, keep: int) -> tuple[list[Outcome], Group | None]:
        """Settle the flights of ``group`` whose replies are in (or that never left), without
        waiting for the others while at most ``keep`` of them are still out; beyond that, the
        oldest are waited for. Returns the outcomes settled (launch order) and what is left.

        Why: settling a whole group waited for its last reply, while this thread could plan
        the next chunk, and the senders ran dry while it planned (on 2 CPUs, 300,000 rows to a
        server 100 ms away: the pool had nothing to send a third of the time). Outcomes are
        recorded a little later; each still after its own reply, in one commit.
        """
        flights = group.flights
        waiting = [f for f in flights if f.reply is not None and not f.reply.done()]
        due = {id(f) for f in waiting[: max(0, len(waiting) - keep)]}  # oldest first
        ready = [f for f in flights if id(f) in due or f.reply is None or f.reply.done()]
        if len(ready) == len(flights):
            return self.settle(group), None
        taken = {id(f) for f in ready}
        left = Group([f for f in flights if id(f) not in taken])
        return (self.settle(Group(ready)) if ready else []), left

    def settle_in_portions(self, group: Group, *, portion: int) -> list[Outcome]:
        """Settle all of ``group``, recording its replies while the rest are still out:
        each time ``portion`` more are in (the oldest first; the last portion when all are).

        Why: the last group of a run has nothing launched behind it, and :meth:`settle`
        waited for its last reply before recording any: 100,000 rows (a whole pumped chunk)
        recorded after the wire had gone quiet, 0.3 s of a 30 s upload on 2 CPUs. Here only the
        last portion is recorded after the last reply. One commit per portion, each outcome
        still after its own reply.
        """
        outcomes: list[Outcome] = []
        rest: Group | None = group
        while rest is not None:
            waiting = [f.reply for f in rest.flights if f.reply is not None and not f.reply.done()]
            ready = len(rest.flights) - len(waiting)
            if waiting and ready < portion:
                wait(waiting[: portion - ready])  # the oldest were sent first
                continue
            settled, rest = self.settle_ready(rest, keep=len(waiting))
            outcomes += settled
        return outcomes

    def close(self) -> None:
        """Stop the helper threads (waits for requests still on the wire)."""
        try:
            self._pool.shutdown(wait=True)
        finally:
            sys.setswitchinterval(self._switch)

    def _mark(self, works: Sequence[BatchWork]) -> list[bool]:
        """Intents of ``works``, together; one by one if a key expired meanwhile (rare: claims
        skip such keys, so only one crossing the line just now), which is then not sent."""
        sender = self.sender
        try:
            sender.ledger.sending.mark_attempts(sender.lease, [work.id for work in works])
        except KeyExpiredError:
            marked = []
            for work in works:
                try:
                    sender.ledger.sending.mark_attempt(sender.lease, work.id)
                except KeyExpiredError:
                    marked.append(False)
                else:
                    marked.append(True)
            return marked
        return [True] * len(works)

    def _request(self, work: BatchWork, body: bytes, attempt: int) -> list[str] | _NotSent:
        """One request, on a helper thread (its own client); the reply is read by settle."""
        sender = self.sender
        sender.hooks.adopt_attempt(attempt)  # so the after_send crash point sees this attempt
        with self.gate:
            try:
                # A 429 met by any sender pauses this one too; the run may stop meanwhile.
                if not sender.edge.hold() or sender.control.stopped:
                    return _NOT_SENT
                if not sender.fresh():
                    sender.stale(work)
                    return _NOT_SENT
                return sender.edge.request(work, body, self.client(), attempt=1)
            finally:
                self._repace()

    def _repace(self) -> None:
        """After a reply: apply the pace's verdict to the gate, and say so now and then."""
        pace = self.pace
        if pace is None or (change := pace.adjust()) is None:
            return
        self.gate.resize(change.limit)
        with self._log_lock:
            first = self._unlogged or change
            now = pace.clock()
            fewer = change.limit < change.before  # always told: the server pushed back
            if not fewer and now - self._logged_at < LOG_EVERY_S:
                self._unlogged = first
                return
            self._logged_at, self._unlogged = now, None
        log.info(
            "senders: %d at once (was %d; up to upload.max_concurrency %d): %s",
            change.limit,
            first.before,
            pace.maximum,
            change.reason,
        )

    def _not_sent(self, work: BatchWork) -> Outcome:
        """A batch whose intent is recorded but whose request never left: it stays in doubt
        under its key (the next run resends it), with a note why when the ledger still
        takes our writes."""
        self.sender.control.count(attempts=-1)  # counted at launch; no request left
        if isinstance(self.sender.control.stop_error, LedgerError):
            return Outcome.STOPPED  # the lease may be gone: write nothing more
        # If even this fails, it stays "sending", which the next run treats the same way.
        with contextlib.suppress(PipelineError):
            self.sender.ledger.replies.record_unknown(
                self.sender.lease,
                work.id,
                error="not sent: the run stopped before this request left",
            )
        return Outcome.STOPPED
