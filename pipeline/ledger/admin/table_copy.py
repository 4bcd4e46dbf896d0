"""Copying one ledger table into another database, and proving the copy.

Usage (inside the target's transaction; :func:`~pipeline.ledger.admin.migrate.copy_ledger`
runs it for every table)::

    copier = TableCopier(read=src_conn, write=dst_conn, chunk_rows=5000, progress=progress)
    copy = copier.copy(schema.rows)         # TableCopy: rows and content digest on each side
    copy.matches
    reset_sequences(dst_conn, tables)       # PostgreSQL: ids continue after the copied ones

Rows stream in primary-key order, chunk by chunk (memory stays flat); each side's digest is a
sum of row hashes read through the same column types, so it does not depend on row order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# Called with (table, rows copied so far, rows in that table) after each chunk.
Progress = Callable[[str, int, int], None]
_MOD = 1 << 256


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table: rows and content digest on each side."""

    name: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def matches(self) -> bool:
        return (self.source_rows, self.source_digest) == (self.target_rows, self.target_digest)


def _stream(conn: sa.Connection, table: sa.Table, chunk_rows: int) -> Iterator[list[sa.Row[Any]]]:
    """The table's rows in primary-key order (ids before the rows that refer to them)."""
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = conn.execute(query.execution_options(yield_per=chunk_rows))
    for part in result.partitions():
        yield list(part)


def _row_hash(row: sa.Row[Any]) -> int:
    # repr of values read through the same column types on both sides: aware UTC datetimes,
    # ints, bools and text compare equal exactly when the stored values are equal.
    return int.from_bytes(hashlib.sha256(repr(tuple(row)).encode("utf-8")).digest(), "big")


@dataclass
class TableCopier:
    """Copies one table at a time from ``read`` to ``write``, chunk by chunk."""

    read: sa.Connection
    write: sa.Connection
    chunk_rows: int
    progress: Progress

    def copy(self, table: sa.Table) -> TableCopy:
        """Insert the table's rows, then read them back: counts and digests of both sides."""
        count = sa.select(sa.func.count()).select_from(table)
        total = int(self.read.execute(count).scalar_one())
        copied, source = self._insert(table, total)
        written, target = 0, 0
        for part in _stream(self.write, table, self.chunk_rows):
            written += len(part)
            target = (target + sum(_row_hash(row) for row in part)) % _MOD
        # A sum of row hashes does not depend on row order (collations may differ).
        return TableCopy(table.name, copied, written, f"{source:064x}", f"{target:064x}")

    def _insert(self, table: sa.Table, total: int) -> tuple[int, int]:
        keys = list(table.primary_key.columns)
        pk = keys[0] if len(keys) == 1 else None
        # A reference to a row of the same table with a higher id (the uploader never writes
        # one today, but it is legal) is inserted as NULL and set once that row exists.
        self_refs = [
            fk.parent.name
            for fk in table.foreign_keys
            if pk is not None and fk.column.table is table and fk.parent.nullable
        ]
        later: dict[str, list[dict[str, Any]]] = {col: [] for col in self_refs}
        copied, digest = 0, 0
        for part in _stream(self.read, table, self.chunk_rows):
            digest = (digest + sum(_row_hash(row) for row in part)) % _MOD
            values = [row._asdict() for row in part]
            for v in values:
                for col in self_refs:
                    assert pk is not None
                    if v[col] is not None and v[col] > v[pk.name]:
                        later[col].append({"b_pk": v[pk.name], "b_val": v[col]})
                        v[col] = None
            self.write.execute(table.insert(), values)
            copied += len(values)
            self.progress(table.name, copied, total)
        for col, fixes in later.items():
            if fixes and pk is not None:
                update = sa.update(table).where(pk == sa.bindparam("b_pk"))
                self.write.execute(update.values({col: sa.bindparam("b_val")}), fixes)
        if copied == 0:
            self.progress(table.name, 0, 0)
        return copied, digest


def reset_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Move each id sequence past the copied ids, so the next insert does not collide.

    PostgreSQL only: explicit ids do not advance a SERIAL's sequence (SQLite takes max(id)+1).
    An empty table gets its sequence back at 1.
    """
    for table in tables:
        col = table.autoincrement_column
        if col is None:
            continue
        top = sa.func.max(col)
        conn.execute(
            sa.select(
                sa.func.setval(
                    sa.func.pg_get_serial_sequence(table.name, col.name),
                    sa.func.coalesce(top, 1),
                    top.is_not(None),
                )
            ).select_from(table)
        )
