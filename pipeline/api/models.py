"""Typed views of the Calls API replies, tolerant of what the docs disagree on.

Parsing is by hand into slotted dataclasses (no validation framework): the reports of a large
campaign run to many thousands of entries and the uploader parses every ``addPhones`` reply.

* ids become ``str`` (the server sends strings, the docs show numbers);
* timestamps are Unix **milliseconds** (int, numeric string or null): each is kept raw in a
  ``*_ms`` field and parsed into an aware UTC ``datetime`` next to it;
* enum spellings the docs disagree on collapse into one member (``inProgress``/``inProcess`` →
  :attr:`CampaignStatus.RUNNING`, ``cancelledByUser``/``canceled`` →
  :attr:`JobStatus.CANCELLED`); unknown values become ``OTHER`` and the raw text is kept;
* unknown fields are ignored (the whole object stays available as ``raw``).

Usage::

    report = CallJobReport.parse({"callJobId": 5665336642, "phone": 79885851900,
                                  "createdAt": "1691006924166", "jobStatus": "canceled"})
    report.call_job_id == "5665336642"; report.job_status is JobStatus.CANCELLED
    report.created_at == datetime(2023, 8, 2, 20, 8, 44, 166000, tzinfo=UTC)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar


class ResponseShapeError(ValueError):
    """A reply field has a type we cannot interpret (the client turns it into an ApiError)."""


class CampaignStatus(StrEnum):
    """Campaign status; both documented spellings of "running" map to RUNNING."""

    NEW = "new"
    PLANNED = "planned"
    RUNNING = "inProgress"
    PAUSED = "paused"
    FINISHED = "finished"
    DELETED = "deleted"
    OTHER = "other"

    @classmethod
    def parse(cls, raw: object) -> CampaignStatus:
        """Map a status string from the server to a member (unknown → OTHER)."""
        return _CAMPAIGN_STATUS.get(str(raw).strip(), cls.OTHER)


_CAMPAIGN_STATUS = {m.value: m for m in CampaignStatus if m is not CampaignStatus.OTHER}
_CAMPAIGN_STATUS["inProcess"] = CampaignStatus.RUNNING  # the help pages' spelling


class JobStatus(StrEnum):
    """Call job status; ``cancelledByUser`` (OpenAPI) and ``canceled`` (docs) are CANCELLED."""

    PLANNED = "planned"
    IN_PROCESS = "inProcess"
    ON_RETRY = "onRetry"
    LONG_CALL_WITH_RESULT = "longCallWithResult"
    LONG_CALL_WITH_NO_RESULT = "longCallWithNoResult"
    NO_ANSWER = "noAnswer"
    NONEXISTENT_NUMBER = "nonexistentNumber"
    NOT_DONE = "notDone"
    CANCELLED = "cancelledByUser"
    TECHNICAL_ERROR = "technicalError"
    UNKNOWN = "unknown"
    OTHER = "other"

    @classmethod
    def parse(cls, raw: object) -> JobStatus:
        """Map a job status from the server to a member (unknown → OTHER, null → UNKNOWN)."""
        if raw is None:
            return cls.UNKNOWN
        return _JOB_STATUS.get(str(raw), cls.OTHER)

    @property
    def finished(self) -> bool:
        """True when the job will make no more attempts."""
        return self not in _UNFINISHED


_JOB_STATUS = {m.value: m for m in JobStatus if m is not JobStatus.OTHER}
_JOB_STATUS["canceled"] = JobStatus.CANCELLED
_JOB_STATUS["inProgress"] = JobStatus.IN_PROCESS  # tolerate the campaign spelling here too
_UNFINISHED = {JobStatus.PLANNED, JobStatus.IN_PROCESS, JobStatus.ON_RETRY, JobStatus.UNKNOWN}


def parse_id(value: object) -> str:
    """Normalise a call job id (string or number) to ``str``."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ResponseShapeError(f"a call job id must be a string or an integer, got {value!r}")


def parse_ms(value: object) -> int | None:
    """Unix milliseconds from an int, a numeric string or null."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ResponseShapeError(f"a timestamp must be Unix milliseconds, got {value!r}")


def ms_to_datetime(ms: int | None) -> datetime | None:
    """Aware UTC datetime of a Unix-milliseconds value (None stays None)."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _int(value: object, default: int | None = None) -> int | None:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float | str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ResponseShapeError(f"expected an integer, got {value!r}")


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _obj(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ResponseShapeError(f"expected a JSON object, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class CallJobReport:
    """One call job (``callJob/getReport`` and the paginated job reports)."""

    call_job_id: str
    phone: str
    created_at_ms: int | None
    created_at: datetime | None
    attempts_count: int
    job_status: JobStatus
    job_status_raw: str | None
    finished_at_ms: int | None
    finished_at: datetime | None
    call_duration: int | None
    redial_number: int | None
    report_data: Any
    tag_name: str | None
    tag_payload: Any
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: object) -> CallJobReport:
        """Build from one JSON object of the reply."""
        d = _obj(value)
        created, finished = parse_ms(d.get("createdAt")), parse_ms(d.get("finishedAt"))
        status = d.get("jobStatus")
        return cls(
            call_job_id=parse_id(d.get("callJobId")),
            phone=str(d.get("phone", "")),
            created_at_ms=created,
            created_at=ms_to_datetime(created),
            attempts_count=_int(d.get("attemptsCount"), 0) or 0,
            job_status=JobStatus.parse(status),
            job_status_raw=_str_or_none(status),
            finished_at_ms=finished,
            finished_at=ms_to_datetime(finished),
            call_duration=_int(d.get("callDuration")),
            redial_number=_int(d.get("redialNumber")),
            report_data=d.get("reportData"),
            tag_name=_str_or_none(d.get("tagName")),
            tag_payload=d.get("tagPayload"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class CallAttemptReport:
    """One call attempt (``callAttempt/getReport`` and ``callAttempt/getReportByDate``)."""

    call_job_id: str
    phone: str
    attempt_number: int | None
    job_status: JobStatus
    job_status_raw: str | None
    call_result: str | None
    call_duration: int | None
    started_at_ms: int | None
    started_at: datetime | None
    finished_at_ms: int | None
    finished_at: datetime | None
    redial_number: int | None
    report_data: Any
    tag_name: str | None
    tag_payload: Any
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: object) -> CallAttemptReport:
        """Build from one JSON object of the reply."""
        d = _obj(value)
        started, finished = parse_ms(d.get("startedAt")), parse_ms(d.get("finishedAt"))
        status = d.get("jobStatus")
        return cls(
            call_job_id=parse_id(d.get("callJobId")),
            phone=str(d.get("phone", "")),
            attempt_number=_int(d.get("attemptNumber")),
            job_status=JobStatus.parse(status),
            job_status_raw=_str_or_none(status),
            call_result=_str_or_none(d.get("callResult")),
            call_duration=_int(d.get("callDuration")),
            started_at_ms=started,
            started_at=ms_to_datetime(started),
            finished_at_ms=finished,
            finished_at=ms_to_datetime(finished),
            redial_number=_int(d.get("redialNumber")),
            report_data=d.get("reportData"),
            tag_name=_str_or_none(d.get("tagName")),
            tag_payload=d.get("tagPayload"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ShortReport:
    """Campaign counters (units of the two time fields differ between docs and spec)."""

    total_numbers: int
    processed_numbers: int
    used_talking_time: int
    used_asr_seconds: int
    in_process_calls: int
    retry_calls: int

    @classmethod
    def parse(cls, value: object) -> ShortReport:
        """Build from the ``shortReport`` object (missing counters read as 0)."""
        d = _obj(value) if value is not None else {}
        keys = (
            "totalNumbers",
            "processedNumbers",
            "usedTalkingTime",
            "usedAsrSeconds",
            "inProcessCalls",
            "retryCalls",
        )
        return cls(*(_int(d.get(k), 0) or 0 for k in keys))


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """``GET /api/calls/campaign/{token}``: the campaign's settings and counters."""

    id: str
    name: str
    project_name: str | None
    bot_id: str | None
    status: CampaignStatus
    status_raw: str | None
    creation_date_ms: int | None
    creation_date: datetime | None
    start_time_ms: int | None
    start_time: datetime | None
    end_time_ms: int | None
    end_time: datetime | None
    max_simultaneous_calls: int | None
    short_report: ShortReport
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: object) -> CampaignInfo:
        """Build from the reply object."""
        d = _obj(value)
        created, start, end = (parse_ms(d.get(k)) for k in ("creationDate", "startTime", "endTime"))
        status = d.get("status")
        return cls(
            id=parse_id(d.get("id")),
            name=str(d.get("name", "")),
            project_name=_str_or_none(d.get("projectName")),
            bot_id=_str_or_none(d.get("botId")),
            status=CampaignStatus.parse(status),
            status_raw=_str_or_none(status),
            creation_date_ms=created,
            creation_date=ms_to_datetime(created),
            start_time_ms=start,
            start_time=ms_to_datetime(start),
            end_time_ms=end,
            end_time=ms_to_datetime(end),
            max_simultaneous_calls=_int(d.get("maxSimultaneousCalls")),
            short_report=ShortReport.parse(d.get("shortReport")),
            raw=d,
        )


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated report: ``items`` plus the page the server says it returned."""

    items: list[T]
    page: int
    page_size: int

    @classmethod
    def parse(cls, value: object, item: Callable[[object], T], page: int, size: int) -> Page[T]:
        """Build from ``{"items": [...], "pagination": {...}}``; the request's page as default."""
        d = _obj(value)
        items = d.get("items")
        if not isinstance(items, list):
            raise ResponseShapeError("a paginated reply must hold an 'items' array")
        pagination = d.get("pagination")
        p = _obj(pagination) if pagination is not None else {}
        return cls(
            items=[item(x) for x in items],
            page=_int(p.get("page"), page) or 0,
            page_size=_int(p.get("pageSize"), size) or size,
        )
