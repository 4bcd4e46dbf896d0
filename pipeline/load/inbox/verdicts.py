"""What an inbox run's exit code is (the worst of its files'), and what a failed file's note says.

Usage::

    worst([0, 3, 8])        # 8
    note_for(entry_name, error, sha256=..., run_id=..., inbox=Path("/srv/exports"))

The order, best to worst (:data:`SEVERITY`): a scheduler acting on the code should see the
outcome that needs the most attention. Work the next run finishes by itself (3) or another run
that was busy (5) needs no one; a file set aside for a person (9 empty, 8 too many rejects,
6 unreadable) does; then failures that stop every file alike (1 unexpected, 4 configuration or
token, 7 a ledger that cannot be trusted); Ctrl-C (130) last, since a person asked for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import EmptyFileError, ExitCode, PipelineError, RejectRatioError

SEVERITY: tuple[int, ...] = (
    ExitCode.OK,
    ExitCode.PENDING,
    ExitCode.LEASE_HELD,
    ExitCode.EMPTY_FILE,
    ExitCode.REJECT_RATIO,
    ExitCode.INPUT,
    ExitCode.FAILED,
    ExitCode.CONFIG,
    ExitCode.VERIFY_FAILED,
    ExitCode.INTERRUPTED,
)


def rank(code: int) -> int:
    """Where ``code`` stands in :data:`SEVERITY` (a code not listed ranks as 1, a failure)."""
    return SEVERITY.index(code if code in SEVERITY else ExitCode.FAILED)


def worst(codes: Iterable[int]) -> int:
    """The worst of ``codes`` (0 when there is none)."""
    return max(codes, key=rank, default=ExitCode.OK)


def _what_to_do(error: PipelineError, inbox: Path) -> str:
    again = f"then move it back into {inbox} (or export it there again): the next run takes it"
    if isinstance(error, RejectRatioError):
        return (
            "check the config's columns.* against the file's header and the rows' reasons "
            "(jaicp-pipeline validate --config CONFIG FILE --rejects rejects.csv); fix the "
            f"config or the export, {again}. If this many rejects are expected, raise "
            "upload.max_reject_ratio."
        )
    if isinstance(error, EmptyFileError):
        return (
            "check that the CRM export ran and selected rows, and export it again into "
            f"{inbox}; set upload.empty_file: warn if empty exports are expected."
        )
    return f"fix what the message above names (or save the export again as CSV/XLSX), {again}."


def note_for(
    name: str,
    error: PipelineError,
    *,
    inbox: Path,
    sha256: str | None,
    run_id: int | None,
    now: datetime | None = None,
) -> str:
    """The note filed beside a failed file: what, why, what to do (no phone, no token)."""
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = [
        f"file: {name}",
        f"failed: {when}, exit {error.exit_code}"
        + (f", ledger run {run_id}" if run_id else "")
        + (f", sha256 {sha256}" if sha256 else ""),
        f"why: {error}",
        f"what to do: {_what_to_do(error, inbox)}",
    ]
    return "\n".join(lines)
