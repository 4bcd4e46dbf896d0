"""jaicp-pipeline: load CRM phone exports into JAICP call campaigns exactly once.

The library is usable without the CLI; every command is one call (see docs/python-api.md)::

    import pipeline
    report = pipeline.validate("configs/bitrix24.yaml", "sample_data/bitrix24_export.csv")
    report.rows_read, report.accepted, report.rejected, report.duplicates
    summary = pipeline.upload("nightly.yaml", ["export.csv"])      # token from JAICP_TOKEN
    summary.exit_code, summary.sent, summary.pending
    inbox = pipeline.upload_inbox("nightly.yaml", "/srv/exports")   # each new file, done/failed

    pipeline.reconcile(cfg); pipeline.results(cfg, "results.xlsx", run=12)
    pipeline.cancel(cfg, run=12); pipeline.campaign_status(cfg)
    pipeline.init_config("export.xlsx", "reminders.yaml")   # a commented config drafted from it
    with pipeline.open_audit(cfg) as audit: audit.verify()
    with pipeline.open_suppressions(cfg) as dnc: dnc.add(["8 916 123-45-67"], reason="asked")
    pipeline.write_report(cfg, out="run.html")     # the latest upload run as one HTML page

A config is a path or a loaded :class:`~pipeline.config.Config` (``pipeline.load_config``).
The names are imported on first use (:mod:`pipeline.front`), so ``import pipeline`` is cheap.
"""

from __future__ import annotations

from pipeline.version import __version__

# Not typing's: `import pipeline` stays a few hundred microseconds (type checkers know the name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pipeline.front import (
        Config,
        InboxSummary,
        ReconcileReport,
        UploadSummary,
        ValidateSummary,
        campaign_info,
        campaign_status,
        cancel,
        init_config,
        load_config,
        migrate_ledger,
        open_audit,
        open_suppressions,
        pause_campaign,
        reconcile,
        results,
        resume_campaign,
        stop_campaign,
        upload,
        upload_inbox,
        validate,
        write_report,
    )


__all__ = [
    "Config",
    "InboxSummary",
    "ReconcileReport",
    "UploadSummary",
    "ValidateSummary",
    "__version__",
    "campaign_info",
    "campaign_status",
    "cancel",
    "init_config",
    "load_config",
    "migrate_ledger",
    "open_audit",
    "open_suppressions",
    "pause_campaign",
    "reconcile",
    "results",
    "resume_campaign",
    "stop_campaign",
    "upload",
    "upload_inbox",
    "validate",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import pipeline.front

        return getattr(pipeline.front, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
