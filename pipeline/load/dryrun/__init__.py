"""The dry run (``validate``): a file read, transformed and counted, nothing sent.

Usage::

    from pipeline.load.dryrun import format_summary, run_validate
    summary = run_validate(cfg, Path("export.csv"), now=datetime.now(UTC),
                           accepted=Path("accepted.csv"), rejects=Path("rejects.csv"),
                           batches=Path("batches/"))      # the exact addPhones bodies
    print("\\n".join(format_summary(summary)))

Rooms: ``dry_run`` (the entry point, how many processes), ``csv_ranges`` (a big CSV in forked
byte ranges), ``xlsx_worker`` (a sheet read by a forked worker), ``merge`` (verdicts settled
in file order, the in-file dedupe), ``writers`` (accepted, rejects and batch files; the
batches cut by the ledger's own ``split_batches``), ``tally`` (the counts and their lines).
It imports neither SQLAlchemy nor the HTTP client unless ``batches`` is asked for.
"""

from pipeline.load.dryrun.dry_run import choose_workers, run_validate, run_validate_rows
from pipeline.load.dryrun.tally import ValidateSummary, format_summary
from pipeline.load.dryrun.writers import accepted_header

__all__ = [
    "ValidateSummary",
    "accepted_header",
    "choose_workers",
    "format_summary",
    "run_validate",
    "run_validate_rows",
]
