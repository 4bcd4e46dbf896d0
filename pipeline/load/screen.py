"""The file screen: a file whose rows would mostly be rejected, or that has none, found before
it costs a call (``upload.max_reject_ratio``, exit 8; ``upload.empty_file``, exit 9).

Usage::

    # upload, before the run's first request (the run is recorded with the error's code):
    screen_inputs(cfg, ledger, campaign.id, run_id, snapshots, now=clock())  # RejectRatioError
    # after planning: files without a data row (a warning; EmptyFileError when empty_file: fail)
    empty = empty_inputs(ledger, campaign.id, snapshots)

    # validate, on its own counts (same rule, same message, same exit codes):
    problem = screen_summary(cfg, summary)         # RejectRatioError | EmptyFileError | None
    warning = empty_warning(name) if summary.read == 0 else None

Why a second reading: the ratio is known only once the whole file went through the
transform, and the uploader sends each planned chunk while it plans the next; a file refused
after its first chunk went out would already have called people. So with the limit set, each
file new to the ledger is read through the transform once before anything is planned or
sent (validate's speed: a few seconds per 100,000 rows). A file the ledger already knows
(a resumed run) is not screened again: its rows are in the ledger and will be sent anyway.

What counts as rejected: rows the transform refuses (bad phone, missing field, empty record, …).
Not duplicates (they repeat a good row), not do-not-call suppressions or contact caps (the
list refused them, not the mapping). The share is rejected / data rows read.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Config
from pipeline.errors import EmptyFileError, PipelineError, RejectRatioError
from pipeline.transform import codes

if TYPE_CHECKING:  # validate's verdict (screen_summary) must not load the database code
    from pipeline.extract.snapshot import Snapshot
    from pipeline.ledger import Ledger
    from pipeline.load.dryrun.tally import ValidateSummary

_log = logging.getLogger("pipeline.load")

# Not the mapping's fault: a repeat of a good row, a phone a list refused.
NOT_COUNTED = frozenset({codes.DUPLICATE, codes.SUPPRESSED, codes.CONTACT_CAP})
TOP = 3  # reasons named in the message
HEADER_SHOWN = 8  # header cells named in the message


@dataclass(frozen=True, slots=True)
class FileScreen:
    """What the transform made of one whole file: rows read and reasons of the rejected."""

    name: str
    read: int
    reasons: Counter[str]
    header: tuple[str, ...] = ()

    @property
    def rejected(self) -> int:
        """Rows counted against ``upload.max_reject_ratio`` (see the module doc)."""
        return sum(n for code, n in self.reasons.items() if code not in NOT_COUNTED)

    @property
    def ratio(self) -> float:
        """Share of the rows read that were rejected (0 for a file without rows)."""
        return self.rejected / self.read if self.read else 0.0


def ratio_error(
    screen: FileScreen, limit: float | None, *, dry_run: bool = False
) -> RejectRatioError | None:
    """The error for ``screen`` when its share of rejects is above ``limit`` (None: off)."""
    if limit is None or screen.read == 0 or screen.rejected <= limit * screen.read:
        return None
    top = ", ".join(
        f"{code} {n}"
        for code, n in Counter(
            {c: n for c, n in screen.reasons.items() if c not in NOT_COUNTED}
        ).most_common(TOP)
    )
    header = ", ".join(screen.header[:HEADER_SHOWN]) + (
        ", …" if len(screen.header) > HEADER_SHOWN else ""
    )
    what = "upload would stop before sending anything" if dry_run else "nothing was sent"
    return RejectRatioError(
        f"{screen.name}: {screen.rejected:,} of {screen.read:,} data rows "
        f"({screen.ratio:.1%}) are rejected, more than upload.max_reject_ratio {limit:g} "
        f"({limit:.0%}); {what} (exit 8). Top reasons: {top}. A wrong column mapping "
        f"rejects (nearly) every row: compare columns.* in the config with the file's header "
        f"({header}); see each row's reason with `jaicp-pipeline validate --config CONFIG "
        f"FILE --rejects rejects.csv`. Fix the config or the export and run again, or raise "
        f"upload.max_reject_ratio if this many rejects are expected."
    )


def empty_warning(name: str) -> str:
    """The warning for a file without a data row (upload.empty_file: warn)."""
    return (
        f"{name}: no data rows (a header at most): nothing to send from it. Check that the "
        f"CRM export ran and selected rows (upload.empty_file: fail makes this exit 9)."
    )


def empty_error(names: Sequence[str]) -> EmptyFileError | None:
    """The error for files without a data row under ``upload.empty_file: fail``."""
    if not names:
        return None
    return EmptyFileError(
        f"{', '.join(names)}: no data rows (a header at most) and upload.empty_file is fail "
        f"(exit 9). Check that the CRM export ran and selected rows, then export it again; "
        f"set upload.empty_file: warn if empty files are expected."
    )


def screen_summary(cfg: Config, summary: ValidateSummary) -> PipelineError | None:
    """``validate``'s verdict on its own counts: the error upload would stop with, or None."""
    name = summary.source.path
    if summary.read == 0:
        return empty_error([name]) if cfg.upload.empty_file == "fail" else None
    screen = FileScreen(name, summary.read, summary.reasons, tuple(summary.source.header))
    return ratio_error(screen, cfg.upload.max_reject_ratio, dry_run=True)


def screen_file(cfg: Config, path: Path, *, name: str, now: datetime) -> FileScreen:
    """Read ``path`` (shown as ``name``) through the transform once and count its rejects."""
    from pipeline.collector import gc_paused
    from pipeline.extract import check_structure, is_spreadsheet
    from pipeline.extract.options import ReadOptions
    from pipeline.load.ingest import Ingest

    if not is_spreadsheet(path, name=name):
        # Ingest checks a sheet itself; a CSV's structure is checked before its rows count.
        check_structure(path, ReadOptions.from_config(cfg), name=name)
    reasons: Counter[str] = Counter()
    with gc_paused(), Ingest(cfg, path, now=now, name=name) as ingest:
        for _chunk, result in ingest.results():
            reasons.update(r.code for r in result.rejections)
            reasons[codes.DUPLICATE] += len(result.duplicates)
        return FileScreen(name, ingest.read, reasons, tuple(ingest.info.header))


def screen_inputs(
    cfg: Config,
    ledger: Ledger,
    campaign_id: int,
    run_id: int,
    inputs: Sequence[Snapshot],
    *,
    now: datetime,
) -> None:
    """Refuse the run before its first request when a file new to the ledger is over
    ``upload.max_reject_ratio``; the run is recorded as finished with the error's code.

    Does nothing when the limit is off. Any error met while screening (a missing column,
    a broken file) ends the run the same way, with its own code.
    """
    limit = cfg.upload.max_reject_ratio
    if limit is None:
        return
    try:
        for snap in inputs:
            if ledger.inputs.standing(campaign_id, snap.info.sha256) is not None:
                continue  # known to the ledger: screened (or not) when it was first planned
            screen = screen_file(cfg, snap.path, name=str(snap.source), now=now)
            error = ratio_error(screen, limit)
            if error is not None:
                raise error
    except PipelineError as exc:
        ledger.runs.finish(run_id, exit_status=exc.exit_code)
        raise


def empty_inputs(ledger: Ledger, campaign_id: int, inputs: Sequence[Snapshot]) -> list[str]:
    """Names of the planned files that hold no data row (each logged as a warning)."""
    empty = []
    for snap in inputs:
        standing = ledger.inputs.standing(campaign_id, snap.info.sha256)
        if standing is not None and standing.rows_total == 0:
            _log.warning("%s", empty_warning(str(snap.source)))
            empty.append(str(snap.source))
    return empty
