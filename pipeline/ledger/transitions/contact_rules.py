"""Whom planning may not call: the do-not-call list and the contact caps, in the planning
transaction.

Usage (planning calls these inside the transaction that inserts a chunk's rows)::

    rules = ContactRules(listed=(("dnc.csv", frozenset({"79161234567"})),),
                         caps=(("day", 1), ("week", 2), ("month", 8)), zone="Europe/Moscow")
    lock_for_caps(conn, rules)                 # PostgreSQL: one planner at a time counts
    mark_suppressed(conn, values, rules)       # rows of listed phones → rejected "suppressed"
    mark_capped(conn, values, rules, now=now)  # rows over a cap → rejected "contact_cap"

Suppressed rows lose their row key (no key is kept for a phone that must not be called) but keep
their phone, so ``ledger phone`` shows the match; the reason names the list entry or file.

Caps count the call jobs of a phone in the whole ledger, every campaign, run and file: rows sent
(with a job) in the current calendar day / ISO week (Monday to Sunday) / calendar month of
``zone``, plus rows still on their way (planned or batched: they will be jobs soon), plus the
rows accepted before them in the same chunk. Calendar periods, not rolling ones: 230-FZ says
"once a day", and a nightly run ~24 h after the last one must not find yesterday's call "within
24 hours". A row over any cap is rejected ``contact_cap``; duplicates never count.

Two hosts on one PostgreSQL ledger could both count a phone's jobs before either inserts its
row; :func:`lock_for_caps` takes a transaction-scoped advisory lock, so the planning
transactions that count caps run one after another (SQLite has one writer anyway).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import db_value, driver_sql
from pipeline.ledger.store.states import BATCHED, PLANNED, REJECTED, SENT
from pipeline.ledger.transitions.row_values import KEY, PHONE, REASON, REASON_CODE, STATE
from pipeline.ledger.transitions.suppressions import describe

assert (BATCHED, SENT) == ("batched", "sent")  # written as literals in _jobs' SQL
PERIODS = ("day", "week", "month")
SUPPRESSED, CONTACT_CAP = "suppressed", "contact_cap"
_LOOKUP_CHUNK = 5_000
# Any constant: the key of the one advisory lock planners with caps take (pg_advisory_xact_lock).
_CAPS_LOCK_KEY = 0x4A41_4350  # "JACP"

__all__ = [
    "CONTACT_CAP",
    "PERIODS",
    "SUPPRESSED",
    "ContactRules",
    "lock_for_caps",
    "mark_capped",
    "mark_suppressed",
    "period_starts",
]


@dataclass(frozen=True, slots=True)
class ContactRules:
    """What each new row's phone is checked against while it is planned.

    ``listed``: (file name, phones) of the do-not-call files named in the config;
    ``ledger_list``: also the ledger's own list (``ledger.suppressions``);
    ``caps``: (period, most new call jobs per phone in it), period in :data:`PERIODS`;
    ``zone``: the IANA zone whose calendar days, weeks and months the caps count.
    """

    listed: tuple[tuple[str, frozenset[str]], ...] = ()
    ledger_list: bool = True
    caps: tuple[tuple[str, int], ...] = ()
    zone: str = "UTC"


def lock_for_caps(conn: sa.Connection, rules: ContactRules | None) -> None:
    """PostgreSQL: wait for the caps lock (held until this transaction ends). Taken first in
    the transaction, before anything else is locked, so two planners cannot deadlock on it."""
    if rules is not None and rules.caps and conn.dialect.name == "postgresql":
        # PostgreSQL-only on purpose: SQLite's BEGIN IMMEDIATE already admits one writer.
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CAPS_LOCK_KEY})")


def mark_suppressed(conn: sa.Connection, values: list[list[Any]], rules: ContactRules) -> int:
    """Reject the planned rows whose phone is on a list; returns how many."""
    todo = [v for v in values if v[STATE] == PLANNED]
    if not todo:
        return 0
    marked = 0
    for name, phones in rules.listed:
        for value in todo:
            if value[STATE] == PLANNED and value[PHONE] in phones:
                _reject(value, SUPPRESSED, f"on the do-not-call list (file {name})")
                marked += 1
    if rules.ledger_list and _list_has_entries(conn):
        left = sorted({v[PHONE] for v in todo if v[STATE] == PLANNED})
        why = _listed_entries(conn, left)
        for value in todo:
            found = why.get(value[PHONE])
            if found is not None and value[STATE] == PLANNED:
                _reject(value, SUPPRESSED, found)
                marked += 1
    return marked


def _list_has_entries(conn: sa.Connection) -> bool:
    """Whether the ledger's list holds any entry (active or removed): most ledgers have none,
    and looking every planned phone up in an empty table cost ~7 % of an upload's ledger work.
    Read in the planning transaction, so it sees what the lookups would see."""
    return conn.exec_driver_sql("SELECT 1 FROM suppressions LIMIT 1").first() is not None


def _listed_entries(conn: sa.Connection, phones: list[str]) -> dict[str, str]:
    """The phones of ``phones`` on the ledger's list now, each with its oldest active entry
    told as :meth:`Suppression.describe` does (read through the driver: hot path)."""
    sql = (
        "SELECT phone, id, source, job_id, added_at, added_by, reason FROM suppressions "
        "WHERE removed_at IS NULL AND phone IN"
    )
    oldest: dict[str, tuple[Any, ...]] = {}
    for phone, *entry in _by_phone(conn, sql, phones):
        if phone not in oldest or entry[0] < oldest[phone][0]:
            oldest[phone] = tuple(entry)
    return {phone: describe(*entry) for phone, entry in oldest.items()}


def period_starts(now: datetime, zone: str) -> dict[str, datetime]:
    """The start (aware) of the calendar day, ISO week and month of ``zone`` that hold ``now``."""
    local = now.astimezone(zoneinfo.ZoneInfo(zone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    return {"day": day, "week": week, "month": month}


def mark_capped(
    conn: sa.Connection, values: list[list[Any]], rules: ContactRules, *, now: datetime
) -> int:
    """Reject the planned rows that would take their phone over a cap; returns how many."""
    if not rules.caps:
        return 0
    todo = [v for v in values if v[STATE] == PLANNED]
    if not todo:
        return 0
    starts = period_starts(now, rules.zone)
    caps = [(period, limit, starts[period]) for period, limit in rules.caps]
    counts = _jobs(conn, sorted({v[PHONE] for v in todo}), [start for _, _, start in caps])
    marked = 0
    for value in todo:
        got = counts.setdefault(value[PHONE], [0] * len(caps))
        over = next(((p, lim, got[n]) for n, (p, lim, _) in enumerate(caps) if got[n] >= lim), None)
        if over is None:
            for n in range(len(caps)):
                got[n] += 1
            continue
        period, limit, had = over
        _reject(
            value,
            CONTACT_CAP,
            f"this phone already has {had} call job(s) this {period} ({rules.zone} calendar) "
            f"in this ledger; upload.contact_caps allows {limit} per {period}",
        )
        marked += 1
    return marked


def _jobs(conn: sa.Connection, phones: list[str], starts: list[datetime]) -> dict[str, list[int]]:
    """Per phone (any campaign), its call jobs since each of ``starts``: rows sent at/after
    it, plus the rows still on their way (planned or batched: a job soon). Counted by the
    database, through the driver: SQLAlchemy's compiling of 5,000-phone IN lists costs more."""
    at = [db_value(conn, t.rows.c.sent_at, start) for start in starts]
    sums = ", ".join(
        "SUM(CASE WHEN state <> 'sent' OR sent_at >= ? THEN 1 ELSE 0 END)" for _ in starts
    )
    # Placeholders only are put together here; every value is a bound parameter.
    sql = (
        f"SELECT phone, {sums} FROM rows "  # noqa: S608
        "WHERE (state IN ('planned', 'batched') OR (state = 'sent' AND sent_at >= ?)) "
        "AND phone IN"
    )
    got = _by_phone(conn, sql, phones, before=(*at, min(at)), after=" GROUP BY phone")
    return {phone: [int(n) for n in numbers] for phone, *numbers in got}


def _by_phone(
    conn: sa.Connection,
    sql: str,
    phones: list[str],
    *,
    before: tuple[Any, ...] = (),
    after: str = "",
) -> Iterator[tuple[Any, ...]]:
    """``sql`` (ending in ``phone IN``, ``?`` placeholders for ``before``) run for each slice of
    ``phones``, ``after`` appended (GROUP BY ...), rows fetched through the driver."""
    cursor: Any = conn.connection.cursor()
    try:
        for n in range(0, len(phones), _LOOKUP_CHUNK):
            part = phones[n : n + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(part))
            cursor.execute(driver_sql(conn, f"{sql} ({marks}){after}"), (*before, *part))
            yield from cursor.fetchall()
    finally:
        cursor.close()


def _reject(value: list[Any], code: str, why: str) -> None:
    # The code leads the text: `results` files show the text, and a CRM keys on the code.
    value[STATE], value[REASON_CODE], value[KEY] = REJECTED, code, None
    value[REASON] = f"{code}: {why}"
