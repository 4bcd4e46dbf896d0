"""Pages people open: the HTML report of a run, and the ledger in Datasette for auditors.

Usage::

    import pipeline
    page = pipeline.write_report("nightly.yaml", out="run.html")          # the latest upload
    page = pipeline.write_report(ledger="sqlite:///ledger.sqlite3", run=12, out="run12.html")
    page.path, page.run_id, page.size

    with pipeline.front.browse_ledger("nightly.yaml", port=8001) as plan:
        subprocess.run(plan.argv)     # datasette on a read-only snapshot, canned queries

The report is one self-contained HTML file (inline CSS and SVG charts, no script, nothing
fetched), created 0600 because it names files and rows. Its data comes from the ledger's
audit queries (:mod:`pipeline.ledger.admin.audit`, :mod:`~pipeline.ledger.admin.run_facts`):
counts are aggregated by the database, listed items are capped at ``limit``, so a
million-row run costs no more memory than a small one. The ledger holds no token, so neither
can the page.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from pipeline.errors import ConfigError, LedgerError
from pipeline.front.ledger_admin import open_audit
from pipeline.front.source import ConfigLike
from pipeline.ledger import utc_now
from pipeline.ledger.admin.browse import (
    DATABASE_NAME,
    datasette_metadata,
    snapshot_sqlite,
    sqlite_path,
)
from pipeline.ledger.admin.run_facts import latest_run, run_facts
from pipeline.private import make_private_dirs
from pipeline.reports.html import render_page
from pipeline.version import __version__

DEFAULT_LIMIT = 100
BROWSE_INSTALL = "pip install 'jaicp-pipeline[browse]'"

__all__ = ["BrowsePlan", "ReportFile", "browse_ledger", "render_report", "write_report"]


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A report written: where, for which run, how many bytes."""

    path: Path
    run_id: int
    size: int


@dataclass(frozen=True, slots=True)
class BrowsePlan:
    """How to start Datasette on the snapshot (``argv``) and where it will answer (``url``)."""

    argv: list[str]
    url: str
    snapshot: Path
    snapshot_size: int


def render_report(
    config: ConfigLike | None = None,
    *,
    ledger: str | None = None,
    run: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[int, str]:
    """``(run_id, html)`` of run ``run`` (default: the latest upload run)."""
    with open_audit(config, ledger=ledger) as audit:
        engine = audit.ledger.store.engine
        run_id = run if run is not None else latest_run(engine, command="upload")
        if run_id is None:
            raise LedgerError(
                "the ledger has no upload run yet: nothing to report. Give --run N for "
                "another kind of run (`ledger runs` lists them)."
            )
        facts = run_facts(engine, run_id, limit=limit)
        return run_id, render_page(facts, generated_at=utc_now(), version=__version__)


def write_report(
    config: ConfigLike | None = None,
    *,
    out: str | PathLike[str] | None = None,
    ledger: str | None = None,
    run: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> ReportFile:
    """Write the report of run ``run`` (default: the latest upload run) to ``out`` (0600;
    default ``run-N.html`` in the current folder).

    Written to a temporary file beside ``out`` and renamed, so a reader never opens half a page.
    """
    run_id, html = render_report(config, ledger=ledger, run=run, limit=limit)
    path = Path(out) if out is not None else Path(f"run-{run_id}.html")
    data = html.encode("utf-8")
    try:
        make_private_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp: 0600 already
                handle.write(data)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report to {path}: {exc.strerror}; choose another --out."
        ) from None
    return ReportFile(path, run_id, len(data))


@contextmanager
def browse_ledger(
    config: ConfigLike | None = None,
    *,
    ledger: str | None = None,
    port: int = 8001,
    host: str = "127.0.0.1",
) -> Iterator[BrowsePlan]:
    """A read-only snapshot of the SQLite ledger and the Datasette command serving it.

    The snapshot and the metadata live in a private temporary folder, removed on exit.
    ConfigError (exit 4) when the ledger is not SQLite or Datasette is not installed.
    """
    with open_audit(config, ledger=ledger) as audit, tempfile.TemporaryDirectory() as folder:
        engine = audit.ledger.store.engine
        sqlite_path(engine)  # a PostgreSQL ledger stops here, before any copying
        if importlib.util.find_spec("datasette") is None:
            raise ConfigError(
                f"ledger browse needs Datasette, an optional extra: {BROWSE_INSTALL} (into "
                f"the same environment as jaicp-pipeline), then run the command again."
            )
        base = Path(folder)  # TemporaryDirectory is created 0700
        snapshot = base / f"{DATABASE_NAME}.sqlite3"
        size = snapshot_sqlite(engine, snapshot)
        metadata = base / "metadata.json"
        meta = datasette_metadata()
        meta["description"] = (
            f"{meta.get('description', '')} Snapshot taken {utc_now():%Y-%m-%d %H:%M:%S} UTC."
        )
        metadata.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        argv = [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "--immutable",
            str(snapshot),
            "--metadata",
            str(metadata),
            "--host",
            host,
            "--port",
            str(port),
            # Audit queries over a big ledger take longer than Datasette's 1 s default.
            "--setting",
            "sql_time_limit_ms",
            "20000",
        ]
        yield BrowsePlan(argv, f"http://{host}:{port}/{DATABASE_NAME}", snapshot, size)
