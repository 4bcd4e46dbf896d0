"""``cancel``: stop the calls of a mistaken upload (or some of them), after looking first.

Usage::

    import pipeline
    summary = pipeline.cancel("nightly.yaml", run=12)          # no question asked
    summary = pipeline.cancel("nightly.yaml", phones=["8 916 123-45-67"],
                              confirm=lambda plan: plan.total < 100)
    summary = pipeline.cancel("nightly.yaml", suppressed=True)  # opted out after being sent

    with pipeline.front.open_cancel("nightly.yaml", file="export.xlsx") as job:
        job.plan.total, job.plan.preview()        # what it would cancel (phones masked)
        summary = job.run()                       # or leave without running: nothing is sent
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.front.source import ConfigLike, as_config, resolve_token
from pipeline.front.wiring import Clock, api_client, open_ledger_for
from pipeline.ledger import Ledger
from pipeline.load.cancel_run import (
    CANCEL_CHUNK,
    CancelPlan,
    CancelSummary,
    normalize_phones,
    plan_cancel,
    run_cancel,
)
from pipeline.load.stop import StopFlag


@dataclass
class Cancellation:
    """A planned cancel on an open ledger: look at ``plan``, then ``run()`` it (or do not)."""

    cfg: Config
    ledger: Ledger
    plan: CancelPlan
    client: Callable[[], CallsApiClient]

    def run(
        self,
        *,
        chunk_size: int = CANCEL_CHUNK,
        progress: Callable[[str], None] | None = None,
        control: StopFlag | None = None,
    ) -> CancelSummary:
        """Send the cancel requests (``chunk_size`` job ids each) and record the outcome."""
        return run_cancel(
            self.cfg,
            self.ledger,
            self.client(),
            self.plan,
            chunk_size=chunk_size,
            progress=progress,
            control=control,
        )


@contextmanager
def open_cancel(
    config: ConfigLike,
    *,
    run: int | None = None,
    file: str | PathLike[str] | None = None,
    phones: Sequence[str] | None = None,
    jobs: Sequence[str] | None = None,
    ledger: str | None = None,
    token: str | None = None,
    client: CallsApiClient | None = None,
    clock: Clock | None = None,
    suppressed: bool = False,
) -> Iterator[Cancellation]:
    """Plan the cancel of exactly one of ``run``, ``file``, ``phones``, ``jobs`` or
    ``suppressed`` (the jobs of phones on the ledger's do-not-call list, queued before they
    were put on it)."""
    chosen = [run is not None, file is not None, bool(phones), bool(jobs), suppressed]
    if sum(chosen) != 1:
        raise ConfigError("choose exactly one of run, file, phones, jobs or suppressed to cancel")
    cfg = as_config(config)
    secret = resolve_token(token)
    with open_ledger_for(cfg, ledger, clock=clock, must_exist=True) as opened:
        plan = plan_cancel(
            opened,
            secret,
            run_id=run,
            file=None if file is None else Path(file),
            phones=normalize_phones(cfg.phone, phones) if phones else None,
            job_ids=list(jobs) if jobs else None,
            suppressed=suppressed,
        )
        yield Cancellation(cfg, opened, plan, lambda: client or api_client(cfg, secret))


def cancel(
    config: ConfigLike,
    *,
    run: int | None = None,
    file: str | PathLike[str] | None = None,
    phones: Sequence[str] | None = None,
    jobs: Sequence[str] | None = None,
    confirm: Callable[[CancelPlan], bool] | None = None,
    chunk_size: int = CANCEL_CHUNK,
    ledger: str | None = None,
    token: str | None = None,
    client: CallsApiClient | None = None,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    control: StopFlag | None = None,
    suppressed: bool = False,
) -> CancelSummary | None:
    """Cancel the call jobs the ledger knows for the selection; None when ``confirm`` says no.

    With nothing left to cancel the summary is empty (``requested == 0``).
    """
    with open_cancel(
        config,
        run=run,
        file=file,
        phones=phones,
        jobs=jobs,
        ledger=ledger,
        token=token,
        client=client,
        clock=clock,
        suppressed=suppressed,
    ) as job:
        if job.plan.total == 0:
            return CancelSummary()
        if confirm is not None and not confirm(job.plan):
            return None
        return job.run(chunk_size=chunk_size, progress=progress, control=control)
