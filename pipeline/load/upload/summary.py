"""The end-of-run summary: rows per state (they add up), batches, retries, time, rate.

Usage::

    summary = run_upload(...)
    for line in summary.lines():
        print(line)
    print(json.dumps(summary.as_dict()))   # --summary-json: counts, files, durations, exit code
    raise SystemExit(summary.exit_code)

``sent`` counts every sent row of this run's files: ``sent_now`` of them this run sent (or saw
sent, when runs share the campaign), ``sent_before`` earlier runs had sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import ExitCode, PipelineError, RunStoppedError


@dataclass(slots=True)
class UploadSummary:
    """What one ``upload`` run did. ``read == sent + rejected + duplicate + pending``.

    The row counts cover the rows of this run's input files; ``pending_campaign`` counts every
    row of the campaign still waiting (earlier files included), which decides exit code 3.
    """

    run_id: int = 0
    read: int = 0
    sent: int = 0
    sent_before: int = 0  # of ``sent``: rows earlier runs had sent (a re-run of the same file)
    rejected: int = 0
    duplicate: int = 0
    pending: int = 0
    pending_campaign: int = 0
    repeats_of_earlier_runs: int = 0
    suppressed: int = 0  # rejected: on a do-not-call list
    contact_capped: int = 0  # rejected: over upload.contact_caps
    batches_confirmed: int = 0
    attempts: int = 0
    retries: int = 0
    reconciled_batches: int = 0
    adopted: int = 0
    refreshed: int = 0
    suspects: int = 0
    duration_s: float = 0.0
    budget_spent: bool = False
    error: PipelineError | None = None
    notes: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (name as given, sha256)

    @property
    def sent_now(self) -> int:
        """Rows of this run's files sent during this run."""
        return self.sent - self.sent_before

    @property
    def exit_code(self) -> int:
        """0 complete; 3 work left for the next run; the error's own code when one stopped it."""
        if self.error is not None:
            return self.error.exit_code
        if self.pending_campaign or self.pending:
            return ExitCode.PENDING
        return ExitCode.OK

    @property
    def rows_per_s(self) -> float:
        """Rows of this run's files settled per second of the run."""
        settled = self.sent_now + self.rejected + self.duplicate
        return settled / self.duration_s if self.duration_s > 0 else 0.0

    def adds_up(self) -> bool:
        """Whether every row read is in exactly one state."""
        return self.read == self.sent + self.rejected + self.duplicate + self.pending

    def lines(self) -> list[str]:
        """The plain lines the ``upload`` command prints."""
        sent = (
            f"sent {self.sent_now} now + {self.sent_before} before"
            if self.sent_before
            else f"sent {self.sent}"
        )
        out = [
            f"run {self.run_id}: rows read {self.read} = {sent} + rejected "
            f"{self.rejected} + duplicate {self.duplicate} + pending {self.pending}",
            f"batches confirmed {self.batches_confirmed}, send attempts {self.attempts}, "
            f"retries {self.retries}",
        ]
        if self.sent_before:
            out.append(
                f"this run sent {self.sent_now} row(s); earlier runs had sent {self.sent_before} "
                f"row(s) of these files"
            )
        if self.repeats_of_earlier_runs:
            out.append(
                f"{self.repeats_of_earlier_runs} duplicate row(s) repeat rows sent by earlier "
                f"runs (upload.repeat_window_s; set upload.allow_repeats to call them again)"
            )
        if self.suppressed or self.contact_capped:
            out.append(
                f"{self.suppressed} rejected row(s) are on a do-not-call list (suppressed), "
                f"{self.contact_capped} over upload.contact_caps (contact_cap)"
            )
        if self.reconciled_batches:
            out.append(
                f"reconciled {self.reconciled_batches} batch(es) with expired keys: "
                f"{self.adopted} job(s) adopted, {self.refreshed} row(s) re-sent under new keys"
                + (
                    f", {self.suspects} suspect duplicate job(s) in the ledger"
                    if self.suspects
                    else ""
                )
            )
        if self.pending_campaign > self.pending:
            out.append(f"{self.pending_campaign} row(s) of this campaign are pending in total")
        out.extend(self.notes)
        out.append(f"duration {self.duration_s:.2f} s, {self.rows_per_s:,.0f} rows/s")
        if isinstance(self.error, RunStoppedError):
            out.append(str(self.error))  # "stopped by SIGTERM: ..., run again (exit 3)"
        elif self.error is not None:
            out.append(f"stopped: {self.error}")
        elif self.exit_code == ExitCode.PENDING:
            why = (
                "the run budget (upload.run_budget_s) was spent"
                if self.budget_spent
                else ("some batches could not be sent now")
            )
            out.append(f"work left for the next run: {why}; run upload again (exit 3)")
        else:
            out.append("complete (exit 0)")
        return out

    def as_dict(self) -> dict[str, Any]:
        """The summary as one JSON-ready object (``--summary-json``); no secrets in it.

        ``{"run_id", "exit_code", "status", "rows": {"read", "sent", "sent_now", "sent_before",
        "rejected", "duplicate", "pending", "pending_campaign"}, "batches": {...},
        "files": [{"name", "sha256"}], "duration_s", "rows_per_s", "error", "notes"}``
        """
        return {
            "command": "upload",
            "run_id": self.run_id,
            "exit_code": int(self.exit_code),
            "rows": {
                "read": self.read,
                "sent": self.sent,
                "sent_now": self.sent_now,
                "sent_before": self.sent_before,
                "rejected": self.rejected,
                "duplicate": self.duplicate,
                "pending": self.pending,
                "pending_campaign": self.pending_campaign,
                "repeats_of_earlier_runs": self.repeats_of_earlier_runs,
            },
            "batches": {
                "confirmed": self.batches_confirmed,
                "attempts": self.attempts,
                "retries": self.retries,
                "reconciled": self.reconciled_batches,
                "adopted": self.adopted,
                "refreshed": self.refreshed,
                "suspects": self.suspects,
            },
            "files": [{"name": name, "sha256": sha} for name, sha in self.files],
            "duration_s": round(self.duration_s, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "budget_spent": self.budget_spent,
            "error": None if self.error is None else str(self.error),
            "notes": list(self.notes),
        }
