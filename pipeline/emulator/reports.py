"""What the report endpoints and campaign info return, in the vendor's field names.

Timestamps are Unix milliseconds as JSON numbers and ids are strings, as the real service sends
them (reference §1.5); fields the real service sends as ``null`` (``finishedAt`` of an open job,
``redialNumber`` of a first job, ``reportData``, ``tagName``, ``tagPayload``, ``callResult``)
are ``null`` here too rather than left out.

Usage::

    job_report(job, spelling)                     # one CallJobReport
    paginate(items, page=0, size=20)              # {"items": [...], "pagination": {...}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeline.emulator.core import Spelling
from pipeline.emulator.model import Attempt, Campaign, Job
from pipeline.emulator.validate import bad_body, parse_date_time, validate_pagination


def job_report(job: Job, spelling: Spelling) -> dict[str, Any]:
    return {
        "callJobId": job.id,
        "phone": job.phone,
        "createdAt": job.created_at,
        "attemptsCount": len(job.attempts),
        "jobStatus": spelling.job_status(job.status),
        "finishedAt": job.finished_at,
        "callDuration": sum(attempt.duration_s for attempt in job.attempts),
        "redialNumber": job.redial_number,
        "reportData": job.report_data,
        "tagName": None,
        "tagPayload": None,
    }


def attempt_report(job: Job, attempt: Attempt, spelling: Spelling) -> dict[str, Any]:
    return {
        "callJobId": job.id,
        "phone": job.phone,
        "attemptNumber": attempt.number,
        "jobStatus": spelling.job_status(job.status),
        "callResult": attempt.call_result,
        "callDuration": attempt.duration_s,
        "startedAt": attempt.started_at,
        "finishedAt": attempt.finished_at,
        "redialNumber": job.redial_number,
        "reportData": job.report_data,
        "tagName": None,
        "tagPayload": None,
    }


def attempt_reports(jobs: list[Job], spelling: Spelling) -> list[dict[str, Any]]:
    return [attempt_report(job, attempt, spelling) for job in jobs for attempt in job.attempts]


def campaign_info(camp: Campaign, spelling: Spelling) -> dict[str, Any]:
    """``GET /api/calls/campaign/{token}``; shortReport times are seconds (the SPEC's unit)."""
    return {
        "id": camp.id,
        "name": camp.name,
        "projectName": camp.project_name,
        "creationDate": camp.created_at,
        "botId": camp.bot_id,
        "status": spelling.campaign_status(camp.status),
        "startTime": camp.start_time,
        "endTime": camp.end_time,
        "maxSimultaneousCalls": camp.max_simultaneous_calls,
        "shortReport": {
            "totalNumbers": len(camp.jobs),
            "processedNumbers": camp.processed,
            "usedTalkingTime": camp.talk_s,
            # Speech recognition runs while the customer talks, so the same seconds.
            "usedAsrSeconds": camp.talk_s,
            "inProcessCalls": len(camp.calls),
            "retryCalls": camp.retry_calls,
        },
    }


def _bounds(filter_: dict[str, Any], name: str) -> tuple[int | None, int | None]:
    low, high = filter_.get(name + "From"), filter_.get(name + "To")
    return (
        None if low is None else parse_date_time(low, name + "From"),
        None if high is None else parse_date_time(high, name + "To"),
    )


def _inside(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _filter_and_page(body: Any, fields: tuple[str, str]) -> tuple[dict[str, Any], int, int]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_body("the body must be an object with optional 'filter' and 'pagination'")
    filter_ = body.get("filter") or {}
    if not isinstance(filter_, dict):
        raise bad_body("filter must be an object of date-time bounds")
    page, size = validate_pagination(body.get("pagination"))
    return {name: _bounds(filter_, name) for name in fields}, page, size


def paginate(items: Iterator[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    """One page of ``items`` (consumed lazily, so page 0 of a million jobs is cheap)."""
    chosen: list[dict[str, Any]] = []
    skip = page * size
    for index, item in enumerate(items):
        if index >= skip + size:
            break
        if index >= skip:
            chosen.append(item)
    return {"items": chosen, "pagination": {"page": page, "pageSize": size}}


def jobs_by_date(camp: Campaign, body: Any, spelling: Spelling) -> dict[str, Any]:
    bounds, page, size = _filter_and_page(body, ("createdAt", "finishedAt"))
    items = (
        job_report(job, spelling)
        for job in camp.jobs
        if _inside(job.created_at, bounds["createdAt"])
        and _inside(job.finished_at, bounds["finishedAt"])
    )
    return paginate(items, page, size)


def attempts_by_date(camp: Campaign, body: Any, spelling: Spelling) -> dict[str, Any]:
    bounds, page, size = _filter_and_page(body, ("startedAt", "finishedAt"))
    items = (
        attempt_report(job, attempt, spelling)
        for job in camp.jobs
        for attempt in job.attempts
        if _inside(attempt.started_at, bounds["startedAt"])
        and _inside(attempt.finished_at, bounds["finishedAt"])
    )
    return paginate(items, page, size)


def unfinished(camp: Campaign, body: Any, spelling: Spelling) -> dict[str, Any]:
    """``callJob/getUnfinished``: the body is a bare PaginationRequest."""
    if body is not None and not isinstance(body, dict):
        raise bad_body("the body must be a pagination object {page, pageSize}")
    page, size = validate_pagination(body or {})
    items = (job_report(job, spelling) for job in camp.jobs if job.finished_at is None)
    return paginate(items, page, size)


def admin_job(job: Job, spelling: Spelling) -> dict[str, Any]:
    """The admin API's view of a job (contract: /__emulator__/jobs)."""
    return {
        "id": job.id,
        "campaignId": job.campaign_id,
        "phone": job.phone,
        "payload": job.payload,
        "policy": job.policy.as_dict(),
        "createdAt": job.created_at,
        "jobStatus": spelling.job_status(job.status),
        "attemptsCount": len(job.attempts),
        "idempotenceKey": job.idempotence_key,
    }
