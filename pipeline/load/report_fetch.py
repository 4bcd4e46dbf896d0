"""Fetching call job outcomes for ``results``: chunked reports, unknown ids isolated, retries.

* :func:`fetch_outcomes` turns one chunk of (row id, job id) into :class:`Outcome` records from
  ``callJob/getReport`` (and ``callAttempt/getReport`` when asked);
* :func:`fetch_split` isolates ids the server does not know (``id.not.found`` fails the whole
  request) by splitting the chunk in halves;
* :class:`Retrying` retries transient failures (5xx, 429, timeouts, dropped connections) with
  the uploader's :class:`~pipeline.load.retry.RetryPolicy` and run budget. Report requests are
  read-only: repeating one cannot create or change anything.

Usage::

    retrying = Retrying(RetryPolicy.from_config(cfg.upload, rng=random.Random()),
                        Budget(clock, seconds=cfg.upload.run_budget_s), time.sleep)
    outcomes = fetch_outcomes(client, [(row_id, job_id), ...], attempts=True,
                              retrying=retrying)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from pipeline.api import CallAttemptReport, CallJobReport, CallsApiClient, JobStatus
from pipeline.errors import BadRequestError, TransientApiError
from pipeline.ledger import NOT_FOUND, Outcome
from pipeline.load.retry import Budget, RetryPolicy
from pipeline.load.stop import StopFlag

log = logging.getLogger(__name__)
T = TypeVar("T")


class Runner(Protocol):
    """Runs one API request and returns its result (perhaps after retries)."""

    def __call__(self, request: Callable[[], T]) -> T: ...


class Retrying:
    """Runs one report request, retrying transient failures the way the uploader does.

    ``Retrying(policy, budget, time.sleep)(lambda: client.job_report(ids=ids))``. When the
    policy gives up (attempts used, ``Retry-After`` above the cap, run budget spent) the last
    :class:`~pipeline.errors.TransientApiError` is raised: the caller keeps what it stored.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        budget: Budget,
        sleep: Callable[[float], None],
        control: StopFlag | None = None,
    ) -> None:
        self.policy = policy
        self.budget = budget
        self.sleep = sleep
        self.control = control  # once stopped, no retry: its stop error is raised instead
        self.retries = 0

    def __call__(self, request: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return request()
            except TransientApiError as exc:
                wait = self._wait(attempt, exc)
                if wait is None:
                    raise
                log.info("results: report request failed (%s); retrying in %.2f s", exc, wait)
                self.retries += 1
                self.sleep(wait)
                if self.control is not None:
                    self.control.check()

    def _wait(self, attempt: int, exc: TransientApiError) -> float | None:
        wait = self.policy.wait(attempt=attempt, error=exc)
        if wait is None:
            why = (
                f"Retry-After {exc.retry_after:g} s is above upload.retry_after_cap_s"
                if exc.retry_after is not None and attempt < self.policy.max_attempts
                else f"{attempt} attempt(s) used (upload.max_attempts_per_request)"
            )
        elif not self.budget.allows(wait):
            why, wait = "the run budget (upload.run_budget_s) is spent", None
        else:
            return wait
        log.warning(
            "results: giving up on a report request: %s; the outcomes fetched so far are "
            "stored in the ledger; run `jaicp-pipeline results` again later",
            why,
        )
        return None


def _direct(request: Callable[[], T]) -> T:
    return request()


def fetch_split(
    fetch: Callable[[list[str]], list[T]], ids: list[str], missing: set[str]
) -> list[T]:
    """``fetch(ids)``; on ``id.not.found`` split the ids in halves until the unknown are alone."""
    try:
        return fetch(ids)
    except BadRequestError as exc:
        if exc.error_type != "id.not.found":
            raise
        if len(ids) == 1:
            missing.add(ids[0])
            return []
        mid = len(ids) // 2
        return fetch_split(fetch, ids[:mid], missing) + fetch_split(fetch, ids[mid:], missing)


def _status(job: CallJobReport) -> str:
    if job.job_status is JobStatus.OTHER and job.job_status_raw:
        return job.job_status_raw
    return job.job_status.value


def fetch_outcomes(
    client: CallsApiClient,
    chunk: Sequence[tuple[int, str]],
    *,
    attempts: bool,
    retrying: Runner | None = None,
) -> list[Outcome]:
    """The outcomes of one chunk of (row id, job id); ``retrying`` wraps each request."""
    call = retrying or _direct
    ids = [job for _, job in chunk]
    missing: set[str] = set()

    def jobs_of(x: list[str]) -> list[CallJobReport]:
        return call(lambda: client.job_report(ids=x))

    def attempts_of(x: list[str]) -> list[CallAttemptReport]:
        return call(lambda: client.attempt_report(ids=x))

    jobs = {j.call_job_id: j for j in fetch_split(jobs_of, ids, missing)}
    last: dict[str, CallAttemptReport] = {}
    if attempts:
        found = [i for i in ids if i in jobs]
        got = fetch_split(attempts_of, found, set()) if found else []
        for a in sorted(got, key=lambda a: a.attempt_number or 0):
            last[a.call_job_id] = a
    outcomes: list[Outcome] = []
    for row_id, job_id in chunk:
        job = jobs.get(job_id)
        if job is None:
            outcomes.append(Outcome(row_id, job_id, NOT_FOUND, 0, None, None, None, None))
            continue
        attempt = last.get(job_id)
        result = attempt.call_result if attempt else None
        if result is None and isinstance(job.report_data, dict):
            # Without --attempts the bot's own report is the only place a result can be.
            value = job.report_data.get("callResult")
            result = None if value is None else str(value)
        duration = job.call_duration
        if duration is None and attempt is not None:
            duration = attempt.call_duration
        outcomes.append(
            Outcome(
                row_id,
                job_id,
                _status(job),
                job.attempts_count,
                result,
                duration,
                job.finished_at,
                job.report_data,
            )
        )
    return outcomes
