"""``results``: the call outcomes of the ledger's rows, written for the CRM.

Usage::

    import pipeline
    summary = pipeline.results("nightly.yaml", "results.xlsx", run=12, attempts=True,
                               source="export.xlsx")
    summary.lines()
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path

from pipeline.api import CallsApiClient
from pipeline.errors import ConfigError
from pipeline.front.source import ConfigLike, as_config, resolve_token
from pipeline.front.wiring import Clock, Sleep, api_client, jitter, open_ledger_for, sleeper
from pipeline.load.results_run import REPORT_CHUNK, ResultsSummary, local_zone, run_results
from pipeline.load.stop import StopFlag
from pipeline.reports.formats import check_output_path


def parse_since(text: str, zone_name: str | None) -> datetime:
    """A date or date-time; without an offset it is read in the operator's time zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[+03:00]."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone(zone_name))
    return value


def _now() -> datetime:
    return datetime.now(UTC)


def results(
    config: ConfigLike,
    out: str | PathLike[str],
    *,
    run: int | None = None,
    since: datetime | str | None = None,
    attempts: bool = False,
    sent_only: bool = False,
    source: str | PathLike[str] | None = None,
    chunk_size: int = REPORT_CHUNK,
    ledger: str | None = None,
    token: str | None = None,
    client: CallsApiClient | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    control: StopFlag | None = None,
    progress: Callable[[str], None] | None = None,
) -> ResultsSummary:
    """Fetch the call outcomes of the ledger's rows and write one line per source row.

    ``run`` or ``since`` (a datetime, or text like ``2026-11-01`` read in
    ``reports.timezone``) narrow the rows; ``attempts`` also fetches the last attempt's
    result; ``source`` is the uploaded file, to copy its original columns. Transient API
    failures are retried with the ``upload:`` retry settings. ``out``'s suffix names the
    format (.csv .tsv .txt .xlsx .jsonl .json; others: OutputFormatError, exit 2, at once).
    """
    if run is not None and since is not None:
        raise ConfigError("give run (--run) or since (--since), not both")
    check_output_path(Path(out))  # a suffix we cannot write is refused before any request
    cfg = as_config(config)
    secret = resolve_token(token)
    since_at = parse_since(since, cfg.reports.timezone) if isinstance(since, str) else since
    with open_ledger_for(cfg, ledger, must_exist=True) as opened:
        return run_results(
            cfg,
            ledger=opened,
            client=client or api_client(cfg, secret),
            token=secret,
            out=Path(out),
            run_id=run,
            since=since_at,
            attempts=attempts,
            sent_only=sent_only,
            source=None if source is None else Path(source),
            chunk_size=chunk_size,
            progress=progress,
            sleep=sleeper(sleep, control),
            rng=jitter(rng),
            control=control,
            clock=clock or _now,
        )
