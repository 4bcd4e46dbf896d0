"""The :class:`Ledger`: every room of the ledger on one object, one attribute per room.

Usage::

    with open_ledger("sqlite:///ledger.sqlite3", clock=clock, key_safety_margin_s=3600) as ledger:
        campaign = ledger.campaigns.ensure(token)
        lease = ledger.leases.acquire(campaign.id, owner=owner, ttl_s=300, run_id=run_id)
        ledger.sending.mark_attempt(lease, batch_id)

A call ``ledger.<room>.<operation>(...)`` names the module that holds the code:
``ledger.sending.mark_attempt`` is in ``pipeline/ledger/transitions/sending.py``,
``ledger.leases.acquire`` in ``pipeline/ledger/sharing/leases.py`` (the table in
:mod:`pipeline.ledger` lists them all). Every room works on the same :class:`Store`.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from pipeline.ledger.sharing.leases import Leases
from pipeline.ledger.sharing.workers import Workers
from pipeline.ledger.store.database import Clock, Store, utc_now
from pipeline.ledger.store.engine import open_engine
from pipeline.ledger.transitions.batches import FreshRows
from pipeline.ledger.transitions.campaigns import Campaigns
from pipeline.ledger.transitions.cancels import Cancels
from pipeline.ledger.transitions.freezing import Freezing
from pipeline.ledger.transitions.inputs import Inputs
from pipeline.ledger.transitions.outcomes import Outcomes
from pipeline.ledger.transitions.planning import Planning
from pipeline.ledger.transitions.reconciling import Reconciling
from pipeline.ledger.transitions.replies import Replies
from pipeline.ledger.transitions.runs import Runs
from pipeline.ledger.transitions.sending import Sending
from pipeline.ledger.transitions.splits import Splits
from pipeline.ledger.transitions.suppressions import Suppressions


class Ledger:
    """One ledger database, its rooms, and the clock they all read."""

    def __init__(
        self, engine: Engine, *, clock: Clock = utc_now, key_safety_margin_s: float
    ) -> None:
        self.store = Store(engine, clock=clock, key_safety_margin_s=key_safety_margin_s)
        # Rows of batches this process froze, handed from freezing (and planning) to sending,
        # which then claims them without reading them back.
        fresh = FreshRows()
        self.campaigns = Campaigns(self.store)
        self.runs = Runs(self.store)
        self.inputs = Inputs(self.store)
        self.planning = Planning(self.store, fresh)
        self.freezing = Freezing(self.store, fresh)
        self.sending = Sending(self.store, fresh)
        self.replies = Replies(self.store)
        self.splits = Splits(self.store)
        self.reconciling = Reconciling(self.store)
        self.leases = Leases(self.store)
        self.workers = Workers(self.store)
        self.outcomes = Outcomes(self.store)
        self.cancels = Cancels(self.store)
        self.suppressions = Suppressions(self.store)  # the do-not-call list

    def close(self) -> None:
        """Release the database connections."""
        self.store.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_ledger(
    url: str,
    *,
    clock: Clock = utc_now,
    key_safety_margin_s: float = 3600.0,
    must_exist: bool = False,
) -> Ledger:
    """Open (create unless ``must_exist``, migrate) the ledger at ``url``."""
    engine = open_engine(url, must_exist=must_exist)
    return Ledger(engine, clock=clock, key_safety_margin_s=key_safety_margin_s)
