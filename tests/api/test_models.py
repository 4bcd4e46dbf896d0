"""Reply parsing: ids, ms timestamps, both spellings, unknown values and fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.api import (
    AttemptReportFilter,
    CallAttemptReport,
    CallJobReport,
    CampaignInfo,
    CampaignStatus,
    JobReportFilter,
    JobStatus,
    Page,
)
from pipeline.api.models import ResponseShapeError, parse_id, parse_ms

REAL = {  # the real getReport entry quoted in the reference (§3.7)
    "attemptsCount": 0,
    "callDuration": 0,
    "callJobId": "5665336642",
    "createdAt": 1691006924166,
    "finishedAt": None,
    "jobStatus": "planned",
    "phone": "79885851900",
    "redialNumber": None,
    "reportData": None,
    "tagName": None,
    "tagPayload": None,
}


def test_real_job_report_entry() -> None:
    r = CallJobReport.parse(REAL)
    assert r.call_job_id == "5665336642"
    assert r.created_at_ms == 1691006924166
    assert r.created_at == datetime(2023, 8, 2, 20, 8, 44, 166000, tzinfo=UTC)
    assert r.finished_at is None and r.finished_at_ms is None
    assert r.job_status is JobStatus.PLANNED and not r.job_status.finished


def test_numbers_become_strings_and_numeric_strings_parse() -> None:
    r = CallJobReport.parse(
        {**REAL, "callJobId": 12345, "phone": 79110000000, "finishedAt": "1691006930000"}
    )
    assert r.call_job_id == "12345"
    assert r.phone == "79110000000"
    assert r.finished_at_ms == 1691006930000
    assert r.finished_at == datetime(2023, 8, 2, 20, 8, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("canceled", JobStatus.CANCELLED),
        ("cancelledByUser", JobStatus.CANCELLED),
        ("inProcess", JobStatus.IN_PROCESS),
        ("brandNewStatus", JobStatus.OTHER),
        (None, JobStatus.UNKNOWN),
    ],
)
def test_job_status_spellings(raw: str | None, status: JobStatus) -> None:
    r = CallJobReport.parse({**REAL, "jobStatus": raw})
    assert r.job_status is status
    assert r.job_status_raw == raw


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("inProgress", CampaignStatus.RUNNING),
        ("inProcess", CampaignStatus.RUNNING),
        ("paused", CampaignStatus.PAUSED),
        ("new", CampaignStatus.NEW),
        ("archived", CampaignStatus.OTHER),
    ],
)
def test_campaign_status_spellings(raw: str, status: CampaignStatus) -> None:
    assert CampaignStatus.parse(raw) is status


def test_unknown_fields_are_ignored_and_kept_in_raw() -> None:
    r = CallJobReport.parse({**REAL, "somethingNew": [1, 2]})
    assert r.raw["somethingNew"] == [1, 2]


def test_attempt_report() -> None:
    a = CallAttemptReport.parse(
        {
            "callJobId": 7,
            "phone": "79001234567",
            "attemptNumber": 2,
            "jobStatus": "longCallWithResult",
            "callResult": "CALLBACK_REQUEST",
            "callDuration": 42,
            "startedAt": 1700000000000,
            "finishedAt": 1700000042000,
        }
    )
    assert (a.call_job_id, a.attempt_number, a.call_result) == ("7", 2, "CALLBACK_REQUEST")
    assert a.started_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert a.job_status.finished


def test_campaign_info_example() -> None:
    info = CampaignInfo.parse(
        {
            "id": 7056,
            "name": "Reminders",
            "projectName": "example_project-263-Wnu",
            "creationDate": 1691006900000,
            "botId": "263-example_project-263-Wnu-49199",
            "status": "inProgress",
            "startTime": 1691006910000,
            "endTime": None,
            "maxSimultaneousCalls": 5,
            "shortReport": {"totalNumbers": 2, "processedNumbers": 0, "usedTalkingTime": 0},
        }
    )
    assert info.id == "7056"
    assert info.status is CampaignStatus.RUNNING
    assert info.end_time is None
    assert info.short_report.total_numbers == 2
    assert info.short_report.retry_calls == 0  # missing counter reads as 0


@pytest.mark.parametrize("bad", [True, None, 1.5, [], ""])
def test_bad_ids_are_shape_errors(bad: object) -> None:
    with pytest.raises(ResponseShapeError):
        parse_id(bad)


@pytest.mark.parametrize("bad", ["soon", True, {}, 1.5])
def test_bad_timestamps_are_shape_errors(bad: object) -> None:
    with pytest.raises(ResponseShapeError):
        parse_ms(bad)


def test_page_parse_defaults_to_the_request() -> None:
    page = Page.parse({"items": [REAL]}, CallJobReport.parse, 3, 50)
    assert (page.page, page.page_size, len(page.items)) == (3, 50, 1)
    with pytest.raises(ResponseShapeError):
        Page.parse({"pagination": {}}, CallJobReport.parse, 0, 20)


def test_filters_encode_utc_iso() -> None:
    from datetime import timedelta, timezone

    msk = timezone(timedelta(hours=3))
    f = JobReportFilter(created_at_from=datetime(2024, 5, 1, 3, 0, tzinfo=msk))
    assert f.to_json() == {"createdAtFrom": "2024-05-01T00:00:00Z"}
    g = AttemptReportFilter(finished_at_to=datetime(2024, 5, 1, 0, 0, 0, 250000, tzinfo=UTC))
    assert g.to_json() == {"finishedAtTo": "2024-05-01T00:00:00.250Z"}
    with pytest.raises(ValueError, match="no time zone"):
        JobReportFilter(created_at_to=datetime(2024, 5, 1)).to_json()
