"""Dispatching frozen batches to the senders, overlapped with the uploader's ledger work.

Usage::

    dispatcher = Dispatcher(ledger, lease, sender, make_client, batch_size=500)
    dispatcher.send_all(concurrency=1)        # until nothing is sendable or the run stops
    plan_file(..., on_chunk=dispatcher.pump)  # or: send while the next chunk is planned
    dispatcher.close()

With ``concurrency`` 1 batches go out one at a time, each intent → request → outcome before
the next intent. With more, batches are claimed a group at a time and launched as
:class:`~pipeline.load.send.flights.Flights`: their intents committed together, their requests sent
by ``concurrency`` helper threads (each with its own client) while this thread claims and
launches the next group and records the last one. Claims are epoch-stamped, so a batch is
offered once per run.

During planning, :meth:`Dispatcher.pump` runs after each planned chunk: the chunk's batches are
sent while the next chunk is read and transformed (and, with several senders, while it is
planned: the group stays on the wire until a later pump records the outcomes of the replies
that are in by then; it waits for replies only when more than a pump's worth is still out).

With a :class:`~pipeline.load.send.pace.Pace` (``upload.concurrency: auto``) batches always
go out as Flights, from ``concurrency`` threads (``upload.max_concurrency``) of which only the
pace's limit send at once; the limit starts at 1 and follows the replies (slow start, then AIMD).

Planning freezes rows into batches as it goes; what is still planned (rows of a plan a crash
interrupted, the other rows of a batch the server refused for one row) is frozen here, before
the next claim, under new keys.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable

from pipeline.api import CallsApiClient
from pipeline.errors import LedgerError, PipelineError
from pipeline.ledger import BatchWork, Freezer, Holder, Lease, Ledger, gc_paused
from pipeline.load.send.flights import Flights, Group
from pipeline.load.send.pace import Pace
from pipeline.load.send.sender import BODY_FOR, BatchSender, Outcome

log = logging.getLogger("pipeline.load")

# Rows launched per group when sending: big enough that the two flushes of a group are a
# small part of it, small enough that the next group's ledger work overlaps this one's wire.
GROUP_ROWS = 20_000
# Rows launched after each planned chunk: at least one chunk (PLAN_ROWS of
# pipeline.load.upload.input_planning), so the server is busy with them while the next one is
# planned.
PUMP_ROWS = 100_000
# Batches per group at most (their ids go into IN (...) lists; SQLite takes 32,766 values).
MAX_GROUP = 1_000
# Batches claimed at a time by one sender (each is sent before the next claim's).
ONE_BY_ONE_CLAIM = 4
# Batches a run that shares the campaign with other workers (PostgreSQL) takes per planned
# chunk, per sender thread: the others should find batches to send too.
SHARED_PUMP_BATCHES = 2


class Dispatcher:
    """Claims sendable batches and sends them; remembers whether a key expired meanwhile."""

    def __init__(
        self,
        ledger: Ledger,
        holder: Holder,
        sender: BatchSender,
        make_client: Callable[[], CallsApiClient],
        *,
        batch_size: int,
    ) -> None:
        self.ledger = ledger
        self.holder = holder
        # The campaign lease, when this run holds it: only its holder freezes planned rows.
        # A worker sharing the campaign without it only claims and sends.
        self.lease: Lease | None = holder if isinstance(holder, Lease) else None
        self.sender = sender
        self.batch_size = batch_size
        self.expired = False
        # Sender threads; send_all sets it from upload.concurrency, pump uses the last one.
        self.concurrency = 1
        # upload.concurrency: auto — the limit of requests in flight follows the replies.
        self.pace: Pace | None = None
        self._make_client = make_client
        self._local = threading.local()
        self._flights: Flights | None = None
        self._freezer: Freezer | None = None
        self._airborne: Group | None = None  # launched by pump, not settled yet
        # Asked with the first batches claimed, before any is sent: False stops sending (the
        # run's new-ledger check, see pipeline.load.upload.campaign_check). Claims it refuses stay
        # with this run's worker and are free again when the run ends.
        self.may_send: Callable[[], bool] = lambda: True

    def client(self) -> CallsApiClient:
        """This thread's client (created on first use)."""
        made: CallsApiClient | None = getattr(self._local, "client", None)
        if made is None:
            made = self._local.client = self._make_client()
        return made

    def freeze(self) -> None:
        """Freeze every planned row of the campaign into batches of ``batch_size`` now."""
        self._freezer = None  # its carried rows are frozen here; it must not freeze them again
        if self.lease is not None:
            self.ledger.freezing.freeze_batches(
                self.lease, batch_size=self.batch_size, body_for=BODY_FOR
            )

    def start_freezing(self) -> None:
        """Freeze every planned row (from the first) before the next claim of ``send_all``.

        Without the campaign lease this does nothing: the lease holder freezes (a sharing
        worker that put rows back to planned leaves them to it, or to its own turn as holder).
        """
        if self.lease is None:
            self._freezer = None
            return
        self._freezer = self.ledger.freezing.freezer(
            self.lease, batch_size=self.batch_size, body_for=BODY_FOR
        )

    def _freeze_pending(self) -> None:
        freezer, self._freezer = self._freezer, None
        if freezer is not None:
            while freezer.step():
                pass

    def pump(self) -> None:
        """Between two planned chunks: send the batches frozen so far.

        One sender: they go out one by one now. Several: they are launched, the ones launched
        last time are settled, and the new ones stay on the wire while the caller plans the
        next chunk (``send_all`` or ``close`` settles the last of them).
        """
        control = self.sender.control
        if control.stopped:
            return
        limit = min(MAX_GROUP, math.ceil(PUMP_ROWS / self.batch_size))
        if not isinstance(self.holder, Lease):
            limit = SHARED_PUMP_BATCHES * self.concurrency
        works = self._claim(limit)
        if works:
            self.sender.waiting(sum(len(work.rows) for work in works))
        if self.concurrency == 1 and self.pace is None:
            self._after([self.sender.send(work, self.client()) for work in works])
            return
        flights = self._flights_now()
        launched = flights.launch(works) if works else None
        airborne = self._airborne
        if airborne is not None:
            # What earlier pumps launched is settled as far as its replies are in; the rest
            # is waited for only beyond `limit` batches (the senders have the new group
            # meanwhile): planning goes on while the wire is busy (see Flights.settle_ready).
            outcomes, airborne = flights.settle_ready(airborne, keep=limit)
            self._after(outcomes)
        if airborne is None:
            self._airborne = launched
        else:
            self._airborne = airborne if launched is None else airborne + launched

    def send_all(self, *, concurrency: int) -> int:
        """Send until no batch is sendable, or the run stops (budget, fatal error).

        Returns how many batches were claimed (sent or not).
        """
        self.concurrency = concurrency
        with (
            gc_paused()
        ):  # see pipeline.load.upload.input_planning: many objects, next to no cycles
            if concurrency == 1 and self.pace is None:
                return self._one_by_one()
            return self._in_groups()

    def _in_groups(self) -> int:
        """Several senders: groups launched while the previous one is settled."""
        concurrency = self.concurrency
        flights = self._flights_now()
        limit = min(MAX_GROUP, max(concurrency, math.ceil(GROUP_ROWS / self.batch_size)))
        control = self.sender.control
        airborne, self._airborne = self._airborne, None
        claimed = 0
        while True:
            self._freeze_pending()
            works = [] if control.stopped else self._claim(limit)
            launched = flights.launch(works) if works else None
            claimed += len(works)
            settled = airborne is not None
            if airborne is not None and launched is None:
                # Nothing behind it on the wire: record its replies as they come in, so
                # little is left to record once the last one is in (one portion a round).
                self._after(flights.settle_in_portions(airborne, portion=concurrency))
            elif airborne is not None:
                self._after(flights.settle(airborne))  # may put rows back to planned
            airborne = launched
            if launched is None and not settled:
                return claimed

    def _one_by_one(self) -> int:
        """One sender: each batch's intent, request and outcome before the next intent."""
        claimed = 0
        while not self.sender.control.stopped:
            self._freeze_pending()
            works = self._claim(ONE_BY_ONE_CLAIM)
            if not works:
                return claimed
            claimed += len(works)
            self._after([self.sender.send(work, self.client()) for work in works])
        return claimed

    def _claim(self, limit: int) -> list[BatchWork]:
        if not self.sender.budget.allows():
            self.sender.control.budget_spent = True
            return []
        works = self.ledger.sending.claim_sendable(self.holder, limit=limit)
        if works and not self.may_send():
            return []
        return works

    def _flights_now(self) -> Flights:
        flights = self._flights
        if flights is None or flights.concurrency != self.concurrency:
            if flights is not None:
                flights.close()
            flights = self._flights = Flights(
                self.sender, self.client, concurrency=self.concurrency, pace=self.pace
            )
        return flights

    def _after(self, outcomes: list[Outcome]) -> None:
        if Outcome.EXPIRED in outcomes:
            self.expired = True
        if Outcome.BAD_ROW in outcomes:
            # Its other rows went back to planned: freeze them again (new keys) before the
            # next claim.
            self.start_freezing()

    def close(self) -> None:
        """Record what is still on the wire and stop the threads; never raises, so the run's
        summary is still written. Its outcomes are not recorded when the ledger refuses this
        run's writes (lease lost): those batches stay in doubt, and the next run resends them
        under their keys."""
        flights, airborne = self._flights, self._airborne
        self._flights = self._airborne = None
        if flights is None:
            return
        try:
            stop = self.sender.control.stop_error
            if airborne is not None and not isinstance(stop, LedgerError):
                self._after(flights.settle(airborne))
        except PipelineError as exc:
            log.warning("the last batches stay in doubt for the next run: %s", exc)
        finally:
            flights.close()
