"""Load: the exactly-once uploader — plan into the ledger, send with retries, reconcile.

Usage::

    from pipeline.load import run_upload, run_reconcile
    summary = run_upload(cfg, [Path("export.csv")], token=token, ledger=ledger,
                         client=lambda: CallsApiClient.from_config(cfg, token),
                         clock=clock, sleep=time.sleep, rng=random.Random())
    summary.lines(), summary.exit_code

    control = RunControl()      # to stop it from another thread: control.stop(RunStoppedError(..))
    run_upload(..., control=control, sleep=control.sleep)

Modules: :mod:`~pipeline.load.run` (the run's order), :mod:`~pipeline.load.sender` (one batch,
retries, what each reply means), :mod:`~pipeline.load.batches` (freezing, threads),
:mod:`~pipeline.load.reconcile` (expired keys), :mod:`~pipeline.load.planning` and
:mod:`~pipeline.load.ingest` (file → ledger), :mod:`~pipeline.load.hooks` (test hooks),
:mod:`~pipeline.load.stop` (asking a run to stop).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.load.hooks import TestHooks
    from pipeline.load.run import run_upload
    from pipeline.load.sender import RunControl
    from pipeline.load.summary import UploadSummary

__all__ = ["RunControl", "TestHooks", "UploadSummary", "run_upload"]

# Imported on first use: `validate` needs only load.ingest, and importing the uploader would pull
# in SQLAlchemy and the HTTP client for nothing (a third of a second on every dry run).
_LAZY = {
    "RunControl": "pipeline.load.sender",
    "TestHooks": "pipeline.load.hooks",
    "run_upload": "pipeline.load.run",
    "UploadSummary": "pipeline.load.summary",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.load' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
