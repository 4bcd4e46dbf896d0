"""The ledger's audit and admin calls: runs, one run, one phone, verify, export, purge, migrate.

Usage::

    import pipeline
    with pipeline.open_audit("nightly.yaml") as audit:       # or ledger="sqlite:///x.sqlite3"
        audit.runs(limit=10)
        audit.verify()                     # [] when every invariant holds
        audit.export(sys.stdout, run=12)   # CSV of every row, injection-safe
        audit.export_file(Path("rows.xlsx"))   # or .csv (BOM), .tsv, .jsonl, .json
    pipeline.migrate_ledger("nightly.yaml", to="postgresql+psycopg://app@db/jaicp")

A SQLite ledger is checked first (``PRAGMA quick_check``, or whole by ``verify``): no answer
comes from a damaged file (LedgerError, exit 7). The ledger must exist: nothing is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.front.source import ConfigLike, as_config
from pipeline.ledger import Ledger, open_ledger
from pipeline.ledger.admin.audit import (
    AuditEvent,
    PhoneEntry,
    RunReport,
    RunSummary,
    iter_export,
    list_runs,
    phone_history,
    run_events,
    show_run,
)
from pipeline.ledger.admin.migrate import MigrationReport, copy_ledger
from pipeline.ledger.admin.purge import PurgeResult, parse_duration, purge_ledger
from pipeline.ledger.admin.table_copy import Progress
from pipeline.ledger.admin.verify import Problem, verify_ledger
from pipeline.ledger.store.failures import check_file
from pipeline.reports.formats import AUTO, CellKind, choose_format, stream_format
from pipeline.reports.tables import open_output, write_csv

DEFAULT_MARGIN_S = 3600.0  # a ledger given without a config: the config's own default
# The export's numbers and times, typed in XLSX/JSON; ids (row_id, run_id...) stay text.
EXPORT_KINDS: dict[str, CellKind] = {"row": "integer", "sent_at": "datetime"}

__all__ = ["Audit", "migrate_ledger", "open_audit", "parse_duration"]


def _choose(config: ConfigLike | None, ledger: str | None) -> tuple[str, float]:
    cfg: Config | None = None if config is None else as_config(config)
    url = ledger or (cfg.ledger.url if cfg is not None else None)
    if not url:
        raise ConfigError("give the ledger with ledger= (--ledger URL) or a config (--config).")
    return url, cfg.upload.key_safety_margin_s if cfg is not None else DEFAULT_MARGIN_S


class Audit:
    """Read-only questions to an open ledger (and ``purge``, its one writer)."""

    def __init__(self, ledger: Ledger, *, delimiter: str = AUTO) -> None:
        self.ledger = ledger
        self.delimiter = delimiter  # reports.delimiter of the config, if one was given

    def now(self) -> datetime:
        """The ledger clock's time (UTC)."""
        return self.ledger.store.now()

    def runs(self, *, limit: int = 50) -> list[RunSummary]:
        """The latest runs, newest first."""
        return list_runs(self.ledger.store.engine, limit=limit)

    def show(self, run_id: int) -> RunReport:
        """One run: files, rows per state now, batches per state, events."""
        return show_run(self.ledger.store.engine, run_id)

    def events(self, run_id: int, *, limit: int = 50, offset: int = 0) -> list[AuditEvent]:
        """One page of run ``run_id``'s audit events, oldest first (``ledger show RUN``)."""
        return run_events(self.ledger.store.engine, run_id, limit=limit, offset=offset)

    def phone(self, digits: str) -> list[PhoneEntry]:
        """Every row of one number (digits with country code) and its batches."""
        return phone_history(self.ledger.store.engine, digits)

    def verify(self) -> list[Problem]:
        """The ledger's broken invariants (none: an empty list)."""
        store = self.ledger.store
        return verify_ledger(store.engine, key_safety_margin_s=store.key_safety_margin_s)

    def export(self, out: TextIO, *, run: int | None = None) -> int:
        """Write the CSV of every row (of run ``run``) to ``out`` (no BOM: a stream feeds
        pipes); returns the rows written."""
        fmt = stream_format(delimiter=self.delimiter)
        return write_csv(
            out, iter_export(self.ledger.store.engine, run_id=run), delimiter=fmt.delimiter
        )

    def export_file(self, path: Path, *, run: int | None = None) -> int:
        """:meth:`export` into ``path`` in the format its suffix names (.csv with BOM, .tsv,
        .xlsx, .jsonl, .json), created 0600 and complete or absent (it holds phones)."""
        fmt = choose_format(path, delimiter=self.delimiter)
        lines = iter_export(self.ledger.store.engine, run_id=run)
        header = next(lines)
        kinds = [EXPORT_KINDS.get(name, "text") for name in header]
        with open_output(path, header, fmt, kinds=kinds, sheet_title="ledger") as out:
            out.write_rows(lines)
        return out.rows_written

    def purge(self, *, cutoff: datetime, dry_run: bool = False) -> PurgeResult:
        """Drop phones, payloads and report data of the finished rows of runs finished before
        ``cutoff`` (e.g. ``audit.now() - timedelta(days=90)``); ``dry_run``: only count."""
        return purge_ledger(self.ledger.store, cutoff=cutoff, dry_run=dry_run)


@contextmanager
def open_audit(
    config: ConfigLike | None = None, *, ledger: str | None = None, quick_check: bool = True
) -> Iterator[Audit]:
    """The ledger of ``config`` (or at the URL ``ledger``), checked, for audit questions."""
    url, margin = _choose(config, ledger)
    delimiter = as_config(config).reports.delimiter if config is not None else AUTO
    with open_ledger(url, must_exist=True, key_safety_margin_s=margin) as opened:
        if quick_check:
            check_file(opened.store.engine, full=False)
        yield Audit(opened, delimiter=delimiter)


def migrate_ledger(
    config: ConfigLike | None = None,
    *,
    to: str,
    ledger: str | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy the ledger into the empty database ``to`` in one transaction, and verify the copy."""
    url, margin = _choose(config, ledger)
    return copy_ledger(url, to, progress=progress, key_safety_margin_s=margin)
