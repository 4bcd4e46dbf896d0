"""The :class:`Ledger`: every operation of the uploader's protocol on one object.

Usage::

    ledger = open_ledger("sqlite:///ledger.sqlite3", clock=clock, key_safety_margin_s=3600)
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from pipeline.ledger.cancels import CancelMixin
from pipeline.ledger.freeze import FreezeMixin
from pipeline.ledger.narrow import NarrowMixin
from pipeline.ledger.outcomes import OutcomesMixin
from pipeline.ledger.plan import PlanMixin
from pipeline.ledger.reconcile import ReconcileMixin
from pipeline.ledger.runs import RunsMixin
from pipeline.ledger.send import SendMixin
from pipeline.ledger.sharing.leases import Leases
from pipeline.ledger.sharing.workers import Workers
from pipeline.ledger.store.database import Clock, Store, utc_now
from pipeline.ledger.store.engine import open_engine


class Ledger(
    RunsMixin,
    PlanMixin,
    FreezeMixin,
    SendMixin,
    NarrowMixin,
    ReconcileMixin,
    OutcomesMixin,
    CancelMixin,
):
    """Runs, planning, sending, reconciliation, leases, workers, call outcomes and cancels."""

    def __init__(
        self, engine: Engine, *, clock: Clock = utc_now, key_safety_margin_s: float
    ) -> None:
        super().__init__(engine, clock=clock, key_safety_margin_s=key_safety_margin_s)
        self.store: Store = self  # until every room is composed
        self.leases = Leases(self.store)
        self.workers = Workers(self.store)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

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
