"""``cancel``: stop the call jobs of a run, a file, some phones or some job ids.

The jobs come from the ledger (sent rows with their job ids), never from guesses on the
server. Each ``callJob/cancel`` request is stored with its idempotence key before it is sent
(``ledger.cancels``); a request a crash left unanswered is sent again first, by
the next ``cancel``. A job that was already in an answered request is not asked for again,
so cancelling the same selection twice finds nothing left the second time.

Usage::

    plan = plan_cancel(ledger, token, run_id=12)            # or file=, phones=, job_ids=
    plan.total, plan.preview()                              # show, ask, then:
    summary = run_cancel(cfg, ledger, client, plan)
    summary.lines()

With ``control`` (a :class:`~pipeline.load.stop.StopFlag`), ``control.stop(error)`` from any
thread ends it before the next request: the run is recorded with the error's exit code and the
error raised; the requests not sent stay stored, and the next ``cancel`` sends them first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.api import CallsApiClient, mask_phone
from pipeline.config import Config, PhoneConfig
from pipeline.errors import ConfigError, LedgerError, PipelineError
from pipeline.extract.snapshot import file_info
from pipeline.ledger import CancelTarget, CancelWork, Ledger, RowSelection
from pipeline.load.stop import StopFlag
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

CANCEL_CHUNK = 200  # job ids per callJob/cancel request


@dataclass
class CancelPlan:
    """What a cancel would do: new targets, plus requests an earlier run left unanswered."""

    campaign_id: int
    targets: list[CancelTarget]
    unfinished: list[CancelWork]

    @property
    def total(self) -> int:
        """Jobs that would be requested."""
        return len(self.targets) + sum(len(w.job_ids) for w in self.unfinished)

    def preview(self, n: int = 5) -> list[str]:
        """The first ``n`` target phones, masked."""
        return [mask_phone(x.phone) for x in self.targets[:n]]


@dataclass
class CancelSummary:
    """What a cancel run did."""

    requests: int = 0
    requested: int = 0
    cancelled: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        return [
            f"cancel: {self.cancelled} of {self.requested} call job(s) cancelled in "
            f"{self.requests} request(s); {self.requested - self.cancelled} had already finished",
            *self.notes,
        ]


def normalize_phones(config: PhoneConfig, raws: Sequence[str]) -> list[str]:
    """Phones as upload stores them; ConfigError names the first that cannot be a phone."""
    norm = PhoneNormalizer(config)
    out: list[str] = []
    for raw in raws:
        value = norm.normalize(raw)
        if isinstance(value, PhoneProblem):
            raise ConfigError(
                f"--phone {mask_phone(raw)}: {value.message} ({value.code}); pass the number "
                f"as it was in the uploaded file."
            )
        out.append(value)
    return out


def _input_ids(ledger: Ledger, campaign_id: int, file: Path) -> list[int]:
    """Inputs of ``file``: by content when it exists here, else by its name."""
    if file.exists():
        ids = ledger.inputs.find(campaign_id, sha256=file_info(file).sha256)
    else:
        ids = ledger.inputs.find(campaign_id, name=file.name)
    if not ids:
        raise LedgerError(
            f"{file} was never uploaded to this campaign (no file with its content or name in "
            f"the ledger); `jaicp-pipeline ledger runs` lists the uploads."
        )
    return ids


def plan_cancel(
    ledger: Ledger,
    token: str,
    *,
    run_id: int | None = None,
    file: Path | None = None,
    phones: Sequence[str] | None = None,
    job_ids: Sequence[str] | None = None,
    suppressed: bool = False,
) -> CancelPlan:
    """Resolve the selection to ledger rows (read-only apart from refreshing expired keys);
    ``suppressed``: the jobs of phones on the ledger's do-not-call list."""
    campaign = ledger.campaigns.ensure(token)
    sel = RowSelection(
        campaign.id,
        run_id=run_id,
        input_ids=_input_ids(ledger, campaign.id, file) if file is not None else None,
        phones=list(phones) if phones else None,
        job_ids=list(job_ids) if job_ids else None,
        suppressed=suppressed,
    )
    return CancelPlan(campaign.id, ledger.cancels.targets(sel), ledger.cancels.open(campaign.id))


def run_cancel(
    cfg: Config,
    ledger: Ledger,
    client: CallsApiClient,
    plan: CancelPlan,
    *,
    chunk_size: int = CANCEL_CHUNK,
    progress: Callable[[str], None] | None = None,
    control: StopFlag | None = None,
) -> CancelSummary:
    """Store the intents, send them, record each reply (see module docstring)."""
    run_id = ledger.runs.start(
        command="cancel", files=[], config_digest=cfg.digest(), campaign_id=plan.campaign_id
    )
    summary = CancelSummary()
    if plan.unfinished:
        summary.notes.append(
            f"{len(plan.unfinished)} request(s) left unanswered by an earlier cancel were sent "
            f"again first"
        )
    status = 1
    try:
        works = plan.unfinished + ledger.cancels.plan(
            plan.campaign_id, run_id, plan.targets, chunk_size=chunk_size
        )
        for work in works:
            if control is not None:
                control.check()
            ledger.cancels.mark_attempt(work.id)
            cancelled = client.cancel_jobs(ids=work.job_ids, idempotence_key=work.request_key)
            record = ledger.cancels.record(work.id, cancelled, run_id=run_id)
            summary.requests += 1
            summary.requested += record.requested
            summary.cancelled += record.cancelled
            if progress:
                progress(f"cancel request {summary.requests} of {len(works)} answered")
        status = 0
    except PipelineError as exc:
        status = exc.exit_code  # 3 (or 130) for a stop or a transient failure: run it again
        raise
    finally:
        ledger.runs.finish(
            run_id,
            exit_status=status,
            stats={"cancel_requested": summary.requested, "cancelled": summary.cancelled},
        )
    return summary
