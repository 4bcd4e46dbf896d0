"""Freezing and dispatching batches to the sender, one thread or several.

Usage::

    dispatcher = Dispatcher(ledger, lease, sender, make_client, batch_size=500)
    dispatcher.start_freezing()               # planned rows → frozen batches, step by step
    dispatcher.send_all(concurrency=1)        # until nothing is sendable or the run stops
    dispatcher.close()

Batches are claimed from the ledger a few at a time (claims are epoch-stamped, so a batch is
offered once per run) and handed to ``concurrency`` threads, each with its own client. A 400
that rejected one row puts the batch's other rows back to planned: they are frozen again at
once, under new keys, and sent in the same run.

With one sender, freezing overlaps sending: ``start_freezing`` only opens a
:class:`~pipeline.ledger.freeze.Freezer`, and each request's wait on the wire is spent freezing
the next batches (:mod:`pipeline.load.overlap`), all on the dispatcher's thread. When nothing
is frozen yet, the dispatcher freezes before it claims. With several senders everything is
frozen before the first claim (their ledger writes already overlap each other's requests).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from pipeline.api import CallsApiClient
from pipeline.ledger import BatchWork, Holder, Lease, Ledger
from pipeline.ledger import schema as t
from pipeline.ledger.freeze import Freezer
from pipeline.ledger.states import BATCHED, PLANNED
from pipeline.load.overlap import Wire
from pipeline.load.sender import BODY_FOR, BatchSender, Outcome


def pending_rows(ledger: Ledger, campaign_id: int) -> int:
    """Rows of the campaign still on their way (planned or batched): work for a next run."""
    r = t.rows.c
    query = sa.select(sa.func.count()).where(
        r.campaign_id == campaign_id, r.state.in_((PLANNED, BATCHED))
    )
    with ledger.read().connect() as conn:
        return int(conn.execute(query).scalar_one())


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
        self._make_client = make_client
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._freezer: Freezer | None = None
        self._wire: Wire | None = None

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
            self.ledger.freeze_batches(self.lease, batch_size=self.batch_size, body_for=BODY_FOR)

    def start_freezing(self) -> None:
        """Freeze every planned row (from the first) during the next ``send_all``.

        Without the campaign lease this does nothing: the lease holder freezes (a sharing
        worker that put rows back to planned leaves them to it, or to its own turn as holder).
        """
        if self.lease is None:
            self._freezer = None
            return
        self._freezer = self.ledger.freezer(
            self.lease, batch_size=self.batch_size, body_for=BODY_FOR
        )

    def _freeze_step(self) -> bool:
        """Freeze about one batch more; False when no planned row is left to freeze."""
        freezer = self._freezer
        if freezer is None:
            return False
        if not freezer.step(max_rows=self.batch_size):
            self._freezer = None
        return True

    def send_all(self, *, concurrency: int) -> int:
        """Send until no batch is sendable, or the run stops (budget, fatal error).

        Returns how many batches were claimed (sent or not).
        """
        control = self.sender.control
        claimed = 0
        while not control.stopped:
            if concurrency > 1:
                while self._freeze_step():
                    pass
            works = self.ledger.claim_sendable(self.holder, limit=max(4, concurrency * 4))
            if not works:
                if self._freeze_step():
                    continue
                return claimed
            claimed += len(works)
            if concurrency == 1:
                outcomes = [self._send_overlapped(work) for work in works]
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="sender")
                outcomes = list(self._pool.map(self._send, works))
            if Outcome.EXPIRED in outcomes:
                self.expired = True
            if Outcome.BAD_ROW in outcomes:
                # Its other rows went back to planned behind the freezer's cursor: start over.
                self.start_freezing()
        return claimed

    def _send(self, work: BatchWork) -> Outcome:
        return self.sender.send(work, self.client())

    def _send_overlapped(self, work: BatchWork) -> Outcome:
        """Send ``work``, freezing further batches while its request is on the wire."""
        if self._wire is None:
            self._wire = Wire(self.sender.hooks)
        wire = self._wire
        outcome = self.sender.send(work, wire.client(self.client(), idle=self._freeze_step))
        if wire.idle_error is not None:
            error, wire.idle_error = wire.idle_error, None
            raise error
        return outcome

    def close(self) -> None:
        """Stop the sender threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._wire is not None:
            self._wire.close()
            self._wire = None
