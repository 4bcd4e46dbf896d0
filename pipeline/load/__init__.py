"""Load: the exactly-once uploader — plan into the ledger, send with retries, reconcile.

Callers outside the package use the front door (``pipeline.upload(...)``, see
:mod:`pipeline.front`), which wires these the same way for every command.

Usage::

    from pipeline.load import run_upload, run_reconcile
    summary = run_upload(cfg, [Path("export.csv")], token=token, ledger=ledger,
                         client=lambda: CallsApiClient.from_config(cfg, token),
                         clock=clock, sleep=time.sleep, rng=random.Random())
    summary.lines(), summary.exit_code

    control = RunControl()      # to stop it from another thread: control.stop(RunStoppedError(..))
    run_upload(..., control=control, sleep=control.sleep)

Rooms (each module's docstring shows its use):

* :mod:`~pipeline.load.upload` — the upload run in its order (``run_upload``), planning a
  file into the ledger, the new-ledger check, progress and the summary;
* :mod:`~pipeline.load.send` — getting frozen batches onto the wire exactly once: the
  dispatcher, flights of requests, one batch's sender, refusals, the crash points;
* ``reconcile_run`` (the ``reconcile`` command) and ``reconcile_lookup`` (an expired batch
  settled by looking its phones up; also a step of every upload);
* ``results_run`` and ``report_fetch`` (the ``results`` command); ``cancel_run`` (``cancel``);
* :mod:`~pipeline.load.dryrun` — the ``validate`` command's engine: forked CSV ranges, the
  XLSX worker, the merge of verdicts in file order, the output writers;
* shared by the commands: ``ingest`` (file → rows, also for ``validate``), ``lease`` (the
  campaign lease kept alive), ``retry`` (when to retry, the run budget), ``stop`` (asking a
  run to stop).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.load.cancel_run import plan_cancel, run_cancel
    from pipeline.load.reconcile_run import run_reconcile
    from pipeline.load.results_run import run_results
    from pipeline.load.send.crash_points import TestHooks
    from pipeline.load.stop import RunControl, StopFlag
    from pipeline.load.upload.run import run_upload
    from pipeline.load.upload.summary import UploadSummary

__all__ = [
    "RunControl",
    "StopFlag",
    "TestHooks",
    "UploadSummary",
    "plan_cancel",
    "run_cancel",
    "run_reconcile",
    "run_results",
    "run_upload",
]

# Imported on first use: `validate` needs only load.ingest, and importing the uploader would pull
# in SQLAlchemy and the HTTP client for nothing (a third of a second on every dry run).
_LAZY = {
    "RunControl": "pipeline.load.stop",
    "StopFlag": "pipeline.load.stop",
    "plan_cancel": "pipeline.load.cancel_run",
    "run_cancel": "pipeline.load.cancel_run",
    "run_reconcile": "pipeline.load.reconcile_run",
    "run_results": "pipeline.load.results_run",
    "TestHooks": "pipeline.load.send.crash_points",
    "run_upload": "pipeline.load.upload.run",
    "UploadSummary": "pipeline.load.upload.summary",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.load' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
