"""A read-only copy of a SQLite ledger for Datasette, and the metadata with its canned queries.

Usage::

    snapshot_sqlite(engine, Path(tmp) / "ledger.sqlite3")   # consistent copy, file 0600
    meta = datasette_metadata()          # datasette.yaml beside this module, as a dict

Why a snapshot: Datasette's ``--immutable`` promises SQLite that the file never changes, so it
skips locking and ignores the write-ahead log. The live ledger runs in WAL mode and changes
every night: opened immutable, it would miss the latest commits, and could read a page half
written. The backup API copies one consistent state (readers never block the writer in WAL
mode), and that copy truly never changes.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from pipeline.errors import ConfigError, LedgerError

DATABASE_NAME = "ledger"  # the name the metadata's queries are filed under


def sqlite_path(engine: Engine) -> Path:
    """The file of a SQLite ledger; ConfigError (exit 4) for any other database."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigError(
            f"ledger browse needs a SQLite ledger file; this ledger is on "
            f"{url.get_backend_name()}. Datasette reads SQLite only: browse a PostgreSQL "
            f"ledger with psql or any SQL client, using the queries in "
            f"pipeline/ledger/admin/datasette.yaml (they are plain SQL)."
        )
    return Path(url.database)


def snapshot_sqlite(engine: Engine, dest: Path) -> int:
    """Copy the ledger into ``dest`` (created 0600, single file); returns its size in bytes."""
    source = sqlite_path(engine)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it holds phones
    os.close(fd)
    try:
        with (
            closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(dest)) as copy,
        ):
            src.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file: nothing beside it to read
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot copy the ledger {source} for browsing: {exc}.") from None
    return dest.stat().st_size


def datasette_metadata() -> dict[str, Any]:
    """The packaged Datasette metadata (title, description, canned queries)."""
    text = resources.files("pipeline.ledger.admin").joinpath("datasette.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded
