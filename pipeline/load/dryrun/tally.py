"""What one dry run found, and the lines ``validate`` prints about it.

Usage::

    summary = ValidateSummary(source_info)
    ...  # the engine counts every chunk into it
    summary = checked(summary, path)        # read == accepted + rejected + duplicate, or a bug
    for line in format_summary(summary):
        print(line)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.records import SourceInfo
from pipeline.reports.zone_preview import zone_preview_lines

TOP_REASONS = 10


@dataclass(slots=True)
class ValidateSummary:
    """What one validate run found; ``read == accepted + rejected + duplicate`` always."""

    source: SourceInfo
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    zones: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, zone) → rows

    # The names the public API documents (``report.rows_read``, ``report.duplicates``).
    @property
    def rows_read(self) -> int:
        """Data rows read from the file (``accepted + rejected + duplicates``)."""
        return self.read

    @property
    def duplicates(self) -> int:
        """Rows that repeat an earlier row of the file."""
        return self.duplicate


def checked(summary: ValidateSummary, path: Path) -> ValidateSummary:
    """``summary`` with zero counts dropped from its reasons, once its accounting holds."""
    summary.reasons = Counter({k: v for k, v in summary.reasons.items() if v})
    if summary.read != summary.accepted + summary.rejected + summary.duplicate:
        raise PipelineError(  # pragma: no cover - the transform accounts for every row
            f"{path}: accounting broke: {summary.read} rows read but {summary.accepted} + "
            f"{summary.rejected} + {summary.duplicate} classified; please report this bug."
        )
    return summary


def format_summary(summary: ValidateSummary) -> list[str]:
    """The lines ``validate`` prints."""
    info = summary.source
    where = (
        f"csv, encoding {info.encoding}, delimiter {info.delimiter!r}"
        if info.format == "csv"
        else f"{info.format}, sheet {info.sheet!r}"
    )
    lines = [
        f"{info.path}: {where}",
        f"rows read {summary.read} = accepted {summary.accepted} + rejected {summary.rejected}"
        f" + duplicate {summary.duplicate}",
    ]
    if summary.reasons:
        lines.append("top reasons:")
        width = max(len(code) for code in summary.reasons)
        for code, count in summary.reasons.most_common(TOP_REASONS):
            lines.append(f"  {code:<{width}}  {count}")
    return lines + zone_preview_lines(summary.zones, summary.reasons)
