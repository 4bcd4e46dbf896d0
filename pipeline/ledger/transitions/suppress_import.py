"""A big list put on the do-not-call list at once (``suppress import``): a million phones in
seconds, streamed from the file into the database in one transaction.

Usage (through ``ledger.suppressions``)::

    added = ledger.suppressions.import_chunks(phone_chunks(path, cfg), by="ops@host",
                                              reason="CRM opt-outs", source=FILE)

The chunks are normalised phones (digits with country code, as rows store them), repeats
allowed. A phone already on the list keeps its first entry and is not counted; every new
phone gets one entry with the same who/when/why/source; nothing is ever deleted. An error
raised by the chunks (a bad cell deep in the file) rolls the whole import back.

How, per backend (the SQL of each is portable; only the loading differs):

- SQLite: the phones go into a temporary table keyed by phone (one bound value per row,
  repeats dropped there), then one ``INSERT … SELECT … WHERE NOT EXISTS`` adds those not on
  the list, binding who/when/why once. Measured on 1M phones: binding six values per row
  cost ~50 % more, and a ``SELECT DISTINCT`` over an unkeyed table twice as much.
- PostgreSQL: the phones on the list are read first, then the new ones stream into the table
  with ``COPY`` while the file is still being read, so the server's inserting overlaps this
  process's normalising. An advisory lock (PostgreSQL-only: SQLite admits one writer anyway)
  keeps two imports on two hosts from both adding the same phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import db_value

# Any constant: the key of the advisory lock that changes to the list take (pg_advisory_xact_lock).
_LIST_LOCK_KEY = 0x4A44_4E43  # "JDNC"


__all__ = ["insert_new", "lock_list"]


def lock_list(conn: sa.Connection) -> None:
    """PostgreSQL: wait until no other transaction is changing the list (held to the end of
    this one), so "not on the list yet" stays true until this transaction's insert."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LIST_LOCK_KEY})")


def insert_new(  # noqa: PLR0917 - one entry's columns
    conn: sa.Connection,
    chunks: Iterable[Sequence[str]],
    at: datetime,
    by: str,
    reason: str,
    source: str,
) -> int:
    """Inside a transaction that holds :func:`lock_list`: put the phones of ``chunks`` that
    are not on the list on it; returns how many."""
    if conn.dialect.name == "postgresql":
        return _copy_new(conn, chunks, (at.isoformat(), by, reason, source))
    return _stage_and_insert(
        conn, chunks, (db_value(conn, t.suppressions.c.added_at, at), by, reason, source)
    )


def _digits(chunk: Sequence[str]) -> Sequence[str]:
    # One C-level test per chunk: only normalised phones are written raw into COPY's text.
    if chunk and not "".join(chunk).isdigit():
        raise LedgerError("import_chunks() takes normalised phones (digits only)")
    return chunk


def _stage_and_insert(
    conn: sa.Connection, chunks: Iterable[Sequence[str]], values: tuple[Any, ...]
) -> int:
    cursor: Any = conn.connection.cursor()
    try:
        cursor.execute("DROP TABLE IF EXISTS temp.suppress_import")
        cursor.execute(
            "CREATE TEMP TABLE suppress_import (phone VARCHAR(32) PRIMARY KEY) WITHOUT ROWID"
        )
        for chunk in chunks:
            cursor.executemany(
                "INSERT INTO suppress_import (phone) VALUES (?) ON CONFLICT DO NOTHING",
                zip(_digits(chunk)),
            )
        # who/when/why bound once for all rows
        cursor.execute(
            "INSERT INTO suppressions (phone, added_at, added_by, reason, source) "
            "SELECT n.phone, ?, ?, ?, ? FROM suppress_import n WHERE NOT EXISTS "
            "(SELECT 1 FROM suppressions s WHERE s.phone = n.phone AND s.removed_at IS NULL)",
            values,
        )
        added = int(cursor.rowcount)
        cursor.execute("DROP TABLE temp.suppress_import")
        return added
    finally:
        cursor.close()


def _copy_new(conn: sa.Connection, chunks: Iterable[Sequence[str]], values: tuple[str, ...]) -> int:
    listed = conn.exec_driver_sql("SELECT phone FROM suppressions WHERE removed_at IS NULL")
    known = {phone for (phone,) in listed}
    tail = "\t" + "\t".join(map(_copy_text, values)) + "\n"
    added = 0
    cursor: Any = conn.connection.cursor()
    try:
        sql = "COPY suppressions (phone, added_at, added_by, reason, source) FROM STDIN"
        with cursor.copy(sql) as copy:
            for chunk in chunks:
                new = [p for p in dict.fromkeys(_digits(chunk)) if p not in known]
                if new:
                    known.update(new)
                    copy.write(tail.join(new) + tail)
                    added += len(new)
    finally:
        cursor.close()
    return added


def _copy_text(value: str) -> str:
    """``value`` in COPY's text format (backslash escapes)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
