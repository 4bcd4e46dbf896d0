"""What one ``upload --inbox`` run did with each file, and its exit code (the worst one).

Usage::

    summary = run_inbox(...)
    for line in summary.lines():
        print(line)
    print(json.dumps(summary.as_dict()))       # --summary-json: one entry per file
    raise SystemExit(summary.exit_code)

An entry's ``status``: ``done`` (moved to ``done/``: every row recorded, none left to send),
``failed`` (moved to ``failed/`` with a note), ``left`` (stays in the inbox: the next run
resumes it from the ledger), ``waiting`` (still being written, or not reached: not taken).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.errors import PipelineError
from pipeline.load.inbox.verdicts import worst
from pipeline.load.upload.summary import UploadSummary

Status = Literal["done", "failed", "left", "waiting"]


@dataclass(slots=True)
class InboxEntry:
    """One file of the inbox and what became of it."""

    name: str
    status: Status
    exit_code: int
    reason: str  # one line: what happened
    sha256: str | None = None
    moved_to: Path | None = None
    note: Path | None = None
    run: UploadSummary | None = None  # None: no upload run (already uploaded, not taken, ...)
    error: PipelineError | None = None  # what ended its run (raised or in the run's summary)

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data (the run's own summary object nested)."""
        return {
            "name": self.name,
            "status": self.status,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "sha256": self.sha256,
            "moved_to": None if self.moved_to is None else str(self.moved_to),
            "note": None if self.note is None else str(self.note),
            "run": None if self.run is None else self.run.as_dict(),
        }


@dataclass(slots=True)
class InboxSummary:
    """Every file an inbox run looked at, in the order it took them."""

    folder: Path
    entries: list[InboxEntry] = field(default_factory=list)
    stopped: PipelineError | None = None  # a stop asked from outside (a signal)
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        """The worst of the files' codes and of the stop's (order: inbox.verdicts.SEVERITY)."""
        codes = [e.exit_code for e in self.entries]
        if self.stopped is not None:
            codes.append(self.stopped.exit_code)
        return worst(codes)

    def count(self, status: Status) -> int:
        """How many files ended with ``status``."""
        return sum(1 for e in self.entries if e.status == status)

    def lines(self) -> list[str]:
        """The plain lines the command prints."""
        out = [
            f"inbox {self.folder}: {self.count('done')} done, {self.count('failed')} failed, "
            f"{self.count('left')} left for the next run, {self.count('waiting')} not taken"
        ]
        for e in self.entries:
            where = f" -> {e.moved_to}" if e.moved_to is not None else ""
            out.append(f"  {e.status:<7} {e.name}: {e.reason}{where}")
            if e.run is not None:
                out.append(f"          {e.run.lines()[0]}")
            if e.note is not None:
                out.append(f"          note: {e.note}")
        if self.stopped is not None:
            out.append(str(self.stopped))
        if not self.entries:
            out.append("nothing to do: no new file in the inbox")
        out.append(
            f"duration {self.duration_s:.2f} s; exit {self.exit_code} (the worst of the files')"
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        """One JSON object: ``{"command", "inbox", "exit_code", "files": [...], ...}``."""
        return {
            "command": "upload",
            "inbox": str(self.folder),
            "exit_code": int(self.exit_code),
            "counts": {s: self.count(s) for s in ("done", "failed", "left", "waiting")},
            "files": [e.as_dict() for e in self.entries],
            "duration_s": round(self.duration_s, 3),
            "error": None if self.stopped is None else str(self.stopped),
        }
