"""Opening a ledger database: the file (0600), the connection settings, the migrations.

Usage::

    engine = open_engine("sqlite:///ledger.sqlite3")   # creates the file 0600, migrates to head

SQLite gets WAL (readers do not block the writer), ``synchronous=FULL`` (a commit is on disk
before the request that depends on it is sent), a busy timeout and foreign keys. Every SQLite
transaction starts with ``BEGIN IMMEDIATE`` so two processes never both read and then both try
to upgrade to a write lock (which SQLite answers with an immediate ``SQLITE_BUSY``, ignoring the
busy timeout). PostgreSQL needs none of this: row locks and ``FOR UPDATE`` do the same job.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import LedgerError
from pipeline.redact import redact

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
# Alembic's `context` is module-global: two threads migrating at once would share it.
_MIGRATION_LOCK = threading.Lock()


def alembic_config() -> AlembicConfig:
    """A programmatic Alembic config pointing at the migrations shipped in the package."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _create_private_file(database: str) -> None:
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Create it ourselves with 0600 before SQLite does (SQLite would use 0644 & ~umask); the
    # WAL and shared-memory files SQLite adds later copy the main file's permissions.
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" hook below issues BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Up to 64 MB of page cache per connection (negative = KiB; allocated only as used): the
    # hot part of the phone index of a million-row plan stays in memory while it grows.
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return redact(url.rsplit("@", maxsplit=1)[-1])


def open_engine(url: str, *, migrate: bool = True, must_exist: bool = False) -> Engine:
    """Create the engine for ``url``, creating a SQLite file 0600 and migrating to head.

    ``must_exist`` (audit commands) refuses to create a new, empty SQLite ledger.
    """
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise LedgerError(
            f"ledger URL {url!r} is not a valid SQLAlchemy URL ({exc}); use e.g. "
            f"sqlite:///ledger.sqlite3 or postgresql+psycopg://user@host/db."
        ) from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database not in (None, "", ":memory:"):
        if must_exist and not Path(parsed.database).exists():
            raise LedgerError(
                f"there is no ledger at {parsed.database}; pass the ledger of your uploads "
                f"with --ledger URL or --config CONFIG (ledger.url)."
            )
        _create_private_file(parsed.database)
    engine = sa.create_engine(parsed)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    if migrate:
        try:
            with _MIGRATION_LOCK, engine.begin() as conn:
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            engine.dispose()
            raise LedgerError(
                f"cannot open the ledger at {describe_url(url)}: {exc.__class__.__name__}: "
                f"{redact(str(exc.orig) if hasattr(exc, 'orig') else str(exc))}. Check that the "
                f"database server is running and the URL (--ledger or ledger.url) is right."
            ) from None
    return engine
