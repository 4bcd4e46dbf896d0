"""``results``: fetch the call outcomes of the ledger's sent rows, store them, write the file.

1. Select rows (a run's files, rows planned since a date, or the whole campaign).
2. Fetch ``callJob/getReport`` (and ``callAttempt/getReport`` with ``attempts=True``) for the
   sent rows in chunks of ``chunk_size`` ids; a chunk the server refuses with
   ``id.not.found`` is split in halves until the unknown ids are isolated (they are stored
   with status ``not_found``, the rest of the chunk is not lost). Transient failures (5xx,
   429, timeouts, dropped connections) are retried with the uploader's policy
   (``upload.max_attempts_per_request``, backoff with jitter, ``Retry-After`` honoured up
   to ``upload.retry_after_cap_s``, all within ``upload.run_budget_s``); the reports are
   read-only, so a retry cannot do harm. Each chunk's outcomes are stored in the ledger in one
   transaction, so a fetch that gives up (exit 3) keeps what it got.
3. Write one line per row of the selection (rejected, duplicate and pending rows too, with
   their state and reason, so the CRM sees every row it exported; ``sent_only`` leaves them
   out). The original cells come from ``source`` when its sha256 matches one of the selected
   files, else the payload fields the ledger stored stand in for them.

Usage::

    summary = run_results(cfg, ledger=ledger, client=client, token=token,
                          out=Path("results.xlsx"), run_id=12, attempts=True)
    summary.lines()

Clock, sleep and random generator of the retries may be injected (``clock=``, ``sleep=``,
``rng=``), like :func:`pipeline.load.upload.run.run_upload`'s. With ``control`` (a
:class:`~pipeline.load.stop.StopFlag`; pass its ``sleep`` too), ``control.stop(error)`` from
any thread ends it before the next request: the outcomes stored so far stay, no file is
written, and the run is recorded with the error's exit code.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import LedgerError, PipelineError
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.snapshot import file_info
from pipeline.ledger import Ledger, Outcome, ResultRow, RowSelection
from pipeline.load.report_fetch import Retrying, fetch_outcomes
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.stop import StopFlag
from pipeline.records import SourceInfo
from pipeline.reports.formats import PAYLOAD_KINDS, CellKind
from pipeline.reports.results import PAYLOAD_PREFIX, ResultFields, ResultsWriter

log = logging.getLogger("pipeline.load.results")  # the name logs show; kept when the module moved
REPORT_CHUNK = 200  # ids per getReport request: small bodies, few requests


@dataclass
class ResultsSummary:
    """What a ``results`` run did."""

    path: Path
    rows_written: int = 0
    jobs_fetched: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    source_used: str | None = None
    retries: int = 0
    opted_out: int = 0  # phones put on the do-not-call list by suppress.opt_out_results
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        out = [
            f"results: {self.rows_written} row(s) written to {self.path}; "
            f"{self.jobs_fetched} call job report(s) fetched",
            "rows by state: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.states.items())) or "none"),
        ]
        if self.statuses:
            out.append(
                "jobs by status: " + ", ".join(f"{k} {v}" for k, v in self.statuses.most_common())
            )
        if self.opted_out:
            out.append(
                f"{self.opted_out} phone(s) put on the do-not-call list: their call result is "
                f"one of suppress.opt_out_results"
            )
        if self.retries:
            out.append(f"{self.retries} report request(s) retried after a transient failure")
        out.extend(self.notes)
        return out


def local_zone(name: str | None) -> tzinfo:
    """The configured zone, or the machine's local zone (what the operator's clock shows)."""
    if name:
        return ZoneInfo(name)
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def _check_run(ledger: Ledger, campaign_id: int, run_id: int) -> None:
    if not ledger.runs.exists(run_id):
        raise LedgerError(
            f"run {run_id} is not in the ledger of campaign {campaign_id}; "
            f"`jaicp-pipeline ledger runs` lists the runs."
        )


class _SourceCells:
    """Forward-only cursor over a source file's rows (results come in row order)."""

    def __init__(self, rows: Iterator[tuple[int, list[str]]]) -> None:
        self._rows = rows
        self._current: tuple[int, list[str]] | None = None

    def get(self, number: int) -> list[str]:
        while self._current is None or self._current[0] < number:
            nxt = next(self._rows, None)
            if nxt is None:
                return []
            self._current = nxt
        return self._current[1] if self._current[0] == number else []


def _iter_source(cfg: Config, path: Path) -> Iterator[tuple[int, list[str]]]:
    with open_table(path, ReadOptions.from_config(cfg)) as table:
        for chunk in table.chunks():
            yield from zip(chunk.row_numbers, chunk.rows, strict=True)


def run_results(
    cfg: Config,
    *,
    ledger: Ledger,
    client: CallsApiClient,
    token: str,
    out: Path,
    run_id: int | None = None,
    since: datetime | None = None,
    attempts: bool = False,
    sent_only: bool = False,
    source: Path | None = None,
    chunk_size: int = REPORT_CHUNK,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    control: StopFlag | None = None,
) -> ResultsSummary:
    """Fetch, store and write the results of a selection (see module docstring)."""
    retrying = Retrying(
        RetryPolicy.from_config(cfg.upload, rng=rng or random.Random()),  # noqa: S311 - jitter
        Budget(clock, seconds=cfg.upload.run_budget_s),
        sleep,
        control,
    )
    campaign = ledger.campaigns.ensure(token)
    if run_id is not None:
        _check_run(ledger, campaign.id, run_id)
    sel = RowSelection(campaign.id, run_id=run_id, since=since)
    own_run = ledger.runs.start(
        command="results", files=[], config_digest=cfg.digest(), campaign_id=campaign.id
    )
    summary = ResultsSummary(out)
    status = 1
    try:
        jobs = ledger.outcomes.sent_jobs(sel)
        for start in range(0, len(jobs), chunk_size):
            if control is not None:
                control.check()
            chunk = jobs[start : start + chunk_size]
            outcomes = fetch_outcomes(client, chunk, attempts=attempts, retrying=retrying)
            ledger.outcomes.record(outcomes)
            summary.opted_out += _opt_out(cfg, ledger, outcomes, own_run)
            summary.jobs_fetched += len(outcomes)
            summary.retries = retrying.retries
            if progress:
                progress(f"fetched {summary.jobs_fetched} of {len(jobs)} call job report(s)")
        _write(cfg, ledger, sel, summary, sent_only=sent_only, source=source)
        status = 0
    except PipelineError as exc:
        status = exc.exit_code  # 3 for a transient failure: the run's record says "run again"
        raise
    finally:
        ledger.runs.finish(
            own_run, exit_status=status, stats={"results_rows": summary.rows_written}
        )
    return summary


def _opt_out(cfg: Config, ledger: Ledger, outcomes: Sequence[Outcome], run_id: int) -> int:
    """Put the phones whose call result says "do not call me" on the ledger's list."""
    wanted = frozenset(cfg.suppress.opt_out_results)
    opted = [(o.row_id, o.job_id) for o in outcomes if o.call_result in wanted]
    if not opted:
        return 0
    return ledger.suppressions.opt_out(
        opted, by=f"results run {run_id}", reason="call result in suppress.opt_out_results"
    )


def _write(
    cfg: Config,
    ledger: Ledger,
    sel: RowSelection,
    summary: ResultsSummary,
    *,
    sent_only: bool,
    source: Path | None,
) -> None:
    payload_keys: dict[str, None] = {}
    report_keys: dict[str, None] = {}
    phone_column = False  # some number came from a listed phone column other than the first
    # A first pass learns the columns (payload fields, reportData keys) before the header.
    for line in ledger.outcomes.iter_results(sel, sent_only=sent_only):
        payload_keys.update(dict.fromkeys(line.payload))
        phone_column = phone_column or line.phone_column is not None
        data = line.outcome.report_data if line.outcome else None
        if isinstance(data, dict):
            report_keys.update(dict.fromkeys(str(k) for k in data))
        elif data is not None:
            report_keys[""] = None
    source_input = (
        ledger.outcomes.source_input(sel, file_info(source).sha256) if source is not None else None
    )
    if source is not None and source_input is None:
        summary.notes.append(
            f"{source}: its content matches none of the selected uploads (changed since, or "
            f"another file); payload fields were written instead of the original columns"
        )
        log.warning("results: %s does not match the uploaded files", source)
    info: SourceInfo | None = None
    leading_kinds: list[CellKind] = []  # the source's own cells are copied as text
    if source is not None and source_input is not None:
        with open_table(source, ReadOptions.from_config(cfg)) as table:
            info = table.info
            leading = list(info.header)
        cursor: _SourceCells | None = _SourceCells(_iter_source(cfg, source))
        summary.source_used = str(source)
    else:
        leading = [PAYLOAD_PREFIX + k for k in payload_keys]
        types = {name: f.type for name, f in cfg.columns.payload_fields().items()}
        leading_kinds = [PAYLOAD_KINDS.get(types.get(k, ""), "text") for k in payload_keys]
        cursor = None
    with ResultsWriter(
        summary.path,
        leading=leading,
        report_keys=list(report_keys),
        tz=local_zone(cfg.reports.timezone),
        leading_kinds=leading_kinds,
        delimiter=cfg.reports.delimiter,
        source=info,
        phone_column=phone_column,
    ) as writer:
        for line in ledger.outcomes.iter_results(sel, sent_only=sent_only):
            if cursor is not None:
                cells = cursor.get(line.row_number) if line.input_id == source_input else []
            else:
                cells = [_payload_text(line.payload.get(k)) for k in payload_keys]
            writer.write(cells, _fields(line))
            summary.states[line.state] += 1
            if line.outcome:
                summary.statuses[line.outcome.job_status] += 1
        summary.rows_written = writer.rows_written


def _payload_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fields(line: ResultRow) -> ResultFields:
    o = line.outcome
    return ResultFields(
        file=line.file,
        row=line.row_number,
        phone=line.phone,
        state=line.state,
        reason=line.reason or line.reason_code,
        duplicate_of=line.duplicate_of_row,
        job_id=line.job_id,
        job_status=o.job_status if o else None,
        attempts=o.attempts if o else None,
        call_result=o.call_result if o else None,
        call_duration_s=o.call_duration_s if o else None,
        finished_at=o.finished_at if o else None,
        fetched_at=o.fetched_at if o else None,
        report_data=o.report_data if o else None,
        phone_column=line.phone_column,
    )
