"""Writing many rows at once: the statements of the hot paths, through the driver's cursor.

Usage (inside a transaction of the ledger)::

    ids = reserve_ids(conn, schema.rows, len(values))          # the ids the INSERT will name
    bulk_insert(conn, schema.rows, ("id", "phone"), [(ids[0], "79161234567")])
    executemany(conn, "UPDATE batches SET state = ? WHERE id = ?", [("sending", 7)])
    at = db_value(conn, schema.batches.c.last_sent_at, now)    # as SQLAlchemy would bind it

SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself, so planning,
freezing and recording outcomes hand the driver plain values (str, int, None, and times
converted once with :func:`db_value`). The SQL stays portable: written with ``?`` placeholders
(:func:`driver_sql` adapts them to the driver) or compiled by SQLAlchemy for the dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def db_value(conn: sa.Connection, column: sa.Column[Any], value: Any) -> Any:
    """``value`` as SQLAlchemy binds it for ``column`` on this connection's dialect (times
    become text on SQLite): for :func:`bulk_insert`, which hands the driver plain values."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


def driver_sql(conn: sa.Connection, sql: str) -> str:
    """``sql`` written with ``?`` placeholders, in the connection's driver's own style.

    For the few hot statements run through the driver (sqlite3 takes ``?``, psycopg ``%s``);
    the SQL itself must be portable.
    """
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def reserve_ids(conn: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """``count`` new primary keys of ``table`` (ascending), for an INSERT in this transaction
    that names its ids: planning needs the ids of its rows before it inserts them, to insert
    them already frozen into their batches.

    SQLite: the ids after the largest, which is what SQLite itself would give; the transaction
    holds the write lock (``BEGIN IMMEDIATE``), so nobody else takes them meanwhile.
    PostgreSQL: drawn from the column's own sequence (PostgreSQL-only SQL, as nothing portable
    reserves ids), so concurrent planners of other campaigns never get the same ones.
    """
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        drawn = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table.name, count),
        )
        return sorted(int(value) for (value,) in drawn)
    top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return list(range(top + 1, top + 1 + count))


def executemany(conn: sa.Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    """One statement (``?`` placeholders) for many parameter tuples, through the driver."""
    if not params:
        return
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(driver_sql(conn, sql), params)
    finally:
        cursor.close()


def bulk_insert(
    conn: sa.Connection, table: sa.Table, cols: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """INSERT many rows (tuples or lists in ``cols`` order) through the driver's executemany.

    The statement is compiled by SQLAlchemy for the connection's dialect (so the SQL is the
    same portable INSERT), but the parameters go to the driver as plain sequences: SQLAlchemy's
    per-row parameter processing would cost more than SQLite's insert itself. Only for
    str/int/None values, which need no type processing.
    """
    if not values:
        return
    if conn.dialect.name == "postgresql":
        # COPY inside the transaction: one round trip per chunk of data instead of one
        # statement per row (psycopg's executemany cost 17 ms per 500-row batch here).
        listed = ", ".join(table.c[col].name for col in cols)
        cursor: Any = conn.connection.cursor()
        try:
            with cursor.copy(f"COPY {table.name} ({listed}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    compiled = sa.insert(table).compile(dialect=conn.dialect, column_keys=list(cols))
    names = compiled.positiontup
    params: Sequence[Any]
    if names is not None and tuple(names) == tuple(cols):  # sqlite3: qmark, our order
        params = values
    elif names is not None:
        order = [list(cols).index(name) for name in names]
        params = [tuple(v[i] for i in order) for v in values]
    else:  # named drivers (psycopg: %(name)s)
        params = [dict(zip(cols, v, strict=True)) for v in values]
    # The driver's own cursor, inside the transaction SQLAlchemy began on this connection;
    # its errors are wrapped as SQLAlchemy's would be, so transaction() reports them.
    sql, dbapi_error = str(compiled), conn.dialect.loaded_dbapi.Error
    raw: Any = conn.connection.cursor()
    try:
        raw.executemany(sql, params)
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi_error) from exc
    finally:
        raw.close()
