"""The ledger's database handle: one transaction, the clock, the audit trail.

Usage (inside the ledger; callers go through :class:`~pipeline.ledger.Ledger`'s rooms)::

    store = Store(open_engine(url), clock=utc_now, key_safety_margin_s=3600)
    with store.transaction() as conn:                  # driver errors become LedgerError
        conn.execute(...)
        store.event(conn, entity="batch", entity_id=7, from_state="planned",
                    to_state="sending", reason="attempt 1 with key …", by=lease)

Every room of the ledger (runs, planning, sending, leases…) holds the same :class:`Store`;
every write it makes is one :meth:`Store.transaction` that appends its audit events (the hot
paths write many rows at once through :mod:`pipeline.ledger.store.bulk`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import LedgerError, PipelineError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.bulk import bulk_insert, db_value
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

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    @property
    def shown_url(self) -> str:
        """The ledger's URL for messages, its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

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
        by: Actor | None = None,
        run_id: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append one audit event (who, when, which entity, from → to, why): ``by`` the lease or
        worker that writes (``run_id`` from it unless given), or the CLI when None."""
        conn.execute(
            sa.insert(t.events).values(
                at=at or self.now(),
                run_id=run_id if run_id is not None else (by.run_id if by else None),
                actor=by.owner if by else "cli",
                epoch=by.epoch if by else None,
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
        by: Actor | None,
        at: datetime,
    ) -> None:
        """Append several audit events ``(entity, entity id, from, to, why)`` at once: what
        :meth:`event` does for each, in one statement (freezing thousands of small batches)."""
        when = db_value(conn, t.events.c.at, at)
        who = (by.run_id, by.owner, by.epoch) if by else (None, "cli", None)
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


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
