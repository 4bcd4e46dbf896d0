"""The :class:`Ledger`: every operation of the uploader's protocol on one object.

Usage::

    ledger = open_ledger("sqlite:///ledger.sqlite3", clock=clock, key_safety_margin_s=3600)
"""

from __future__ import annotations

from pipeline.ledger.base import Clock, utc_now
from pipeline.ledger.cancels import CancelMixin
from pipeline.ledger.freeze import FreezeMixin
from pipeline.ledger.leases import LeaseMixin
from pipeline.ledger.narrow import NarrowMixin
from pipeline.ledger.outcomes import OutcomesMixin
from pipeline.ledger.plan import PlanMixin
from pipeline.ledger.reconcile import ReconcileMixin
from pipeline.ledger.runs import RunsMixin
from pipeline.ledger.send import SendMixin
from pipeline.ledger.store.engine import open_engine
from pipeline.ledger.workers import WorkersMixin


class Ledger(
    RunsMixin,
    PlanMixin,
    FreezeMixin,
    SendMixin,
    NarrowMixin,
    ReconcileMixin,
    LeaseMixin,
    WorkersMixin,
    OutcomesMixin,
    CancelMixin,
):
    """Runs, planning, sending, reconciliation, leases, workers, call outcomes and cancels."""

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
