"""Call outcomes in the ledger: which rows to report on, and the latest report of each job.

``jaicp-pipeline results`` reads the sent rows of a selection, fetches their jobs' reports
from the server, stores the latest one per row (:meth:`Outcomes.record`, one
transaction per chunk, replacing what an earlier fetch stored), then streams every row of the
selection with its outcome (:meth:`Outcomes.iter_results`).

Usage::

    sel = RowSelection(campaign_id=campaign.id, run_id=12)        # or since=datetime(...)
    jobs = ledger.outcomes.sent_jobs(sel)                         # [(row_id, job_id), ...]
    ledger.outcomes.record([Outcome(row_id, job_id, "noAnswer", 3, None, 0, None, None)])
    ledger.outcomes.source_input(sel, sha256)                     # the file the rows came from
    for line in ledger.outcomes.iter_results(sel):
        line.row_number, line.state, line.outcome and line.outcome.job_status
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import SENT, report_state

NOT_FOUND = "not_found"  # job_status of a job id the server no longer knows


@dataclass(frozen=True, slots=True)
class RowSelection:
    """Which ledger rows of a campaign a command works on.

    ``run_id``: the rows of that run's input files; ``since``: rows planned by runs started at
    or after that moment; ``input_ids``/``phones``/``job_ids``: rows of those files, phones or
    call jobs; ``suppressed``: rows whose phone is on the ledger's do-not-call list now.
    Criteria combine with AND; none at all means every row of the campaign.
    """

    campaign_id: int
    run_id: int | None = None
    since: datetime | None = None
    input_ids: Sequence[int] | None = None
    phones: Sequence[str] | None = None
    job_ids: Sequence[str] | None = None
    suppressed: bool = False

    def where(self) -> list[sa.ColumnElement[bool]]:
        """SQL conditions on ``rows`` for this selection."""
        r = t.rows.c
        conds: list[sa.ColumnElement[bool]] = [r.campaign_id == self.campaign_id]
        if self.run_id is not None:
            ri = t.run_inputs.c
            conds.append(r.input_id.in_(sa.select(ri.input_id).where(ri.run_id == self.run_id)))
        if self.since is not None:
            conds.append(
                r.run_id.in_(sa.select(t.runs.c.id).where(t.runs.c.started_at >= self.since))
            )
        if self.input_ids is not None:
            conds.append(r.input_id.in_(list(self.input_ids)))
        if self.phones is not None:
            conds.append(r.phone.in_(list(self.phones)))
        if self.job_ids is not None:
            conds.append(r.job_id.in_(list(self.job_ids)))
        if self.suppressed:  # a subquery, not a list: the list may hold a million phones
            s = t.suppressions.c
            conds.append(r.phone.in_(sa.select(s.phone).where(s.removed_at.is_(None))))
        return conds


@dataclass(frozen=True, slots=True)
class Outcome:
    """The latest known report of one row's call job."""

    row_id: int
    job_id: str
    job_status: str
    attempts: int
    call_result: str | None
    call_duration_s: int | None
    finished_at: datetime | None
    report_data: Any
    fetched_at: datetime | None = None  # set by Outcomes.record


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One ledger row of a selection with its stored outcome (None before any fetch)."""

    row_id: int
    input_id: int
    file: str
    row_number: int
    phone: str | None
    payload: dict[str, Any]
    state: str  # sent | rejected | duplicate | pending
    reason_code: str | None
    reason: str | None
    duplicate_of_row: int | None  # row number (in its own file) of the row this one repeats
    job_id: str | None
    outcome: Outcome | None
    phone_column: str | None = None  # rows.phone_column: a listed phone column not the first


_OUTCOME_COLS = (
    "row_id",
    "job_id",
    "job_status",
    "attempts",
    "call_result",
    "call_duration_s",
    "finished_at",
    "report_data",
    "fetched_at",
)


class Outcomes:
    """``ledger.outcomes``: selecting rows and storing call outcomes (no lease needed)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def sent_jobs(self, selection: RowSelection) -> list[tuple[int, str]]:
        """(row id, job id) of every sent row of the selection, in file order."""
        r = t.rows.c
        query = (
            sa.select(r.id, r.job_id)
            .where(*selection.where(), r.state == SENT, r.job_id.is_not(None))
            .order_by(r.input_id, r.row_number)
        )
        with self.store.engine.connect() as conn:
            return [(row_id, str(job)) for row_id, job in conn.execute(query)]

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Replace the stored outcomes of these rows, in one transaction (bulk)."""
        if not outcomes:
            return
        now = self.store.now()
        values = [
            {
                "row_id": o.row_id,
                "job_id": o.job_id,
                "job_status": o.job_status,
                "attempts": o.attempts,
                "call_result": o.call_result,
                "call_duration_s": o.call_duration_s,
                "finished_at": o.finished_at,
                "report_data": None if o.report_data is None else _canonical(o.report_data),
                "fetched_at": now,
            }
            for o in outcomes
        ]
        ids = [o.row_id for o in outcomes]
        # Delete + insert instead of an upsert: portable (no ON CONFLICT dialects) and just as
        # fast in bulk; inside one transaction no reader sees the gap.
        with self.store.transaction() as conn:
            conn.execute(sa.delete(t.job_outcomes).where(t.job_outcomes.c.row_id.in_(ids)))
            conn.execute(sa.insert(t.job_outcomes), values)

    def source_input(self, selection: RowSelection, sha256: str) -> int | None:
        """The input with these bytes among the files of the selection's rows, if any."""
        r, i = t.rows.c, t.inputs.c
        query = sa.select(i.id).where(
            i.campaign_id == selection.campaign_id,
            i.sha256 == sha256,
            i.id.in_(sa.select(r.input_id).where(*selection.where())),
        )
        with self.store.engine.connect() as conn:
            found = conn.execute(query).first()
        return None if found is None else int(found[0])

    def iter_results(
        self, selection: RowSelection, *, sent_only: bool = False
    ) -> Iterator[ResultRow]:
        """Every row of the selection in file order, with its stored outcome."""
        r, i, o = t.rows.c, t.inputs.c, t.job_outcomes.c
        dup = t.rows.alias("dup")
        query = (
            sa.select(
                r.id,
                i.name,
                r.row_number,
                r.input_id,
                r.phone,
                r.payload,
                r.state,
                r.reason_code,
                r.reason,
                dup.c.row_number,
                r.job_id,
                *(o[c] for c in _OUTCOME_COLS),
                r.phone_column,
            )
            .join(t.inputs, i.id == r.input_id)
            .outerjoin(t.job_outcomes, o.row_id == r.id)
            .outerjoin(dup, dup.c.id == r.duplicate_of)
            .where(*selection.where())
            .order_by(r.input_id, r.row_number)
        )
        if sent_only:
            query = query.where(r.state == SENT)
        with self.store.engine.connect() as conn:
            for row in conn.execution_options(yield_per=5_000).execute(query):
                v = tuple(row)
                outcome = None
                if v[11] is not None:
                    data = json.loads(v[18]) if v[18] is not None else None
                    outcome = Outcome(
                        row_id=v[11],
                        job_id=v[12],
                        job_status=v[13],
                        attempts=v[14],
                        call_result=v[15],
                        call_duration_s=v[16],
                        finished_at=v[17],
                        report_data=data,
                        fetched_at=v[19],
                    )
                yield ResultRow(
                    row_id=v[0],
                    input_id=v[3],
                    file=v[1],
                    row_number=v[2],
                    phone=v[4],
                    payload=json.loads(v[5]) if v[5] else {},
                    state=report_state(v[6]),
                    reason_code=v[7],
                    reason=v[8],
                    duplicate_of_row=v[9],
                    job_id=v[10],
                    outcome=outcome,
                    phone_column=v[20],
                )


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
