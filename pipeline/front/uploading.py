"""``upload`` and ``reconcile`` through the front door: the wiring done once, here.

Usage::

    import pipeline
    summary = pipeline.upload("nightly.yaml", ["export.csv"])      # token from JAICP_TOKEN
    summary.exit_code, summary.sent, summary.pending               # 0 done, 3 work left, ...

    report = pipeline.reconcile("nightly.yaml")
    report.exit_code, report.pending

Every part may be injected (tests, Airflow): ``ledger=`` a URL instead of ``ledger.url``,
``token=``, ``client=`` a factory of :class:`~pipeline.api.CallsApiClient`, ``clock``,
``sleep``, ``rng``, ``control`` (a :class:`~pipeline.load.stop.RunControl` another thread may
stop), ``progress``/``on_progress`` callbacks, ``hooks`` (the crash tests' points; by default
read from the environment once, inert when unset).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import ExitCode, PipelineError
from pipeline.front.source import ConfigLike, as_config, resolve_token
from pipeline.front.wiring import Clock, Sleep, api_client, jitter, open_ledger_for, sleeper
from pipeline.ledger import utc_now
from pipeline.load import TestHooks, run_upload
from pipeline.load.reconcile_lookup import ReconcileCounts
from pipeline.load.reconcile_run import run_reconcile
from pipeline.load.stop import RunControl, StopFlag
from pipeline.load.upload.progress import Progress
from pipeline.load.upload.summary import UploadSummary
from pipeline.reports.notify import post_summary


def upload(
    config: ConfigLike,
    files: Sequence[str | PathLike[str]],
    *,
    ledger: str | None = None,
    token: str | None = None,
    new_ledger: bool = False,
    client: Callable[[], CallsApiClient] | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    control: RunControl | None = None,
    progress: Callable[[str], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    hooks: TestHooks | None = None,
    notify: bool = True,
) -> UploadSummary:
    """Add every good row of ``files`` to the token's campaign exactly once.

    Returns the run's summary (``exit_code``: 0 complete, 3 work left for the next run);
    raises a :class:`~pipeline.errors.PipelineError` for what stops a run before it sends
    (config or token 4, input file 6, lease held 5). With ``notify`` and
    ``notify.webhook_url`` set, the summary is POSTed there whatever the outcome.
    """
    cfg = as_config(config)
    return notified(
        cfg,
        notify,
        lambda: _upload(
            cfg,
            [Path(f) for f in files],
            ledger=ledger,
            token=token,
            new_ledger=new_ledger,
            client=client,
            clock=clock,
            sleep=sleep,
            rng=rng,
            control=control,
            progress=progress,
            on_progress=on_progress,
            hooks=hooks,
        ),
    )


def notified(cfg: Config, notify: bool, run: Callable[[], UploadSummary]) -> UploadSummary:
    """``run()`` one upload and, with ``notify``, POST its outcome to ``notify.webhook_url``:
    the summary, or the error that stopped it before it had one (then re-raised)."""
    try:
        summary = run()
    except PipelineError as exc:
        if notify:
            notify_upload(cfg, None, error=exc)
        raise
    if notify:
        notify_upload(cfg, summary)
    return summary


def _upload(
    cfg: Config,
    files: list[Path],
    *,
    ledger: str | None,
    token: str | None,
    new_ledger: bool,
    client: Callable[[], CallsApiClient] | None,
    clock: Clock | None,
    sleep: Sleep | None,
    rng: random.Random | None,
    control: RunControl | None,
    progress: Callable[[str], None] | None,
    on_progress: Callable[[Progress], None] | None,
    hooks: TestHooks | None,
) -> UploadSummary:
    secret = resolve_token(token)
    hooks = hooks if hooks is not None else TestHooks.from_env()  # read once, at start
    clock = clock or hooks.clock(utc_now)
    with open_ledger_for(cfg, ledger, clock=clock) as opened:
        return run_upload(
            cfg,
            files,
            token=secret,
            ledger=opened,
            client=client or (lambda: api_client(cfg, secret)),
            clock=clock,
            sleep=sleeper(sleep, control),
            rng=jitter(rng),
            progress=progress,
            on_progress=on_progress,
            hooks=hooks,
            control=control,
            new_ledger=new_ledger,
        )


def notify_upload(
    cfg: Config, summary: UploadSummary | None, *, error: BaseException | None = None
) -> bool:
    """POST the run's webhook body (ids and counts only) to ``notify.webhook_url``, if set."""
    if summary is not None and error is None and summary.error is not None:
        error = summary.error
    if summary is not None:
        code = summary.exit_code
    else:
        code = error.exit_code if isinstance(error, PipelineError) else int(ExitCode.FAILED)
    name = type(error).__name__ if error is not None else None
    return post_summary(cfg.notify, webhook_body(summary, exit_code=code, error=name))


def webhook_body(
    summary: UploadSummary | None, *, exit_code: int, error: str | None
) -> dict[str, object]:
    """The webhook body: ids and counts only (no token, no phones, no error text)."""
    body: dict[str, object] = {
        "event": "upload.finished",
        "exit_code": exit_code,
        "error_class": error,
    }
    if summary is not None:
        body.update(
            run_id=summary.run_id,
            # the terminal's first summary line ("rows read 10 = sent 4 now + 6 before + ..."),
            # for receivers that show a text (chat hooks); counts only, like the rest
            text=summary.lines()[0],
            counts={
                "read": summary.read,
                "sent": summary.sent,
                "sent_now": summary.sent_now,  # of sent: by this run
                "sent_before": summary.sent_before,  # of sent: by earlier runs (a re-run)
                "rejected": summary.rejected,
                "duplicate": summary.duplicate,
                "pending": summary.pending,
                "pending_campaign": summary.pending_campaign,
            },
            batches_confirmed=summary.batches_confirmed,
            attempts=summary.attempts,
            retries=summary.retries,
            reconciled_batches=summary.reconciled_batches,
            duration_s=round(summary.duration_s, 3),
            budget_spent=summary.budget_spent,
        )
    return body


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What ``reconcile`` did: the counts, the campaign's pending rows, and why it stopped."""

    counts: ReconcileCounts
    pending: int
    stopped: PipelineError | None = None

    @property
    def exit_code(self) -> int:
        """0 nothing pending; 3 rows left for ``upload``; the stop's code when stopped."""
        if self.stopped is not None:
            return self.stopped.exit_code
        return int(ExitCode.PENDING) if self.pending else int(ExitCode.OK)


def reconcile(
    config: ConfigLike,
    *,
    ledger: str | None = None,
    token: str | None = None,
    client: CallsApiClient | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    control: StopFlag | None = None,
    hooks: TestHooks | None = None,
) -> ReconcileReport:
    """Settle batches whose outcome is unknown and whose key has expired (getReport by phone).

    Rows found on the server are adopted; missing ones are re-batched under new keys for the
    next ``upload``.
    """
    cfg = as_config(config)
    secret = resolve_token(token)
    hooks = hooks if hooks is not None else TestHooks.from_env()
    clock = clock or hooks.clock(utc_now)
    control = control if control is not None else StopFlag()
    with open_ledger_for(cfg, ledger, clock=clock) as opened:
        counts, pending = run_reconcile(
            cfg,
            token=secret,
            ledger=opened,
            client=client or api_client(cfg, secret),
            sleep=sleeper(sleep, control),
            rng=jitter(rng),
            control=control,
        )
    return ReconcileReport(counts, pending, control.stop_error)
