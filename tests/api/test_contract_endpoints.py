"""Every endpoint of the client against the emulator, over a real socket."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.api import (
    AttemptReportFilter,
    CallsApiClient,
    CampaignStatus,
    JobReportFilter,
    JobStatus,
)
from pipeline.errors import BadRequestError, CampaignStateError, InvalidTokenError
from tests.api.conftest import logged
from tests.conftest import random_token

PHONES = ["79001230001", "79001230002", "79001230003"]


def add_three(client: CallsApiClient) -> list[str]:
    return client.add_phones([{"phone": p, "payload": {"n": i}} for i, p in enumerate(PHONES)])


def test_add_phones_creates_one_job_per_item_in_order(
    client: CallsApiClient, emulator: Any, campaign: dict[str, Any]
) -> None:
    ids = add_three(client)
    assert len(ids) == 3 and all(isinstance(i, str) for i in ids)
    jobs = {j["id"]: j for j in emulator.jobs(campaign["id"])}
    assert [jobs[i]["phone"] for i in ids] == PHONES
    assert jobs[ids[1]]["payload"] == {"n": 1}


def test_add_phones_sends_int_phones_as_strings(client: CallsApiClient, emulator: Any) -> None:
    [job_id] = client.add_phones([{"phone": 79001230009}])
    assert client.job_report(ids=[job_id])[0].phone == "79001230009"


def test_add_phones_body_sends_the_stored_bytes(client: CallsApiClient, emulator: Any) -> None:
    body = b'[{"phone":"79001230004"}]'
    [job_id] = client.add_phones_body(body, idempotence_key="stored-1")
    [entry] = logged(emulator, "stored-1", 1)
    assert entry["bodySha256"] == hashlib.sha256(body).hexdigest()
    assert entry["method"] == "POST"
    assert job_id


def test_crm_add_phone_get_post_and_test(client: CallsApiClient, emulator: Any) -> None:
    first = client.add_phone("79001230005", gmt_zone="+03:00", payload={"name": "Anna"})
    jobs = {j["id"]: j for j in emulator.jobs()}
    assert jobs[first]["payload"] == {"name": "Anna"}  # phone and gmtZone are not payload
    second = client.add_phone_post("79001230006", payload={"name": "Boris"})
    jobs = {j["id"]: j for j in emulator.jobs()}
    assert (jobs[second]["phone"], jobs[second]["payload"]) == ("79001230006", {"name": "Boris"})
    # the same number and payload again within 24 h: refused by GET, allowed by test/addPhone
    with pytest.raises(BadRequestError) as info:
        client.add_phone("79001230005", gmt_zone="+03:00", payload={"name": "Anna"})
    assert info.value.error_type == "phone.duplicated"
    again = client.test_add_phone("79001230005", payload={"name": "Anna"})
    assert again not in (first, second)


def test_crm_add_phone_idempotence_key_is_a_query_parameter(
    client: CallsApiClient, emulator: Any
) -> None:
    first = client.add_phone("79001230007", idempotence_key="crm-k")
    assert client.add_phone("79001230007", idempotence_key="crm-k") == first
    entries = logged(emulator, "crm-k", 2)
    assert [r["replayed"] for r in entries] == [False, True]
    assert all(r["method"] == "GET" for r in entries)


def test_cancel_and_reports(client: CallsApiClient, emulator: Any) -> None:
    ids = add_three(client)
    cancelled = client.cancel_jobs(ids=[ids[0]], phones=[PHONES[1]])
    assert sorted(cancelled) == sorted(ids[:2])
    reports = {r.call_job_id: r for r in client.job_report(ids=ids)}
    assert reports[ids[0]].job_status is JobStatus.CANCELLED
    assert reports[ids[1]].job_status is JobStatus.CANCELLED
    assert reports[ids[2]].job_status is JobStatus.PLANNED
    created = reports[ids[2]].created_at
    assert created is not None and created.tzinfo is UTC
    by_phone = client.job_report(phones=[PHONES[2]])
    assert [r.call_job_id for r in by_phone] == [ids[2]]


def test_dialing_shows_in_attempt_and_date_reports(client: CallsApiClient, emulator: Any) -> None:
    ids = add_three(client)
    emulator.advance(3600)
    attempts = client.attempt_report(ids=ids)
    assert attempts, "the dialer made no attempt in an hour"
    assert {a.call_job_id for a in attempts} <= set(ids)
    assert all(a.attempt_number is not None and a.started_at is not None for a in attempts)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    page = client.job_report_by_date(JobReportFilter(created_at_from=since), page=0, page_size=2)
    assert (page.page, page.page_size, len(page.items)) == (0, 2, 2)
    rest = client.job_report_by_date(JobReportFilter(created_at_from=since), page=1, page_size=2)
    assert {r.call_job_id for r in page.items + rest.items} == set(ids)
    a_page = client.attempt_report_by_date(AttemptReportFilter(started_at_from=since))
    assert {a.call_job_id for a in a_page.items} == {a.call_job_id for a in attempts}
    future = datetime.now(UTC) + timedelta(days=3650)
    empty = client.job_report_by_date(JobReportFilter(created_at_from=future))
    assert empty.items == []


def test_unfinished_jobs(client: CallsApiClient) -> None:
    ids = add_three(client)
    client.cancel_jobs(ids=[ids[0]])
    unfinished = client.unfinished_jobs(page=0, page_size=200)
    assert {r.call_job_id for r in unfinished.items} == set(ids[1:])
    assert all(r.finished_at is None for r in unfinished.items)


def test_campaign_info_status_and_control(client: CallsApiClient, campaign: dict[str, Any]) -> None:
    info = client.campaign_info()
    assert info.id == str(campaign["id"])
    assert info.status is CampaignStatus.RUNNING
    add_three(client)
    assert client.campaign_info().short_report.total_numbers == 3
    client.pause()
    assert client.campaign_status() is CampaignStatus.PAUSED
    client.resume()
    assert client.campaign_status() is CampaignStatus.RUNNING
    client.stop()
    assert client.campaign_status() is CampaignStatus.FINISHED
    with pytest.raises(CampaignStateError) as info_err:
        client.resume()
    assert info_err.value.error_type  # the {error, message, args} shape was read
    assert info_err.value.status == 400


def test_control_error_shape_on_resume_of_a_running_campaign(client: CallsApiClient) -> None:
    with pytest.raises(CampaignStateError) as info:
        client.resume()
    assert isinstance(info.value.body, dict) and "error" in info.value.body


@pytest.mark.parametrize(
    ("items", "error_type"),
    [
        ([{"phone": "79001230001"}, {"phone": "79001230001"}], "phone.duplicated"),
        ([{"phone": "12ab"}], "phone.bad.format"),
        ([{"phone": "79001230001", "dialerPriority": 9}], "invalid.dialer_priority"),
        ([{"phone": "79001230001", "gmtZone": "Mars/Olympus"}], "phone.gmtZone.bad.format"),
        (
            [
                {
                    "phone": "79001230001",
                    "allowedTime": {
                        "default": [
                            {"localTimeFrom": "10:00", "localTimeTo": "14:00"},
                            {"localTimeFrom": "13:00", "localTimeTo": "18:00"},
                        ]
                    },
                }
            ],
            "invalid.call.allowed.time",
        ),
    ],
)
def test_add_phones_documented_400s_create_nothing(
    client: CallsApiClient, emulator: Any, items: list[dict[str, Any]], error_type: str
) -> None:
    with pytest.raises(BadRequestError) as info:
        client.add_phones(items, idempotence_key=f"bad-{error_type}")
    err = info.value
    assert type(err) is BadRequestError
    assert (err.status, err.error_type) == (400, error_type)
    assert emulator.jobs() == []
    assert "campaign/***/addPhones" in err.url
    # 4xx replies are not stored under the key: the fixed request may reuse it
    assert client.add_phones([{"phone": "79001230001"}], idempotence_key=f"bad-{error_type}")


def test_bad_format_names_the_phone(client: CallsApiClient) -> None:
    with pytest.raises(BadRequestError) as info:
        client.add_phones([{"phone": "79001230001"}, {"phone": "12ab"}])
    assert info.value.phone == "12ab"


def test_adding_to_a_stopped_campaign_is_a_state_error(client: CallsApiClient) -> None:
    client.stop()
    with pytest.raises(CampaignStateError) as info:
        client.add_phones([{"phone": "79001230001"}])
    assert info.value.error_type == "invalid.call.task.state"
    assert isinstance(info.value.body, dict) and info.value.body.get("state") == "FINISHED"


@pytest.mark.parametrize("call", ["cancel", "job", "attempt"])
def test_unknown_ids_and_phones(client: CallsApiClient, call: str) -> None:
    add_three(client)
    methods: dict[str, Callable[..., object]] = {
        "cancel": client.cancel_jobs,
        "job": client.job_report,
        "attempt": client.attempt_report,
    }
    method = methods[call]
    with pytest.raises(BadRequestError) as by_id:
        method(ids=["1"])
    assert by_id.value.error_type == "id.not.found"
    with pytest.raises(BadRequestError) as by_phone:
        method(phones=["79990000000"])
    assert by_phone.value.error_type == "phone.not.found"


def test_unknown_token_is_invalid_token_on_every_endpoint(client_for: Any) -> None:
    stranger: CallsApiClient = client_for(random_token(999, 1))
    calls = [
        lambda: stranger.add_phones([{"phone": "79001230001"}]),
        lambda: stranger.add_phone("79001230001"),
        lambda: stranger.add_phone_post("79001230001"),
        lambda: stranger.test_add_phone("79001230001"),
        lambda: stranger.cancel_jobs(ids=["1"]),
        lambda: stranger.job_report(ids=["1"]),
        lambda: stranger.attempt_report(ids=["1"]),
        lambda: stranger.job_report_by_date(JobReportFilter()),
        stranger.unfinished_jobs,
        lambda: stranger.attempt_report_by_date(AttemptReportFilter()),
        stranger.campaign_info,
        stranger.campaign_status,
        stranger.pause,
        stranger.resume,
        stranger.stop,
    ]
    for call in calls:
        with pytest.raises(InvalidTokenError) as info:
            call()
        assert info.value.status == 404
        assert "/campaign/***" in info.value.url
