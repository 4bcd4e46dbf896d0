"""The ledger database's driver errors told as what they mean to the operator, in one place.

:func:`pipeline.ledger.store.engine.open_engine` installs :func:`install` on every engine, so any
statement SQLAlchemy runs (a connection's first pragma included) that fails in one of the ways
below raises the ledger's own exception instead of a driver's; the few hot paths that talk to
the driver's cursor directly are translated by :meth:`Store.transaction
<pipeline.ledger.store.database.Store.transaction>` with :func:`translate`.

Usage::

    install(engine, Where("sqlite:///ledger.sqlite3", busy_s=30))   # open_engine does this
    failure = translate(exc, engine)     # a LedgerError subclass, or None

Two kinds of failure ask the operator for different things, so each has its own class:

* **damaged** (:class:`~pipeline.errors.LedgerDamagedError`, exit 7): SQLite says the file is
  not a database or its pages are malformed (``SQLITE_NOTADB``, ``SQLITE_CORRUPT*``), or
  PostgreSQL reports corrupted data (``XX001``/``XX002``). The ledger cannot be trusted: restore
  its backup, or start a new one knowingly.
* **unavailable** (:class:`~pipeline.errors.LedgerUnavailableError`, exit 3): the database is
  out of reach for now — the connection to PostgreSQL was lost (terminated, server restarting,
  refused), another program keeps the SQLite file locked for longer than the busy wait, the disk
  is full, an I/O error. The failed transaction was rolled back, so nothing was recorded that did
  not happen; run again once the cause is gone.

Everything else (a constraint, a ``NOWAIT`` lock refused, a bug) is left to the caller.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import DBAPIError

from pipeline.errors import LedgerDamagedError, LedgerError, LedgerUnavailableError
from pipeline.redact import redact

_SQLITE_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
_SQLITE_DAMAGED_TEXT = ("file is not a database", "database disk image is malformed")
# PostgreSQL: data_corrupted, index_corrupted.
_PG_DAMAGED = ("XX001", "XX002")
# PostgreSQL: admin/crash shutdown and "cannot connect now" (class 57P0), out of disk, memory
# or connections (class 53). A lost connection is recognised by SQLAlchemy (is_disconnect).
_PG_UNAVAILABLE = {
    "57P01": "the server ended the connection (terminated by an administrator or a shutdown)",
    "57P02": "the server ended the connection (crash shutdown)",
    "57P03": "the server is starting up or shutting down",
    "53100": "the database server's disk is full",
    "53200": "the database server is out of memory",
    "53300": "the database server accepts no more connections",
}
_SHOWN_LINES = 3  # problems of an integrity check quoted in the message
_PG_UNREACHABLE_TEXT = ("Connection refused", "the database system is", "timeout expired")


@dataclass(frozen=True, slots=True)
class Where:
    """How messages name a ledger: ``shown`` (its URL, password masked), ``busy_s`` (SQLite's
    busy wait), ``scrub`` (masks secrets a driver may quote back, e.g. the URL's password)."""

    shown: str
    busy_s: float = 0.0
    scrub: Callable[[str], str] = field(default=redact)


_WHERE: weakref.WeakKeyDictionary[Engine, Where] = weakref.WeakKeyDictionary()


def install(engine: Engine, where: Where) -> None:
    """Translate the engine's driver errors (see the module doc) as they are raised."""
    _WHERE[engine] = where

    def on_error(ctx: ExceptionContext) -> None:
        failure = translate(ctx.original_exception, engine, disconnect=ctx.is_disconnect)
        if failure is not None:
            raise failure

    event.listen(engine, "handle_error", on_error)


def translate(
    exc: BaseException, engine: Engine, *, disconnect: bool | None = None
) -> LedgerError | None:
    """The ledger's exception for a driver error (raw, or wrapped by SQLAlchemy), else None."""
    if isinstance(exc, LedgerError):
        return exc
    dialect = engine.dialect
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, dialect.loaded_dbapi.Error):
        return None
    where = _WHERE.get(engine) or Where(engine.url.render_as_string(hide_password=True))
    text = str(orig).strip()
    detail = where.scrub(text.splitlines()[0] if text else type(orig).__name__)
    if dialect.name == "sqlite":
        return _sqlite(orig, detail, where)
    if disconnect is None:
        disconnect = bool(dialect.is_disconnect(orig, None, None))
    return _postgresql(orig, detail, where.shown, disconnect=disconnect)


def _sqlite(orig: BaseException, detail: str, where: Where) -> LedgerError | None:
    name = str(getattr(orig, "sqlite_errorname", ""))
    path = where.shown.removeprefix("sqlite:///")
    if name.startswith(_SQLITE_DAMAGED) or any(text in detail for text in _SQLITE_DAMAGED_TEXT):
        return LedgerDamagedError(damaged_message(path, detail))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in detail:
        cause = (
            f"the ledger file {path} is locked by another program and stayed locked longer "
            f"than the {where.busy_s:g} s this program waits ({detail}); close the "
            f"program that holds it (a sqlite3 shell, a backup or sync tool, a stuck process)"
        )
    elif name.startswith("SQLITE_FULL") or "disk is full" in detail:
        cause = (
            f"the disk of the ledger file {path} is full ({detail}); free space on it "
            f"(the ledger needs about 200 MB per million rows)"
        )
    elif name.startswith("SQLITE_IOERR"):
        cause = (
            f"the ledger file {path} could not be read or written ({detail}); check the disk "
            f"and the file system it is on"
        )
    else:
        return None
    return LedgerUnavailableError(unavailable_message(cause))


def _postgresql(
    orig: BaseException, detail: str, shown: str, *, disconnect: bool
) -> LedgerError | None:
    state = str(getattr(orig, "sqlstate", "") or "")
    if state in _PG_DAMAGED:
        return LedgerDamagedError(
            f"the ledger database {shown} reports corrupted data ({detail}). Do not upload with "
            f"it: have the database restored from its backup, then run `jaicp-pipeline ledger "
            f"verify` before the next upload."
        )
    why = _PG_UNAVAILABLE.get(state)
    if why is None and (disconnect or state.startswith("08")):
        why = "the connection to the database server was lost"
    if why is None and not state and any(t in detail for t in _PG_UNREACHABLE_TEXT):
        why = "the database server cannot be reached"
    if why is None:
        return None
    return LedgerUnavailableError(
        unavailable_message(
            f"{why} (ledger {shown}: {detail}); check that the server is running and reachable"
        )
    )


def unavailable_message(cause: str) -> str:
    """The message of a :class:`LedgerUnavailableError`: the cause, then what it means."""
    return (
        f"the ledger database is unavailable: {cause}. The transaction that failed was rolled "
        f"back: nothing was recorded that did not happen, and a batch whose request may have "
        f"left stays in doubt under its key. Run again once that is fixed (exit 3): the next "
        f"run resumes where this one stopped."
    )


def damaged_message(path: str, detail: str) -> str:
    """The message of a damaged SQLite ledger: what is wrong, and the two ways on."""
    return (
        f"the ledger file is damaged: {path} ({detail}). Do not upload with it: it may no "
        f"longer know what was sent. Restore its latest backup (made with `sqlite3 "
        f'ledger.sqlite3 ".backup ledger-backup.sqlite3"`, see README "Upgrading") and run '
        f"`jaicp-pipeline ledger verify`; or, knowing that a new ledger remembers nothing of "
        f"what was sent, move the file aside and start a new one with `jaicp-pipeline upload "
        f"--new-ledger`."
    )


def check_file(engine: Engine, *, full: bool) -> None:
    """Raise :class:`LedgerDamagedError` unless SQLite's own check finds the file sound.

    ``full``: ``PRAGMA integrity_check`` (every page, and every index against its table: about
    3 s per million rows), else ``quick_check`` (the pages only, about 0.4 s per million
    rows). PostgreSQL is not checked here: the server checks its own pages.
    """
    if engine.dialect.name != "sqlite":
        return
    pragma = "integrity_check" if full else "quick_check"
    with engine.connect() as conn:
        # A badly damaged file fails the pragma itself; the engine's hook then raises for it.
        found = [str(text) for text in conn.exec_driver_sql(f"PRAGMA {pragma}").scalars()]
    if found == ["ok"]:
        return
    lines = [line for text in found for line in text.splitlines() if not line.startswith("***")]
    shown = "; ".join(lines[:_SHOWN_LINES])
    if len(lines) > _SHOWN_LINES:
        shown += f"; and {len(lines) - _SHOWN_LINES} more"
    where = _WHERE.get(engine)
    path = (where.shown if where else str(engine.url)).removeprefix("sqlite:///")
    raise LedgerDamagedError(damaged_message(path, f"PRAGMA {pragma}: {shown}"))
