"""Retention: drop the personal data of finished rows past a retention window.

What goes: the phone, the payload and the rejection text of every row in a final state
(sent, rejected, duplicate) whose run finished before the cutoff, and the report data
``results`` stored for those rows. What stays: row keys, batch digests and keys, job ids,
states, reason codes and every audit event, so ``ledger verify``, ``ledger show`` and the
exactly-once guarantees keep working. One event per purged run records the purge.

Usage::

    cutoff = ledger.store.now() - parse_duration("90d")
    result = purge_ledger(ledger.store, cutoff=cutoff, dry_run=True)   # count only
    result = purge_ledger(ledger.store, cutoff=cutoff)                 # purge
    print(result.rows, result.runs)

Running it again changes nothing (rows already purged are not selected). Rows older than the
cutoff no longer count as repeats of later uploads (their phone is gone); keep the retention
window longer than ``upload.repeat_window_s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import Store
from pipeline.ledger.store.states import REJECTED, ROW_TERMINAL

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """``"90d"`` → 90 days. Units: s, m, h, d, w. ValueError on anything else.

    >>> parse_duration("2w")
    datetime.timedelta(days=14)
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; write a whole number and a unit, e.g. 90d, 12h, 2w "
            f"(units: s, m, h, d, w)"
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])


@dataclass(slots=True)
class PurgeResult:
    """What a purge dropped (or, with ``dry_run``, would drop)."""

    cutoff: datetime
    rows: int = 0
    reports: int = 0
    runs: dict[int, int] = field(default_factory=dict)  # run id → rows purged


def _candidates(cutoff: datetime) -> sa.Select[Any]:
    """Row ids (and their run) in final states, of runs finished before ``cutoff``, not purged."""
    r, runs = t.rows.c, t.runs.c
    finished_before = sa.select(runs.id).where(
        runs.finished_at.is_not(None), runs.finished_at < cutoff
    )
    return sa.select(r.id, r.run_id).where(
        r.state.in_(ROW_TERMINAL),
        r.run_id.in_(finished_before),
        # A row sent by a later run of the same file is kept until that send is old too.
        sa.or_(r.sent_at.is_(None), r.sent_at < cutoff),
        sa.or_(
            r.phone.is_not(None),
            r.payload.is_not(None),
            sa.and_(r.state == REJECTED, r.reason.is_not(None)),
        ),
    )


def purge_ledger(
    store: Store, *, cutoff: datetime, dry_run: bool = False, chunk: int = 5000
) -> PurgeResult:
    """Drop phones, payloads, rejection texts and report data of rows finished before ``cutoff``.

    Works in chunks of ``chunk`` rows, one transaction each, so a large purge neither holds one
    huge transaction nor loses finished chunks when it is interrupted (a rerun continues).
    """
    result = PurgeResult(cutoff=cutoff)
    with store.engine.connect() as conn:
        found = [(int(row.id), int(row.run_id)) for row in conn.execute(_candidates(cutoff))]
    for _row, run_id in found:
        result.runs[run_id] = result.runs.get(run_id, 0) + 1
    result.rows = len(found)
    ids = [row_id for row_id, _ in found]
    if dry_run:
        with store.engine.connect() as conn:
            result.reports = _count_reports(conn, ids, chunk)
        return result
    r = t.rows.c
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with store.transaction() as conn:
            conn.execute(sa.update(t.rows).where(r.id.in_(part)).values(phone=None, payload=None))
            # Rejection texts may quote the rejected cell; the reason code stays.
            conn.execute(
                sa.update(t.rows).where(r.id.in_(part), r.state == REJECTED).values(reason=None)
            )
            done = conn.execute(
                sa.update(t.job_outcomes)
                .where(t.job_outcomes.c.row_id.in_(part), t.job_outcomes.c.report_data.is_not(None))
                .values(report_data=None)
            )
            result.reports += done.rowcount
    if result.runs:
        with store.transaction() as conn:
            for run_id, n in sorted(result.runs.items()):
                store.event(
                    conn,
                    entity="run",
                    entity_id=run_id,
                    from_state=None,
                    to_state=None,
                    reason=(
                        f"purge: phones, payloads and report data of {n} finished row(s) "
                        f"dropped (run finished before {cutoff.isoformat()})"
                    ),
                    run_id=run_id,
                )
    return result


def _count_reports(conn: sa.Connection, ids: list[int], chunk: int) -> int:
    o = t.job_outcomes.c
    total = 0
    for start in range(0, len(ids), chunk):
        query = sa.select(sa.func.count()).where(
            o.row_id.in_(ids[start : start + chunk]), o.report_data.is_not(None)
        )
        total += int(conn.execute(query).scalar_one())
    return total
