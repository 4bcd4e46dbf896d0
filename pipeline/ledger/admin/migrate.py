"""``ledger migrate``: copy a whole ledger into an empty database, then prove the copy.

Usage::

    report = copy_ledger("sqlite:///ledger.sqlite3", "postgresql+psycopg://app@db/jaicp")
    for table in report.tables:
        print(table.name, table.source_rows, table.target_rows, table.matches)
    if not report.verified:      # counts, content digests and `ledger verify` on the target
        raise SystemExit(7)

Made for moving a SQLite ledger to PostgreSQL (several upload hosts), but any two supported
backends work. The source is only read, in one transaction (one consistent snapshot; on SQLite
it holds the write lock meanwhile) — except that a source behind the current schema is first
upgraded the way every command upgrades a ledger it opens (migrations only add); the report
says so. The target must hold no ledger data; it gets the schema from the ledger's own
migrations and then every table of :data:`schema.metadata`, in dependency order with its
primary keys, in ONE transaction, committed only if every table's row count and content digest
match the source (computed through the same column types on both sides). PostgreSQL sequences
are then moved past the copied ids, and ``ledger verify`` runs on the committed copy. Rows
stream in chunks: memory stays flat however large the ledger is.

Database passwords never appear in messages or in the report (see :func:`describe_url`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline.errors import LedgerError
from pipeline.ledger.admin.table_copy import Progress, TableCopier, TableCopy, reset_sequences
from pipeline.ledger.admin.verify import Problem, verify_ledger
from pipeline.ledger.store.engine import alembic_config, describe_url, open_engine
from pipeline.ledger.store.schema import metadata
from pipeline.redact import redact

CHUNK_ROWS = 5_000


@dataclass
class MigrationReport:
    """What :func:`copy_ledger` did. URLs are shown without their passwords."""

    source: str
    target: str
    revision: str  # the schema revision both ledgers have now
    source_upgraded_from: str | None = None  # set when the source had to be migrated first
    tables: list[TableCopy] = field(default_factory=list)
    committed: bool = False  # False: a table differed and the copy was rolled back
    problems: list[Problem] = field(default_factory=list)  # `ledger verify` on the target
    source_problems: list[Problem] = field(default_factory=list)  # only looked at if problems
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def mismatches(self) -> list[TableCopy]:
        return [t for t in self.tables if not t.matches]

    @property
    def verified(self) -> bool:
        return self.committed and not self.mismatches and not self.problems


def _parse(url: str, role: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        # Not shown: where the password sits in a malformed URL cannot be known.
        raise LedgerError(
            f"the {role} URL is not a valid SQLAlchemy URL (not shown, it may hold a password); "
            f"use e.g. sqlite:///ledger.sqlite3 or postgresql+psycopg://user@host/db."
        ) from None


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name the same database (driver, password and spelling aside)."""
    ua, ub = _parse(a, "source"), _parse(b, "target")
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    if ua.get_backend_name() == "sqlite":
        pa, pb = Path(ua.database or ""), Path(ub.database or "")
        if ua.database in (None, "", ":memory:") or ub.database in (None, "", ":memory:"):
            return False  # two in-memory databases are never the same one
        if pa.exists() and pb.exists():
            return pa.samefile(pb)
        return pa.resolve() == pb.resolve()
    host = {None: "localhost", "127.0.0.1": "localhost", "::1": "localhost"}
    return (
        host.get(ua.host, ua.host),
        ua.port or 5432,
        ua.database,
    ) == (host.get(ub.host, ub.host), ub.port or 5432, ub.database)


def copy_ledger(
    source_url: str,
    target_url: str,
    *,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    key_safety_margin_s: float = 3600.0,
) -> MigrationReport:
    """Copy every ledger table from ``source_url`` into the empty ``target_url`` and verify.

    Raises :class:`~pipeline.errors.LedgerError` (nothing written anywhere) when the two URLs
    name one database, a ledger cannot be opened, its schema is newer than this version, or
    the target already holds ledger data. A copy that differs is rolled back and reported
    (``report.committed`` False); check ``report.verified``.
    """
    if same_database(source_url, target_url):
        raise LedgerError(
            f"the source and the target are the same database ({describe_url(target_url)}); "
            f"give --to the URL of a new, empty database."
        )
    started = time.monotonic()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    src = open_engine(source_url, migrate=False, must_exist=True)
    dst: Engine | None = None
    try:
        src_rev = _revision(src, source_url, "source")
        if src_rev is None:
            raise LedgerError(
                f"{describe_url(source_url)} is not a jaicp-pipeline ledger (it has no schema "
                f"version); pass the ledger your uploads use with --ledger or --config."
            )
        dst = open_engine(target_url, migrate=False)
        _revision(dst, target_url, "target")
        _refuse_non_empty(dst, target_url)
        # Only now, with both checked, change any schema: the same upgrades as on every open.
        src.dispose()
        dst.dispose()
        src = open_engine(source_url, must_exist=True)
        dst = open_engine(target_url)
        report = MigrationReport(
            source=describe_url(source_url),
            target=describe_url(target_url),
            revision=head,
            source_upgraded_from=None if src_rev == head else src_rev,
        )
        _copy(src, dst, target_url, report, progress=progress or _quiet, chunk_rows=chunk_rows)
        if report.committed:
            report.problems = verify_ledger(dst, key_safety_margin_s=key_safety_margin_s)
            if report.problems:
                report.source_problems = verify_ledger(src, key_safety_margin_s=key_safety_margin_s)
        report.seconds = time.monotonic() - started
        return report
    finally:
        src.dispose()
        if dst is not None:
            dst.dispose()


def _quiet(_table: str, _done: int, _total: int) -> None:
    return None


def _revision(engine: Engine, url: str, role: str) -> str | None:
    """The ledger's schema revision (None: no ledger yet); refuse one newer than this tool."""
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except LedgerError as exc:  # unreachable or damaged (pipeline.ledger.store.failures)
        raise type(exc)(f"cannot open the {role} ledger: {exc}") from None
    except SQLAlchemyError as exc:
        raise LedgerError(_db_failure(f"cannot open the {role} ledger", url, exc, _REACH)) from None
    if revision is not None:
        known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if revision not in known:
            raise LedgerError(
                f"the {role} ledger at {describe_url(url)} has schema revision {revision}, "
                f"which this version of jaicp-pipeline does not know (written by a newer "
                f"version?); run `ledger migrate` with that newer version."
            )
    return revision


def _refuse_non_empty(engine: Engine, url: str) -> None:
    try:
        with engine.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            filled = _non_empty(conn, [t for t in metadata.sorted_tables if t.name in existing])
    except SQLAlchemyError as exc:
        raise LedgerError(_db_failure("cannot read the target ledger", url, exc, _REACH)) from None
    if filled:
        raise LedgerError(_non_empty_message(url, filled))


def _non_empty(conn: sa.Connection, tables: list[sa.Table]) -> dict[str, int]:
    counts = {
        t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        for t in tables
    }
    return {name: n for name, n in counts.items() if n}


def _non_empty_message(url: str, filled: dict[str, int]) -> str:
    what = ", ".join(f"{name}: {n}" for name, n in filled.items())
    return (
        f"the target ledger at {describe_url(url)} already holds ledger data ({what}); nothing "
        f"was copied or changed. `ledger migrate` only fills an empty database: create a new "
        f"one (e.g. `createdb jaicp_ledger`) and pass its URL with --to."
    )


_REACH = "Check that the database exists, the server is running and the URL is right."


def _db_failure(what: str, url: str, exc: SQLAlchemyError, advice: str) -> str:
    # Only the first line of the driver's message: SQLAlchemy's text adds the statement's
    # parameters and PostgreSQL's DETAIL may quote a failing row, both ledger data (phones).
    lines = str(getattr(exc, "orig", None) or "").strip().splitlines()
    detail = redact(lines[0]) if lines else exc.__class__.__name__
    return f"{what} at {describe_url(url)}: {detail}. {advice}"


def _copy(
    src: Engine,
    dst: Engine,
    target_url: str,
    report: MigrationReport,
    *,
    progress: Progress,
    chunk_rows: int,
) -> None:
    """Copy and compare every table in one target transaction; commit only when all match."""
    tables = list(metadata.sorted_tables)
    with src.connect() as read, dst.connect() as write:
        if src.dialect.name == "postgresql":
            # One snapshot for every table (SQLite: BEGIN IMMEDIATE from the engine does that).
            read.execution_options(isolation_level="REPEATABLE READ")
        try:
            transaction = write.begin()
            if dst.dialect.name == "postgresql":
                # PostgreSQL only: keep writers out of the target until the copy is committed,
                # so the emptiness seen below still holds then (SQLite's BEGIN IMMEDIATE does).
                names = ", ".join(dst.dialect.identifier_preparer.quote(t.name) for t in tables)
                write.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
                write.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            filled = _non_empty(write, tables)
            if filled:
                raise LedgerError(_non_empty_message(target_url, filled))
            copier = TableCopier(read, write, chunk_rows, progress)
            report.tables.extend(copier.copy(table) for table in tables)
            if report.mismatches:
                transaction.rollback()
                return
            if dst.dialect.name == "postgresql":
                reset_sequences(write, tables)
            transaction.commit()
            report.committed = True
        except SQLAlchemyError as exc:
            what = "copying into the target ledger failed (nothing was committed)"
            advice = "The source is unchanged; fix the target database and run it again."
            raise LedgerError(_db_failure(what, target_url, exc, advice)) from None
        finally:
            read.rollback()  # the source was only read
