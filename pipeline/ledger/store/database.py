"""The ledger's database handle: one transaction, the clock, the audit trail, bulk SQL.

Usage (inside the ledger; callers go through :class:`~pipeline.ledger.Ledger`'s rooms)::

    store = Store(open_engine(url), clock=utc_now, key_safety_margin_s=3600)
    with store.transaction() as conn:                  # driver errors become LedgerError
        conn.execute(...)
        store.event(conn, entity="batch", entity_id=7, from_state="planned",
                    to_state="sending", reason="attempt 1 with key …", by=lease)
    bulk_insert(conn, schema.rows, ("id", "phone"), [(1, "79161234567")])   # hot paths

Every room of the ledger (runs, planning, sending, leases…) holds the same :class:`Store`;
every write it makes is one :meth:`Store.transaction` that appends its audit events.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import LedgerError, PipelineError

if TYPE_CHECKING:  # batches imports this module
    from pipeline.ledger.batches import PlannedRow
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.failures import translate
from pipeline.ledger.store.states import KEY_LIFETIME_S
from pipeline.redact import redact

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock: aware UTC now."""
    return datetime.now(UTC)


class Actor(Protocol):
    """Who makes a write, as its audit event names it: a lease holder or a sharing worker
    (:class:`~pipeline.ledger.sharing.holders.Holder`)."""

    @property
    def owner(self) -> str: ...

    @property
    def epoch(self) -> int: ...

    @property
    def run_id(self) -> int | None: ...


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def clean_error(text: str) -> str:
    """Error text safe to store: secrets masked, URLs dropped, bounded length."""
    return _URL.sub("<url>", redact(text))[:1000]


class Store:
    """The engine, the clock, and what every write of the ledger uses."""

    def __init__(
        self, engine: Engine, *, clock: Clock = utc_now, key_safety_margin_s: float
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.key_safety_margin_s = key_safety_margin_s
        # Rows of batches this process froze and has not claimed yet (bounded; see freeze.py):
        # claiming them needs no read back. Only committed batches are put here.
        self.fresh_rows: dict[int, tuple[PlannedRow, ...]] = {}

    def now(self) -> datetime:
        """The injected clock's time, checked to be aware (naive times would compare wrongly)."""
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the ledger clock must return an aware datetime (UTC)")
        return value.astimezone(UTC)

    def key_expiry_cutoff(self, now: datetime) -> datetime:
        """A key first sent at or before this moment must never be sent again."""
        return now - timedelta(seconds=KEY_LIFETIME_S - self.key_safety_margin_s)

    @contextmanager
    def transaction(self, *, durable: bool = True, checked: bool = True) -> Iterator[sa.Connection]:
        """One database transaction; SQLAlchemy errors become :class:`LedgerError`.

        ``durable=False`` lets the commit return before it is flushed to disk (SQLite WAL
        ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``). Safe only for work a
        re-run redoes (planning, freezing, claiming): both logs are sequential, so the next
        durable commit (an intent, before any send) flushes every earlier commit with it, and
        a power loss can only take back relaxed commits that nothing sent depends on. A
        process crash (``kill -9``) loses nothing either way: the OS still holds the data.

        ``checked=False`` (SQLite): foreign keys are not checked in this transaction. Only for
        bulk inserts whose every reference the same transaction has just verified or created
        (planning: its input, run and campaign, the rows and batches it inserts), where the
        checks cost ~13 % of planning. PostgreSQL checks them as always.
        """
        try:
            if durable and checked:
                with self.engine.begin() as conn:
                    yield conn
            else:
                pragmas: list[tuple[str, str, str]] = []
                if not durable:
                    pragmas.append(("synchronous", "NORMAL", "FULL"))
                if not checked:
                    pragmas.append(("foreign_keys", "OFF", "ON"))
                with self.engine.connect() as conn, _sqlite_pragmas(conn, pragmas), conn.begin():
                    if conn.dialect.name == "postgresql" and not durable:
                        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    yield conn
        except PipelineError:
            raise
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error) as exc:
            # Statements SQLAlchemy runs are translated as they fail; the driver cursors of
            # the hot paths (bulk inserts, COPY) are translated here, by the same rules.
            failure = translate(exc, self.engine)
            if failure is not None:
                raise failure from None
            detail = redact(str(getattr(exc, "orig", None) or exc))
            raise LedgerError(
                f"ledger database error ({exc.__class__.__name__}): {detail}. The transaction "
                f"was rolled back; re-run to continue from the last committed state."
            ) from None

    def read(self) -> Engine:
        """The engine, for read-only queries (audit)."""
        return self.engine

    def count(self, query: sa.Select[Any], what: str) -> int:
        """The number one ``SELECT count(...)`` reads; LedgerError names ``what`` if it fails."""
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())
        except SQLAlchemyError as exc:
            raise LedgerError(
                f"cannot read {what}: {exc.__class__.__name__}; check the ledger database and "
                f"run again."
            ) from None

    def event(
        self,
        conn: sa.Connection,
        *,
        entity: str,
        entity_id: int,
        from_state: str | None,
        to_state: str | None,
        reason: str,
        lease: Actor | None = None,
        run_id: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append one audit event (who, when, which entity, from → to, why)."""
        conn.execute(
            sa.insert(t.events).values(
                at=at or self.now(),
                run_id=run_id if run_id is not None else (lease.run_id if lease else None),
                actor=lease.owner if lease else "cli",
                epoch=lease.epoch if lease else None,
                entity=entity,
                entity_id=entity_id,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
            )
        )

    def events(
        self,
        conn: sa.Connection,
        entries: Sequence[tuple[str, int, str | None, str | None, str]],
        *,
        lease: Actor | None,
        at: datetime,
    ) -> None:
        """Append several audit events ``(entity, entity id, from, to, why)`` at once: what
        :meth:`event` does for each, in one statement (freezing thousands of small batches)."""
        when = db_value(conn, t.events.c.at, at)
        who = (lease.run_id, lease.owner, lease.epoch) if lease else (None, "cli", None)
        bulk_insert(conn, t.events, _EVENT_COLS, [(when, *who, *entry) for entry in entries])


_EVENT_COLS = (
    "at",
    "run_id",
    "actor",
    "epoch",
    "entity",
    "entity_id",
    "from_state",
    "to_state",
    "reason",
)


def db_value(conn: sa.Connection, column: sa.Column[Any], value: Any) -> Any:
    """``value`` as SQLAlchemy binds it for ``column`` on this connection's dialect (times
    become text on SQLite): for :func:`bulk_insert`, which hands the driver plain values."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


@contextmanager
def _sqlite_pragmas(conn: sa.Connection, pragmas: Sequence[tuple[str, str, str]]) -> Iterator[None]:
    """SQLite: ``(name, value, restore)`` pragmas set for the next transaction only (e.g.
    ``synchronous=NORMAL``, back to FULL after it).

    A pragma like these cannot change inside a transaction, so they are set on the driver
    connection before BEGIN. If one cannot be restored the connection is discarded, so no
    later transaction can run with a relaxed setting (a durable commit on a relaxed
    connection, say).
    """
    if conn.dialect.name != "sqlite" or not pragmas:
        yield
        return
    raw: Any = conn.connection.driver_connection
    for name, value, _restore in pragmas:
        raw.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        try:
            for name, _value, restore in pragmas:
                raw.execute(f"PRAGMA {name} = {restore}")
        except Exception:
            conn.invalidate()
            raise


def driver_sql(conn: sa.Connection, sql: str) -> str:
    """``sql`` written with ``?`` placeholders, in the connection's driver's own style.

    For the few hot statements run through the driver (sqlite3 takes ``?``, psycopg ``%s``);
    the SQL itself must be portable.
    """
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


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
