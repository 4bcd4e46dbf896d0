"""What the HTML report of one run shows, aggregated by the database (read-only).

Usage::

    run_id = latest_run(engine, command="upload")        # None in an empty ledger
    facts = run_facts(engine, run_id, limit=100)
    facts.reasons          # [(reason_code, rows)], most frequent first
    facts.timeline         # send attempts per time bucket: first sends, retries, failures

Memory stays flat however big the run: every count is a GROUP BY in the database, every
listed item (rejected rows, batches, events, time-zone groups) is capped at ``limit`` with the
total alongside, and the timeline is read as a stream into at most :data:`BUCKETS` buckets.
Nothing here selects a token (the ledger has none) or a phone (the page does not need one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.ledger.admin.audit import AuditEvent, RunReport, run_events, show_run
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.states import (
    B_CONFIRMED,
    B_PLANNED,
    B_SENDING,
    B_UNKNOWN,
    DUPLICATE,
    REJECTED,
)

BUCKETS = 30  # bars of the timeline chart
# Bucket widths a reader takes in at a glance (seconds).
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
CONTACT_CODES = ("suppressed", "contact_cap")
Count = tuple[str, int]


@dataclass(frozen=True, slots=True)
class RowLine:
    """A listed row: where it is in its file and why it was not sent. No phone."""

    file: str
    row: int
    state: str
    reason_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class BatchLine:
    """A listed batch of the run."""

    id: int
    generation: int
    size: int
    state: str
    attempts: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    last_error: str


@dataclass(frozen=True, slots=True)
class TimeBucket:
    """Send attempts that started in ``[start, start + bucket_s)``."""

    start: datetime
    first_sends: int = 0
    retries: int = 0
    failures: int = 0  # attempts that ended without a reply (batch → unknown)


@dataclass(slots=True)
class RunFacts:
    """Everything the page of run ``report.run.id`` shows; lists capped at ``limit``."""

    report: RunReport  # the run, its files with row counts now, its batches per state
    limit: int
    campaign: str = ""
    counts_now: dict[str, int] = field(default_factory=dict)
    reasons: list[Count] = field(default_factory=list)
    rejected_rows: list[RowLine] = field(default_factory=list)
    rejected_total: int = 0
    job_statuses: list[Count] = field(default_factory=list)
    call_results: list[Count] = field(default_factory=list)
    results_fetched_at: datetime | None = None
    timeline: list[TimeBucket] = field(default_factory=list)
    bucket_s: int = 0
    batches: list[BatchLine] = field(default_factory=list)
    batches_total: int = 0
    events: list[AuditEvent] = field(default_factory=list)
    zones: list[tuple[str, str, int]] = field(default_factory=list)  # source, policy, rows
    zone_groups: int = 0
    contact_rows: list[RowLine] = field(default_factory=list)
    contact_counts: list[Count] = field(default_factory=list)
    suppressions_active: list[Count] = field(default_factory=list)  # by source, ledger-wide


def latest_run(engine: Engine, *, command: str | None = "upload") -> int | None:
    """The id of the newest run (of ``command``), or None."""
    query = sa.select(sa.func.max(t.runs.c.id))
    if command is not None:
        query = query.where(t.runs.c.command == command)
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return None if found is None else int(found)


def _pairs(rows: Iterable[Any]) -> list[Count]:
    return [(str(label if label is not None else "(none)"), int(n)) for label, n in rows]


def run_facts(engine: Engine, run_id: int, *, limit: int = 100) -> RunFacts:
    """The facts of run ``run_id``; LedgerError when the ledger has no such run."""
    facts = RunFacts(show_run(engine, run_id), limit)
    facts.events = run_events(engine, run_id, limit=limit)
    r, o = t.rows.c, t.job_outcomes.c
    mine = r.input_id.in_(sa.select(t.run_inputs.c.input_id).where(t.run_inputs.c.run_id == run_id))
    not_sent = r.state.in_((REJECTED, DUPLICATE))
    code = sa.func.coalesce(r.reason_code, r.state)
    with engine.connect() as conn:
        facts.campaign = _campaign(conn, run_id)
        for inp in facts.report.inputs:
            for state, n in inp["counts"].items():
                facts.counts_now[state] = facts.counts_now.get(state, 0) + int(n)
        facts.reasons = _top(conn, code, mine & not_sent, limit)
        facts.rejected_total = _count(conn, mine & not_sent)
        facts.rejected_rows = _row_lines(conn, mine & not_sent, limit)
        contact = mine & (r.state == REJECTED) & r.reason_code.in_(CONTACT_CODES)
        facts.contact_counts = _top(conn, r.reason_code, contact, limit)
        facts.contact_rows = _row_lines(conn, contact, limit)
        joined = t.rows.join(t.job_outcomes, o.row_id == r.id)
        facts.job_statuses = _top(conn, o.job_status, mine, limit, joined)
        facts.call_results = _top(
            conn, o.call_result, mine & o.call_result.is_not(None), limit, joined
        )
        if facts.job_statuses:
            facts.results_fetched_at = conn.execute(
                sa.select(sa.func.max(o.fetched_at)).select_from(joined).where(mine)
            ).scalar()
        facts.zones, facts.zone_groups = _zones(conn, mine, limit)
        facts.batches, facts.batches_total = _batches(conn, run_id, limit)
        facts.timeline, facts.bucket_s = _timeline(conn, run_id)
        s = t.suppressions.c
        facts.suppressions_active = _pairs(
            conn.execute(
                sa.select(s.source, sa.func.count())
                .where(s.removed_at.is_(None))
                .group_by(s.source)
                .order_by(s.source)
            )
        )
    return facts


def _campaign(conn: sa.Connection, run_id: int) -> str:
    c = t.campaigns.c
    found = conn.execute(
        sa.select(c.id, c.label)
        .join(t.runs, t.runs.c.campaign_id == c.id)
        .where(t.runs.c.id == run_id)
    ).first()
    if found is None:
        return ""
    return f"campaign {found.id}" + (f" ({found.label})" if found.label else "")


def _count(conn: sa.Connection, where: Any) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(t.rows).where(where)).scalar_one()
    )


def _top(
    conn: sa.Connection, label: Any, where: Any, limit: int, source: Any = None
) -> list[Count]:
    """``label`` → rows, most first; past ``limit`` groups the rest are summed as "(other)"."""
    n = sa.func.count().label("n")
    query = (
        sa.select(label, n)
        .select_from(source if source is not None else t.rows)
        .where(where)
        .group_by(label)
        .order_by(n.desc(), label)
    )
    found = _pairs(conn.execute(query.limit(limit + 1)))
    if len(found) <= limit:
        return found
    total = conn.execute(sa.select(sa.func.sum(query.subquery().c.n))).scalar_one()
    kept = found[: limit - 1]
    return [*kept, ("(other)", int(total) - sum(v for _, v in kept))]


def _row_lines(conn: sa.Connection, where: Any, limit: int) -> list[RowLine]:
    r, i = t.rows.c, t.inputs.c
    query = (
        sa.select(i.name, r.row_number, r.state, r.reason_code, r.reason)
        .join(t.inputs, i.id == r.input_id)
        .where(where)
        .order_by(r.input_id, r.row_number)
        .limit(limit)
    )
    return [
        RowLine(name, int(row), state, code or state, reason or "")
        for name, row, state, code, reason in conn.execute(query)
    ]


def _zones(conn: sa.Connection, mine: Any, limit: int) -> tuple[list[tuple[str, str, int]], int]:
    """Rows per (zone_source, policy) of the rows that carry a policy; the number of groups."""
    r = t.rows.c
    where = mine & r.policy.is_not(None)
    n = sa.func.count().label("n")
    query = sa.select(r.zone_source, r.policy, n).where(where).group_by(r.zone_source, r.policy)
    groups = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    found = conn.execute(query.order_by(n.desc(), r.zone_source, r.policy).limit(limit))
    return [(src or "", _zone_of(policy), int(k)) for src, policy, k in found], int(groups)


def _zone_of(policy: str | None) -> str:
    """The gmtZone of a row's canonical policy JSON, or "(server default)"."""
    try:
        value = json.loads(policy or "{}").get("gmtZone")
    except (ValueError, AttributeError):
        return "(unreadable policy)"
    return str(value) if value else "(server default)"


def _touched(run_id: int) -> Any:
    """Ids of the batches run ``run_id`` wrote an event about (froze, sent, settled)."""
    e = t.events.c
    return sa.select(e.entity_id).where(e.run_id == run_id, e.entity == "batch")


def _batches(conn: sa.Connection, run_id: int, limit: int) -> tuple[list[BatchLine], int]:
    """The run's batches, the troubled first (retried, not confirmed), then in order."""
    b = t.batches.c
    where = b.id.in_(_touched(run_id))
    total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
    calm = sa.case((sa.and_(b.attempts <= 1, b.state == B_CONFIRMED), 1), else_=0)
    query = (
        sa.select(
            b.id,
            b.generation,
            b.size,
            b.state,
            b.attempts,
            b.first_sent_at,
            b.last_sent_at,
            b.last_error,
        )
        .where(where)
        .order_by(calm, b.id)
        .limit(limit)
    )
    lines = [BatchLine(*row[:7], last_error=row[7] or "") for row in conn.execute(query)]
    return lines, int(total)


def _step(span_s: float) -> int:
    """The smallest readable bucket width that fits ``span_s`` into :data:`BUCKETS` bars."""
    for step in _STEPS:
        if span_s / step < BUCKETS:
            return step
    return 86400 * (int(span_s) // 86400 // BUCKETS + 1)  # runs longer than a month: days


def _timeline(conn: sa.Connection, run_id: int) -> tuple[list[TimeBucket], int]:
    """Send attempts of the run per time bucket (streamed: one pass, flat memory)."""
    e = t.events.c
    where = sa.and_(
        e.run_id == run_id,
        e.entity == "batch",
        e.to_state.in_((B_SENDING, B_UNKNOWN)),
    )
    # min/max keep the column's type: aware UTC datetimes on both backends.
    start, end = conn.execute(sa.select(sa.func.min(e.at), sa.func.max(e.at)).where(where)).one()
    if start is None or end is None:
        return [], 0
    step = _step((end - start).total_seconds())
    origin = start.replace(microsecond=0) - timedelta(seconds=int(start.timestamp()) % step)
    count = int((end - origin).total_seconds() // step) + 1
    first, retries, failures = [0] * count, [0] * count, [0] * count
    query = sa.select(e.at, e.from_state, e.to_state).where(where)
    for at, before, after in conn.execution_options(yield_per=10_000).execute(query):
        slot = min(int((at - origin).total_seconds() // step), count - 1)
        if after == B_UNKNOWN:
            failures[slot] += 1
        elif before == B_PLANNED:
            first[slot] += 1
        else:
            retries[slot] += 1
    buckets = [
        TimeBucket(origin + timedelta(seconds=k * step), first[k], retries[k], failures[k])
        for k in range(count)
    ]
    return buckets, step
