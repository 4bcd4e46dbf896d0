"""The end-of-run summary: rows per state (they add up), batches, retries, time, rate.

Usage::

    summary = run_upload(...)
    for line in summary.lines():
        print(line)
    raise SystemExit(summary.exit_code)
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
        settled = self.sent + self.rejected + self.duplicate
        return settled / self.duration_s if self.duration_s > 0 else 0.0

    def adds_up(self) -> bool:
        """Whether every row read is in exactly one state."""
        return self.read == self.sent + self.rejected + self.duplicate + self.pending

    def lines(self) -> list[str]:
        """The plain lines the ``upload`` command prints."""
        out = [
            f"run {self.run_id}: rows read {self.read} = sent {self.sent} + rejected "
            f"{self.rejected} + duplicate {self.duplicate} + pending {self.pending}",
            f"batches confirmed {self.batches_confirmed}, send attempts {self.attempts}, "
            f"retries {self.retries}",
        ]
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
