"""Paths in a config file are relative to the config file, not to the current directory.

Usage::

    cfg = resolve_paths(parse_config(data), base=Path("/etc/jaicp"))
    cfg.ledger.url        # sqlite:////etc/jaicp/ledger.sqlite3 for sqlite:///ledger.sqlite3

Why: cron starts jobs in ``$HOME``, an operator's shell anywhere. A ledger path that followed
the current directory would give the same command two ledgers, and two ledgers do not know
each other's sends (DESIGN invariant 8). The config file is the one place both runs share.
Paths given on the command line (``--ledger``) follow the usual rule for arguments: relative to
the current directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.config.sections import Config

# sqlite[+driver]:///DATABASE[?query] — the only URL form with a local path (SQLAlchemy's).
# Parsed here by hand: only the ledger package talks to SQLAlchemy.
_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?):///(?P<database>[^?]*)(?P<query>\?.*)?$")


def resolve_sqlite_url(url: str, base: Path) -> str:
    """``url`` with a relative (or ``~``) SQLite database path made absolute against ``base``.

    Other URLs, in-memory databases and SQLite URI filenames (``file:…``) come back unchanged.
    """
    match = _SQLITE_URL.match(url)
    if match is None:
        return url  # another backend, or a URL the ledger reports when it opens it
    database = match["database"]
    if database in ("", ":memory:") or database.startswith("file:"):
        return url
    path = Path(database).expanduser()
    if path.is_absolute() and str(path) == database:
        return url
    return f"{match['scheme']}:///{base / path}{match['query'] or ''}"


def resolve_paths(cfg: Config, *, base: Path) -> Config:
    """The config with its relative paths (ledger file, CA bundle) anchored at ``base``."""
    base = base.absolute()
    ledger = cfg.ledger.model_copy(update={"url": resolve_sqlite_url(cfg.ledger.url, base)})
    api = cfg.api
    if api.ca_bundle is not None:
        bundle = api.ca_bundle.expanduser()
        anchored = bundle if bundle.is_absolute() else base / bundle
        api = api.model_copy(update={"ca_bundle": anchored})
    # do-not-call files (suppress.files) too
    files = tuple(str(base / Path(f).expanduser()) for f in cfg.suppress.files)
    suppress = cfg.suppress.model_copy(update={"files": files})
    return cfg.model_copy(update={"ledger": ledger, "api": api, "suppress": suppress})
