"""The front door: every command of the tool as one Python call, wired the same way.

Usage::

    import pipeline
    report = pipeline.validate("configs/bitrix24.yaml", "sample_data/bitrix24_export.csv")
    report.rows_read, report.accepted, report.rejected, report.duplicates
    summary = pipeline.upload("nightly.yaml", ["export.csv"])      # token from JAICP_TOKEN
    summary.exit_code, summary.sent, summary.pending

A config is a path or a loaded :class:`~pipeline.config.Config`; ``ledger=`` overrides
``ledger.url``; the token comes from ``$JAICP_TOKEN`` unless ``token=`` is given; the clock,
sleep, client, random source, stop control and progress callbacks may be injected. See
docs/python-api.md.

Rooms: ``source`` (config and token), ``wiring`` (ledger, client, sleep built once),
``checking`` (validate), ``uploading`` (upload, reconcile, the webhook), ``inbox`` (upload
--inbox: a folder's new exports, one run each), ``call_results``
(results), ``cancelling`` (cancel), ``campaign_calls`` (info, status, pause, resume, stop),
``ledger_admin`` (the ledger's audit and admin calls), ``suppressing`` (the do-not-call list),
``draft`` (init: a config drafted from an export).
``reporting`` (the HTML report of a run, the ledger in Datasette).

Names are imported on first use, so ``import pipeline`` and a dry run stay cheap: ``validate``
loads neither SQLAlchemy nor the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # ``X as X``: re-exported on purpose
    from pipeline.api import CallsApiClient as CallsApiClient
    from pipeline.api import CampaignInfo as CampaignInfo
    from pipeline.api import CampaignStatus as CampaignStatus
    from pipeline.api.models import ms_to_datetime as ms_to_datetime
    from pipeline.config import TOKEN_ENV as TOKEN_ENV
    from pipeline.config import Config as Config
    from pipeline.config import campaign_token as campaign_token
    from pipeline.config import load_config as load_config
    from pipeline.config import protect_process as protect_process
    from pipeline.emulator import Emulator as Emulator
    from pipeline.front.call_results import parse_since as parse_since
    from pipeline.front.call_results import results as results
    from pipeline.front.campaign_calls import campaign_info as campaign_info
    from pipeline.front.campaign_calls import campaign_status as campaign_status
    from pipeline.front.campaign_calls import pause_campaign as pause_campaign
    from pipeline.front.campaign_calls import resume_campaign as resume_campaign
    from pipeline.front.campaign_calls import stop_campaign as stop_campaign
    from pipeline.front.cancelling import Cancellation as Cancellation
    from pipeline.front.cancelling import cancel as cancel
    from pipeline.front.cancelling import open_cancel as open_cancel
    from pipeline.front.checking import validate as validate
    from pipeline.front.draft import Draft as Draft
    from pipeline.front.draft import default_output as default_output
    from pipeline.front.draft import init_config as init_config
    from pipeline.front.inbox import upload_inbox as upload_inbox
    from pipeline.front.ledger_admin import Audit as Audit
    from pipeline.front.ledger_admin import migrate_ledger as migrate_ledger
    from pipeline.front.ledger_admin import open_audit as open_audit
    from pipeline.front.ledger_admin import parse_duration as parse_duration
    from pipeline.front.reporting import BrowsePlan as BrowsePlan
    from pipeline.front.reporting import ReportFile as ReportFile
    from pipeline.front.reporting import browse_ledger as browse_ledger
    from pipeline.front.reporting import render_report as render_report
    from pipeline.front.reporting import write_report as write_report
    from pipeline.front.suppressing import DoNotCall as DoNotCall
    from pipeline.front.suppressing import open_suppressions as open_suppressions
    from pipeline.front.uploading import ReconcileReport as ReconcileReport
    from pipeline.front.uploading import notify_upload as notify_upload
    from pipeline.front.uploading import reconcile as reconcile
    from pipeline.front.uploading import upload as upload
    from pipeline.ledger import utc_now as utc_now
    from pipeline.ledger.admin.audit import AuditEvent as AuditEvent
    from pipeline.ledger.admin.audit import RunSummary as RunSummary
    from pipeline.load.cancel_run import CANCEL_CHUNK as CANCEL_CHUNK
    from pipeline.load.cancel_run import CancelPlan as CancelPlan
    from pipeline.load.cancel_run import CancelSummary as CancelSummary
    from pipeline.load.dryrun import ValidateSummary as ValidateSummary
    from pipeline.load.dryrun import format_summary as format_summary
    from pipeline.load.inbox import InboxControl as InboxControl
    from pipeline.load.inbox import InboxSummary as InboxSummary
    from pipeline.load.results_run import REPORT_CHUNK as REPORT_CHUNK
    from pipeline.load.results_run import ResultsSummary as ResultsSummary
    from pipeline.load.screen import empty_warning as empty_warning
    from pipeline.load.screen import screen_summary as screen_summary
    from pipeline.load.send.crash_points import TestHooks as TestHooks
    from pipeline.load.stop import RunControl as RunControl
    from pipeline.load.stop import StopFlag as StopFlag
    from pipeline.load.upload.progress import Progress as Progress
    from pipeline.load.upload.summary import UploadSummary as UploadSummary
    from pipeline.private import make_private_dirs as make_private_dirs
    from pipeline.redact import install_redaction as install_redaction
    from pipeline.redact import redact as redact

# The calls and what they return: the library's API.
_API = {
    "validate": "pipeline.front.checking",
    "upload": "pipeline.front.uploading",
    "upload_inbox": "pipeline.front.inbox",
    "InboxControl": "pipeline.load.inbox",
    "InboxSummary": "pipeline.load.inbox",
    "reconcile": "pipeline.front.uploading",
    "results": "pipeline.front.call_results",
    "cancel": "pipeline.front.cancelling",
    "open_cancel": "pipeline.front.cancelling",
    "campaign_info": "pipeline.front.campaign_calls",
    "campaign_status": "pipeline.front.campaign_calls",
    "pause_campaign": "pipeline.front.campaign_calls",
    "resume_campaign": "pipeline.front.campaign_calls",
    "stop_campaign": "pipeline.front.campaign_calls",
    "open_audit": "pipeline.front.ledger_admin",
    "migrate_ledger": "pipeline.front.ledger_admin",
    "open_suppressions": "pipeline.front.suppressing",
    "write_report": "pipeline.front.reporting",
    "render_report": "pipeline.front.reporting",
    "browse_ledger": "pipeline.front.reporting",
    "ReportFile": "pipeline.front.reporting",
    "BrowsePlan": "pipeline.front.reporting",
    "DoNotCall": "pipeline.front.suppressing",
    "init_config": "pipeline.front.draft",
    "Draft": "pipeline.front.draft",
    "load_config": "pipeline.config",
    "Config": "pipeline.config",
    "ValidateSummary": "pipeline.load.dryrun",
    "UploadSummary": "pipeline.load.upload.summary",
    "ReconcileReport": "pipeline.front.uploading",
    "ResultsSummary": "pipeline.load.results_run",
    "CancelPlan": "pipeline.load.cancel_run",
    "CancelSummary": "pipeline.load.cancel_run",
    "Cancellation": "pipeline.front.cancelling",
    "CampaignInfo": "pipeline.api",
    "CampaignStatus": "pipeline.api",
    "Audit": "pipeline.front.ledger_admin",
    "RunControl": "pipeline.load.stop",
    "StopFlag": "pipeline.load.stop",
    "Progress": "pipeline.load.upload.progress",
}
# What the command-line shell needs besides the calls: defaults, parsing, printing helpers,
# the emulator it starts, the secrets' guards. Not part of __all__.
_SHELL = {
    "AuditEvent": "pipeline.ledger.admin.audit",
    "RunSummary": "pipeline.ledger.admin.audit",
    "CANCEL_CHUNK": "pipeline.load.cancel_run",
    "REPORT_CHUNK": "pipeline.load.results_run",
    "TOKEN_ENV": "pipeline.config",
    "CallsApiClient": "pipeline.api",
    "Emulator": "pipeline.emulator",
    "TestHooks": "pipeline.load.send.crash_points",
    "campaign_token": "pipeline.config",
    "format_summary": "pipeline.load.dryrun",
    "empty_warning": "pipeline.load.screen",
    "screen_summary": "pipeline.load.screen",
    "default_output": "pipeline.front.draft",
    "install_redaction": "pipeline.redact",
    "make_private_dirs": "pipeline.private",
    "ms_to_datetime": "pipeline.api.models",
    "notify_upload": "pipeline.front.uploading",
    "parse_duration": "pipeline.front.ledger_admin",
    "parse_since": "pipeline.front.call_results",
    "protect_process": "pipeline.config",
    "redact": "pipeline.redact",
    "utc_now": "pipeline.ledger",
}

__all__ = [
    "Audit",
    "BrowsePlan",
    "CampaignInfo",
    "CampaignStatus",
    "CancelPlan",
    "CancelSummary",
    "Cancellation",
    "Config",
    "DoNotCall",
    "Draft",
    "InboxControl",
    "InboxSummary",
    "Progress",
    "ReconcileReport",
    "ReportFile",
    "ResultsSummary",
    "RunControl",
    "StopFlag",
    "UploadSummary",
    "ValidateSummary",
    "browse_ledger",
    "campaign_info",
    "campaign_status",
    "cancel",
    "init_config",
    "load_config",
    "migrate_ledger",
    "open_audit",
    "open_cancel",
    "open_suppressions",
    "pause_campaign",
    "reconcile",
    "render_report",
    "results",
    "resume_campaign",
    "stop_campaign",
    "upload",
    "upload_inbox",
    "validate",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name) or _SHELL.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.front' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
