"""Input files: each file a campaign was given, found again by its sha256 on every run.

Usage::

    state = ledger.inputs.begin(lease, name="export.csv", sha256=digest)   # or found again
    if not state.complete:
        ...                                      # ledger.planning.plan_chunks(lease, state.id, …)
        ledger.inputs.complete(lease, state.id, rows_total=n)
    ledger.inputs.is_complete(campaign.id, digest)                 # read only
    ledger.inputs.find(campaign.id, sha256=digest)                 # or name="export.csv"
    ledger.inputs.standing(campaign.id, digest)    # InputStanding: planned? rows left? (read only)

A file is one input per campaign (same bytes, same input, whatever its name); each run that
reads it is linked to it (``run_inputs``), so a run's counts cover the rows of its files.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.sharing.holders import Lease, fence
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store, inserted_id
from pipeline.ledger.store.states import BATCHED, PLANNED


@dataclass(frozen=True, slots=True)
class InputState:
    """Where planning of one input file stands.

    ``planned_through`` rows (1..n) are already in the ledger; ``complete`` means the whole
    file was planned, so a re-run of the same file (same sha256) plans nothing and resumes.
    """

    id: int
    planned_through: int
    complete: bool


@dataclass(frozen=True, slots=True)
class InputStanding:
    """What the ledger holds of one input file (``ledger.inputs.standing``).

    ``rows_total`` is None until the whole file was planned; ``pending`` counts its rows still
    on their way (planned or batched), work for a next run.
    """

    id: int
    name: str
    first_run_id: int
    rows_total: int | None
    pending: int

    @property
    def settled(self) -> bool:
        """Whether every row of the file is planned and none is left to send."""
        return self.rows_total is not None and self.pending == 0


class Inputs:
    """``ledger.inputs``: where planning of each input file stands."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def is_complete(self, campaign_id: int, sha256: str) -> bool:
        """Whether the campaign's input with these bytes was planned completely (read only)."""
        i = t.inputs.c
        with self.store.engine.connect() as conn:
            total = conn.execute(
                sa.select(i.rows_total).where(i.campaign_id == campaign_id, i.sha256 == sha256)
            ).first()
        return total is not None and total.rows_total is not None

    def standing(self, campaign_id: int, sha256: str) -> InputStanding | None:
        """The campaign's input with these bytes and its rows left to send; None when the
        ledger has never seen them (read only)."""
        i, r = t.inputs.c, t.rows.c
        with self.store.engine.connect() as conn:
            found = conn.execute(
                sa.select(i.id, i.name, i.first_run_id, i.rows_total).where(
                    i.campaign_id == campaign_id, i.sha256 == sha256
                )
            ).first()
            if found is None:
                return None
            pending = conn.execute(
                sa.select(sa.func.count()).where(
                    r.input_id == found.id, r.state.in_((PLANNED, BATCHED))
                )
            ).scalar_one()
        return InputStanding(
            found.id, found.name, found.first_run_id, found.rows_total, int(pending)
        )

    def begin(self, lease: Lease, *, name: str, sha256: str) -> InputState:
        """Register an input file of the lease's run, or find it again (same campaign+sha256)."""
        if lease.run_id is None:
            raise LedgerError("inputs.begin needs a lease acquired with run_id=...")
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            found = conn.execute(
                sa.select(t.inputs).where(
                    t.inputs.c.campaign_id == lease.campaign_id, t.inputs.c.sha256 == sha256
                )
            ).first()
            if found is None:
                input_id = inserted_id(
                    conn.execute(
                        sa.insert(t.inputs).values(
                            campaign_id=lease.campaign_id,
                            sha256=sha256,
                            name=name,
                            first_run_id=lease.run_id,
                            created_at=self.store.now(),
                        )
                    )
                )
                state = InputState(input_id, 0, False)
                why = f"new input {name} (sha256 {sha256[:12]}…)"
            else:
                state = InputState(found.id, found.planned_through, found.rows_total is not None)
                why = (
                    f"same file as input {found.id} ({found.name}): resuming after row "
                    f"{found.planned_through}{', fully planned' if state.complete else ''}"
                )
            linked = conn.execute(
                sa.select(t.run_inputs).where(
                    t.run_inputs.c.run_id == lease.run_id, t.run_inputs.c.input_id == state.id
                )
            ).first()
            if linked is None:
                conn.execute(sa.insert(t.run_inputs).values(run_id=lease.run_id, input_id=state.id))
            self.store.event(
                conn,
                entity="input",
                entity_id=state.id,
                from_state=None,
                to_state="complete" if state.complete else "planning",
                reason=why,
                by=lease,
            )
        return state

    def complete(self, lease: Lease, input_id: int, *, rows_total: int) -> None:
        """Mark an input fully planned; ``rows_total`` must equal the rows in the ledger."""
        with self.store.transaction() as conn:
            fence(conn, lease, now=self.store.now)
            have = conn.execute(
                sa.select(sa.func.count()).where(t.rows.c.input_id == input_id)
            ).scalar_one()
            if have != rows_total:
                raise LedgerError(
                    f"input {input_id}: the reader reported {rows_total} rows but the ledger "
                    f"holds {have}; the file changed or a chunk was skipped. Nothing was marked "
                    f"complete; re-run with the unchanged file."
                )
            conn.execute(
                sa.update(t.inputs)
                .where(t.inputs.c.id == input_id)
                .values(rows_total=rows_total, planned_through=rows_total)
            )
            self.store.event(
                conn,
                entity="input",
                entity_id=input_id,
                from_state="planning",
                to_state="complete",
                reason=f"all {rows_total} rows recorded",
                by=lease,
            )

    def find(
        self, campaign_id: int, *, sha256: str | None = None, name: str | None = None
    ) -> list[int]:
        """Ids of the campaign's inputs with these bytes (``sha256``), or else with this file
        name (a file no longer at hand); give one of the two."""
        i = t.inputs.c
        if (sha256 is None) == (name is None):
            raise ValueError("find inputs by sha256 or by name, one of the two")
        cond = i.sha256 == sha256 if sha256 is not None else i.name == name
        with self.store.engine.connect() as conn:
            query = sa.select(i.id).where(i.campaign_id == campaign_id, cond)
            return [int(x) for x in conn.execute(query).scalars()]
