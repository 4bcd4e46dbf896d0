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

import functools
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from pipeline.errors import LedgerError, LedgerUnavailableError
from pipeline.ledger.store.failures import Where, install
from pipeline.private import make_private_dirs, narrow_file
from pipeline.redact import MASK, redact

log = logging.getLogger("pipeline.ledger")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
_WAL_RETRY_S = 0.01  # between tries of the switch to WAL (see enter_wal)
# Page cache per connection, at most (allocated only as used). Only planning's connection
# fills it: in WAL mode a connection drops its whole cache when another one has committed
# since its last transaction, so the senders' connections (and planning's, between its
# transactions while batches are sent) start nearly empty each time. Within one planning
# transaction the phone index takes random pages; measured on 2 CPUs, inserting 200,000 rows
# into a 1M-row table cost 1.2 CPU-s with 64 MiB, 1.9 s with 16 MiB or 8 MiB. Memory of the
# upload was cut in planning's chunk size instead (pipeline.load.upload.input_planning).
CACHE_KIB = 65_536
MIN_MASKED_PASSWORD = 4  # see _scrub
# The password as written (matched after "scheme://"): after "user:" up to the last "@"
# before the path ...
_AUTHORITY_PASSWORD = re.compile(r"^[^:@/]*:([^/]*)@")
# ... or, when the string is no URL SQLAlchemy can parse, up to the last "@" anywhere.
_ANY_PASSWORD = re.compile(r"^[^:@/]*:(.*)@", re.DOTALL)

# Alembic's `context` is module-global: two threads migrating at once would share it.
_MIGRATION_LOCK = threading.Lock()


# Any fixed 64-bit number no other application on the database uses as an advisory lock id.
_PG_MIGRATION_LOCK_ID = 0x4A41494350  # "JAICP"


def alembic_config() -> AlembicConfig:
    """A programmatic Alembic config pointing at the migrations shipped in the package."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _create_private_file(database: str) -> None:
    path = Path(database)
    if path.exists():
        _narrow(path)
        return
    make_private_dirs(path.parent)
    # Create it ourselves with 0600 before SQLite does (SQLite would use 0644 & ~umask); the
    # WAL and shared-memory files SQLite adds later copy the main file's permissions.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another run created it between our check and our open: it is 0600 too
    try:
        os.fchmod(fd, 0o600)  # open's mode passed through the umask
    finally:
        os.close(fd)


def _narrow(path: Path) -> None:
    """An existing ledger (and its WAL files) wider than 0600 is narrowed, with a warning: it
    holds phone numbers, and a copy restored from a backup or moved by hand may have lost
    its mode."""
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        try:
            old = narrow_file(file)
        except OSError as exc:
            log.warning(
                "the ledger file %s can be read by other users, and its mode cannot be changed "
                "(%s); make it 0600 (chmod 600 %s): it holds phone numbers",
                file,
                exc.strerror or exc,
                file,
            )
            continue
        if old is not None:
            log.warning(
                "the ledger file %s could be read by other users (mode %04o); it is now 0600, "
                "as it holds phone numbers",
                file,
                old,
            )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" hook below issues BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    enter_wal(cursor)
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # negative: KiB
    cursor.close()


def enter_wal(cursor: Any, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """``PRAGMA journal_mode = WAL``, tried again while SQLite answers "database is locked".

    Two processes opening a new ledger file at the same moment (two cron jobs) both switch it
    to WAL; the switch upgrades a lock, and where both hold the lower one SQLite answers one of
    them SQLITE_BUSY at once instead of waiting (busy_timeout does not apply to a lock that
    could deadlock). The other finishes in milliseconds, so a short wait and another try is
    what busy_timeout would have done: ~3 % of simultaneous opens of a new file failed with
    exit 3 before. Gives up after busy_timeout, as any other wait on the file does.
    """
    waited = 0.0
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or str(getattr(exc, "sqlite_errorname", "")).startswith(
                "SQLITE_BUSY"
            )
            if not busy or waited >= BUSY_TIMEOUT_MS / 1000:
                raise
        sleep(_WAL_RETRY_S)
        waited += _WAL_RETRY_S


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def describe_url(url: str) -> str:
    """The URL with its password shown as ``***``, for messages.

    ``describe_url("postgresql+psycopg://app:pw@db/ledger")`` gives
    ``postgresql+psycopg://app:***@db/ledger``. A string SQLAlchemy cannot parse, or parses
    differently from how it reads (an unescaped ``@`` in the password), may still hold a
    password, so everything between ``://`` (or the start) and the last ``@`` is masked:
    ``describe_url("postgresql://app:p@ss@db/l")`` gives ``postgresql://***@db/l``.
    """
    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError):
        parsed = None
    if parsed is not None:
        written = _AUTHORITY_PASSWORD.search(_after_scheme(url))
        if written is None or unquote(written.group(1)) == parsed.password:
            return parsed.render_as_string(hide_password=True)
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" in rest:
        rest = MASK + "@" + rest.rsplit("@", maxsplit=1)[1]
    return redact(scheme + sep + rest)


def _after_scheme(url: str) -> str:
    _scheme, sep, rest = url.partition("://")
    return rest if sep else url


def _passwords(url: str) -> set[str]:
    """Every string that may be the URL's password: as parsed, as written, percent-decoded."""
    found: set[str] = set()
    patterns = [_AUTHORITY_PASSWORD]
    try:
        password = make_url(url).password
    except (SQLAlchemyError, ValueError):
        password = None
        patterns.append(_ANY_PASSWORD)
    if password:
        found.add(str(password))
    for pattern in patterns:
        written = pattern.search(_after_scheme(url))
        if written:
            raw = written.group(1)
            found.update({raw, unquote(raw)})
            # With an unescaped "@" SQLAlchemy takes the password's tail for the host name,
            # which a driver's message then quotes: mask each piece as well.
            found.update(raw.split("@"))
    return {p for p in found if len(p) >= MIN_MASKED_PASSWORD}


def _scrub(text: str, url: str) -> str:
    """``text`` (a driver's or SQLAlchemy's message) with the URL's password masked.

    Drivers may quote their connection string back. A password shorter than
    ``MIN_MASKED_PASSWORD`` characters is left alone: masking every "ab" in a message would
    garble it more than it protects.
    """
    for password in sorted(_passwords(url), key=len, reverse=True):
        for form in (password, quote_plus(password), quote(password, safe="")):
            text = text.replace(form, MASK)
    return redact(text)


def _connect_args(backend: str) -> dict[str, Any]:
    """Session settings that keep one stuck host from blocking the others (PostgreSQL).

    A process frozen or cut off inside a transaction keeps its row locks (the campaign lease
    row, batch rows) until the server ends its session: the server aborts a transaction left
    idle for 5 minutes (far longer than any pause between our own statements), and TCP
    keepalives drop the session of a host that vanished within about a minute and a half.
    """
    if backend != "postgresql":
        return {}
    return {
        "options": "-c idle_in_transaction_session_timeout=300000",
        "keepalives": 1,
        "keepalives_idle": 60,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }


def open_engine(url: str, *, migrate: bool = True, must_exist: bool = False) -> Engine:
    """Create the engine for ``url``, creating a SQLite file 0600 and migrating to head.

    ``must_exist`` (audit commands) refuses to create a new, empty SQLite ledger. Every
    :class:`LedgerError` names the URL with its password masked (:func:`describe_url`); the
    driver's errors of every later statement are translated (:mod:`pipeline.ledger.store.failures`):
    a damaged file or an unreachable database says so, here already when it is found on open.
    """
    shown = describe_url(url)
    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise LedgerError(
            f"ledger URL {shown} is not a valid SQLAlchemy URL ({_scrub(str(exc), url)}); use "
            f"e.g. sqlite:///ledger.sqlite3 or postgresql+psycopg://user@host/db."
        ) from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database not in (None, "", ":memory:"):
        if must_exist and not Path(parsed.database).exists():
            raise LedgerError(
                f"there is no ledger at {parsed.database}; pass the ledger of your uploads "
                f"with --ledger URL or --config CONFIG (ledger.url)."
            )
        try:
            _create_private_file(parsed.database)
        except OSError as exc:
            raise LedgerError(
                f"cannot create the ledger file {parsed.database}: {exc.strerror}; check that "
                f"its directory is writable by this user, or set --ledger / ledger.url."
            ) from None
    try:
        engine = sa.create_engine(parsed, connect_args=_connect_args(parsed.get_backend_name()))
    except (SQLAlchemyError, ImportError) as exc:
        # An unknown dialect or a driver that is not installed (e.g. postgresql+psycopg
        # without the psycopg package).
        raise LedgerError(
            f"cannot use the ledger URL {shown}: {exc.__class__.__name__}: "
            f"{_scrub(str(exc), url)}; use sqlite:///FILE or postgresql+psycopg://… and "
            f"check the driver is installed."
        ) from None
    busy_s = BUSY_TIMEOUT_MS / 1000 if is_sqlite else 0.0
    install(engine, Where(shown, busy_s=busy_s, scrub=functools.partial(_scrub, url=url)))
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    if migrate:
        try:
            with _MIGRATION_LOCK, engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Uploaders on several hosts may open a new ledger at the same moment: the
                    # first migrates, the others wait here and then find it at head. (SQLite's
                    # BEGIN IMMEDIATE already serialises them.) Released at commit.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_ID})")
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except LedgerUnavailableError as exc:
            engine.dispose()
            raise LedgerUnavailableError(f"cannot open the ledger at {shown}: {exc}") from None
        except LedgerError:
            engine.dispose()
            raise
        except SQLAlchemyError as exc:
            engine.dispose()
            detail = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
            raise LedgerError(
                f"cannot open the ledger at {shown}: {exc.__class__.__name__}: "
                f"{_scrub(detail, url)}. Check that the database server is running and the "
                f"URL (--ledger or ledger.url) is right."
            ) from None
    return engine
