"""The do-not-call list kept in the ledger: phones put on it and taken off, with who, when, why.

Usage::

    ledger.suppressions.add(["79161234567"], by="ops@host", reason="asked by phone")
    ledger.suppressions.add(["79161234567"], by="results", reason="bot: do_not_call",
                            source=OPT_OUT, job_ids=["4711"])
    ledger.suppressions.import_chunks(chunks, by="ops@host", reason="CRM list")  # a million
    ledger.suppressions.remove(["79161234567"], by="ops@host", reason="consent given back")
    ledger.suppressions.entries()               # the active list, oldest first
    ledger.suppressions.entries(history=True)   # removed entries too
    ledger.suppressions.active(["79161234567"]) # {phone: entry} of those on the list now

Phones are stored normalised exactly as rows are (the caller normalises them with the config's
``phone:`` rules). The list is shared by every campaign of the ledger, so hosts on one
PostgreSQL ledger share it. An entry is never deleted: removing one stamps ``removed_at``, so
an auditor sees that a phone was on the list and when it was taken off. Adding a phone that is
already on the list changes nothing (its first entry stands).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import bulk_insert, db_value
from pipeline.ledger.store.database import Store
from pipeline.ledger.transitions.suppress_import import insert_new, lock_list

MANUAL, FILE, OPT_OUT = "manual", "file", "opt_out"
SOURCES = (MANUAL, FILE, OPT_OUT)
_LOOKUP_CHUNK = 5_000  # phones per IN (...) query, far below SQLite's parameter limit
_COLS = ("phone", "added_at", "added_by", "reason", "source", "job_id")

__all__ = [
    "FILE",
    "MANUAL",
    "OPT_OUT",
    "SOURCES",
    "Suppression",
    "Suppressions",
    "describe",
    "listed_phones_readonly",
]


@dataclass(frozen=True, slots=True)
class Suppression:
    """One entry of the list: a phone put on it (and, once removed, taken off)."""

    id: int
    phone: str
    added_at: datetime
    added_by: str
    reason: str
    source: str
    job_id: str | None
    removed_at: datetime | None
    removed_by: str | None
    removed_reason: str | None

    def describe(self) -> str:
        """How a rejected row names the entry that stopped it (no phone: rows carry it)."""
        return describe(
            self.id, self.source, self.job_id, self.added_at, self.added_by, self.reason
        )


def describe(  # noqa: PLR0917 - one entry's columns, as the hot path reads them
    entry_id: int, source: str, job_id: str | None, added_at: Any, added_by: str, reason: str
) -> str:
    """An entry as a rejected row's reason names it. ``added_at``: a datetime, or SQLite's
    stored text (``2026-03-02 09:00:00.000000``) when read through the driver."""
    if isinstance(added_at, datetime):  # PostgreSQL's driver: aware, in the session's zone
        added_at = added_at.astimezone(UTC).replace(tzinfo=None)
    when = str(added_at)[:16]  # YYYY-MM-DD HH:MM, UTC
    why = f": {reason}" if reason else ""
    job = f" (call job {job_id})" if job_id else ""
    return (
        f"on the do-not-call list (entry {entry_id}, {source}{job}, added {when} UTC "
        f"by {added_by}{why})"
    )


class Suppressions:
    """``ledger.suppressions``: the ledger's do-not-call list."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        phones: Iterable[str],
        *,
        by: str,
        reason: str = "",
        source: str = MANUAL,
        job_ids: Sequence[str | None] | None = None,
    ) -> int:
        """Put ``phones`` on the list in one transaction; returns how many were not on it yet.

        ``job_ids`` (same length as ``phones``) names the call each opt-out came from.
        """
        if source not in SOURCES:
            raise LedgerError(f"unknown suppression source {source!r}; one of {SOURCES}")
        listed = list(phones)
        jobs = list(job_ids) if job_ids is not None else [None] * len(listed)
        if len(jobs) != len(listed):
            raise LedgerError("add(): job_ids must name one job (or None) per phone")
        with self.store.transaction() as conn:
            lock_list(conn)
            on_list = _listed(conn, set(listed))
            now = self.store.now()
            at = db_value(conn, t.suppressions.c.added_at, now)
            new: dict[str, tuple[Any, ...]] = {}
            for phone, job in zip(listed, jobs, strict=True):
                if phone not in on_list and phone not in new:
                    new[phone] = (phone, at, by, reason, source, job)
            bulk_insert(conn, t.suppressions, _COLS, list(new.values()))
            if new:
                self.store.event(
                    conn,
                    entity="suppression",
                    entity_id=0,
                    from_state=None,
                    to_state="suppressed",
                    reason=f"{len(new)} phones added ({source}) by {by}: {reason}"[:2000],
                    at=now,
                )
        return len(new)

    def import_chunks(
        self, chunks: Iterable[Sequence[str]], *, by: str, reason: str = "", source: str = FILE
    ) -> int:
        """Put many phones on the list in one transaction, streamed chunk by chunk (see
        :mod:`.suppress_import`); returns how many were not on it yet. ``chunks``: normalised
        phones, repeats allowed; an exception from them adds nothing."""
        if source not in SOURCES:
            raise LedgerError(f"unknown suppression source {source!r}; one of {SOURCES}")
        with self.store.transaction() as conn:
            lock_list(conn)
            now = self.store.now()
            added = insert_new(conn, chunks, now, by, reason, source)
            if added:
                self.store.event(
                    conn,
                    entity="suppression",
                    entity_id=0,
                    from_state=None,
                    to_state="suppressed",
                    reason=f"{added} phones added ({source}) by {by}: {reason}"[:2000],
                    at=now,
                )
        return added

    def opt_out(self, row_jobs: Sequence[tuple[int, str]], *, by: str, reason: str) -> int:
        """Put the phones of these sent rows (row id, call job id) on the list as opt-outs;
        returns how many phones were added. A job that put its phone on the list once never
        does again, so a phone taken off by hand stays off when ``results`` runs again."""
        if not row_jobs:
            return 0
        r, s = t.rows.c, t.suppressions.c
        ids = [row_id for row_id, _ in row_jobs]
        phones: dict[int, str] = {}
        seen: set[str] = set()
        with self.store.transaction(durable=False) as conn:
            for n in range(0, len(ids), _LOOKUP_CHUNK):
                part = ids[n : n + _LOOKUP_CHUNK]
                got = conn.execute(sa.select(r.id, r.phone).where(r.id.in_(part)))
                phones.update((row_id, phone) for row_id, phone in got if phone)
            jobs = sorted({job for _, job in row_jobs})
            for n in range(0, len(jobs), _LOOKUP_CHUNK):
                query = sa.select(s.job_id).where(s.job_id.in_(jobs[n : n + _LOOKUP_CHUNK]))
                seen.update(job for (job,) in conn.execute(query))
        todo = [(phones[row], job) for row, job in row_jobs if row in phones and job not in seen]
        return self.add(
            [phone for phone, _ in todo],
            by=by,
            reason=reason,
            source=OPT_OUT,
            job_ids=[job for _, job in todo],
        )

    def remove(self, phones: Iterable[str], *, by: str, reason: str = "") -> int:
        """Take ``phones`` off the list (their entries stay, stamped removed); returns how many
        were on it."""
        wanted = set(phones)
        s = t.suppressions.c
        with self.store.transaction() as conn:
            lock_list(conn)
            now = self.store.now()
            removed = 0
            ordered = sorted(wanted)
            for n in range(0, len(ordered), _LOOKUP_CHUNK):
                result = conn.execute(
                    sa.update(t.suppressions)
                    .where(s.phone.in_(ordered[n : n + _LOOKUP_CHUNK]), s.removed_at.is_(None))
                    .values(removed_at=now, removed_by=by, removed_reason=reason)
                )
                removed += result.rowcount
            if removed:
                self.store.event(
                    conn,
                    entity="suppression",
                    entity_id=0,
                    from_state="suppressed",
                    to_state="removed",
                    reason=f"{removed} phones taken off by {by}: {reason}"[:2000],
                    at=now,
                )
        return removed

    def entries(self, *, history: bool = False, phone: str | None = None) -> list[Suppression]:
        """The entries on the list now (``history``: removed ones too), oldest first."""
        s = t.suppressions.c
        query = sa.select(t.suppressions).order_by(s.id)
        if not history:
            query = query.where(s.removed_at.is_(None))
        if phone is not None:
            query = query.where(s.phone == phone)
        with self.store.transaction(durable=False) as conn:
            return [Suppression(**row._mapping) for row in conn.execute(query)]

    def active(self, phones: Iterable[str]) -> dict[str, Suppression]:
        """The entries (on the list now) of those of ``phones`` that are suppressed."""
        with self.store.transaction(durable=False) as conn:
            return _active(conn, set(phones))

    def phones(self) -> frozenset[str]:
        """Every phone on the list now (``validate`` checks its rows against it)."""
        s = t.suppressions.c
        with self.store.transaction(durable=False) as conn:
            got = conn.execute(sa.select(s.phone).where(s.removed_at.is_(None)))
            return frozenset(phone for (phone,) in got)


def _listed(conn: sa.Connection, phones: set[str]) -> set[str]:
    """Which of ``phones`` are on the list now; a big import reads the whole list at once
    (one scan beats hundreds of IN (...) lookups)."""
    if len(phones) <= 4 * _LOOKUP_CHUNK:
        return set(_active(conn, phones))
    s = t.suppressions.c
    got = conn.execute(sa.select(s.phone).where(s.removed_at.is_(None)))
    return {phone for (phone,) in got if phone in phones}


def _active(conn: sa.Connection, phones: set[str]) -> dict[str, Suppression]:
    """Inside a transaction: the active entries of ``phones`` (the oldest per phone)."""
    s = t.suppressions.c
    found: dict[str, Suppression] = {}
    ordered = sorted(phones)
    for n in range(0, len(ordered), _LOOKUP_CHUNK):
        query = (
            sa.select(t.suppressions)
            .where(s.phone.in_(ordered[n : n + _LOOKUP_CHUNK]), s.removed_at.is_(None))
            .order_by(s.id)
        )
        for row in conn.execute(query):
            entry = Suppression(**row._mapping)
            found.setdefault(entry.phone, entry)
    return found


def listed_phones_readonly(url: str) -> frozenset[str] | None:
    """The phones on the list of the SQLite ledger at ``url``, read without writing anything
    (no migration, no file created); None when ``url`` is no SQLite file that exists, so
    ``validate`` (no network, no ledger writes) can check rows against a local ledger's list.
    A ledger older than the list (migration 0007) lists nothing."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = Path(url.removeprefix(prefix).split("?", 1)[0])
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as conn:
            got = conn.execute("SELECT phone FROM suppressions WHERE removed_at IS NULL")
            return frozenset(phone for (phone,) in got)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return frozenset()
        raise LedgerError(
            f"{path}: cannot read the do-not-call list of this ledger ({exc}); check the file, "
            f"or run `jaicp-pipeline ledger verify`."
        ) from None
