"""Validation rules and error bodies of addPhones, crmCalls, cancel/getReport and pagination."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.emulator import Emulator
from tests.emulator.conftest import Api, phones

GOOD = "79990000001"


@pytest.mark.parametrize(
    ("element", "type_", "extra"),
    [
        ({"phone": "+79990000001"}, "phone.bad.format", {"phone": "+79990000001"}),
        ({"phone": "7999"}, "phone.bad.format", {"phone": "7999"}),
        ({"phone": "7999000000012345"}, "phone.bad.format", {}),
        ({"phone": "0799900000"}, "phone.bad.format", {}),
        ({"phone": "7 999 000 00 01"}, "phone.bad.format", {}),
        ({"phone": 7.999e10}, "phone.bad.format", {}),
        ({"payload": {"a": 1}}, "phone.bad.format", {"phone": ""}),
        ({"phone": GOOD, "dialerPriority": 0}, "invalid.dialer_priority", {}),
        ({"phone": GOOD, "dialerPriority": 6}, "invalid.dialer_priority", {}),
        ({"phone": GOOD, "dialerPriority": "1"}, "invalid.dialer_priority", {}),
        ({"phone": GOOD, "maxAttempts": 0}, "invalid.max_attempts", {}),
        ({"phone": GOOD, "maxAttempts": 51}, "invalid.max_attempts", {}),
        ({"phone": GOOD, "retryIntervalInMinutes": 0}, "invalid.retry_interval", {}),
        ({"phone": GOOD, "retryIntervalInMinutes": 2881}, "invalid.retry_interval", {}),
        ({"phone": GOOD, "allowedDays": []}, "invalid.allowed_days", {}),
        ({"phone": GOOD, "allowedDays": ["mon", "mon"]}, "invalid.allowed_days", {}),
        ({"phone": GOOD, "allowedDays": ["monday"]}, "invalid.allowed_days", {}),
        (
            {"phone": GOOD, "allowedTime": {"mon": [
                {"localTimeFrom": "10:00", "localTimeTo": "12:00"},
                {"localTimeFrom": "11:59", "localTimeTo": "13:00"},
            ]}},
            "invalid.call.allowed.time",
            {},
        ),
        (
            {"phone": GOOD, "allowedTime": {"default": [
                {"localTimeFrom": "18:00", "localTimeTo": "10:00"}]}},
            "invalid.call.allowed.time",
            {},
        ),
        ({"phone": GOOD, "allowedTime": {"holiday": []}}, "request.body.invalid", {}),
        (
            {"phone": GOOD, "allowedTime": {"mon": [
                {"localTimeFrom": "25:00", "localTimeTo": "26:00"}]}},
            "request.body.invalid",
            {},
        ),
        ({"phone": GOOD, "gmtZone": "+19:00"}, "phone.gmtZone.bad.format",
         {"phone": GOOD, "gmtZone": "+19:00"}),
        ({"phone": GOOD, "gmtZone": "+18:01"}, "phone.gmtZone.bad.format", {}),
        ({"phone": GOOD, "gmtZone": "+3:00"}, "phone.gmtZone.bad.format", {}),
        ({"phone": GOOD, "gmtZone": "Mars/Olympus"}, "phone.gmtZone.bad.format", {}),
        ({"phone": GOOD, "gmtZone": "GMT+03:60"}, "phone.gmtZone.bad.format", {}),
        (
            {"phone": GOOD, "startDateTime": "2024-01-02T00:00:00Z",
             "finishDateTime": "2024-01-01T00:00:00Z"},
            "invalid.date_time",
            {},
        ),
        ({"phone": GOOD, "startDateTime": "2024-01-02T00:00:00"}, "invalid.date_time", {}),
        ({"phone": GOOD, "startDateTime": "tomorrow"}, "invalid.date_time", {}),
        ({"phone": GOOD, "payload": ["not", "an", "object"]}, "request.body.invalid", {}),
        ({"phone": GOOD, "externalCheck": {"externalCheckMaxRetries": 1}},
         "request.body.invalid", {}),
    ],
)  # fmt: skip
def test_add_phones_rejects_whole_request_on_first_bad_element(
    api: Api, emulator: Emulator, element: dict[str, Any], type_: str, extra: dict[str, Any]
) -> None:
    reply = api.post("addPhones", [*phones(3), element])
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["type"] == type_
    assert body["message"]
    for name, value in extra.items():
        assert body[name] == value
    assert emulator.jobs() == []  # nothing of the request was created


@pytest.mark.parametrize(
    "zone",
    ["Z", "+3", "+03", "-05:30", "+0330", "+03:30:15", "-180000", "+18:00", "-18:00", "UTC",
     "GMT-05:00", "UT+3", "UTC+03:30", "Europe/Moscow", "America/New_York"],
)  # fmt: skip
def test_gmt_zone_grammar_accepts_documented_forms(api: Api, zone: str) -> None:
    reply = api.post("addPhones", [{"phone": GOOD, "gmtZone": zone}])
    assert reply.status_code == 200, reply.text


def test_phone_as_json_number_and_full_policy_are_accepted(api: Api, emulator: Emulator) -> None:
    element = {
        "phone": 16500000000,
        "gmtZone": "-05:00",
        "payload": {"name": "Alex"},
        "startDateTime": "2020-03-23T00:00:00Z",
        "finishDateTime": "2020-03-24T12:00:00+03:00",
        "allowedDays": ["mon", "wed", "fri"],
        "allowedTime": {"default": [{"localTimeFrom": "10:00", "localTimeTo": "18:00"}],
                        "mon": [{"localTimeFrom": "09:00", "localTimeTo": "10:00"},
                                {"localTimeFrom": "10:00", "localTimeTo": "11:00"}]},
        "retryIntervalInMinutes": 120,
        "maxAttempts": 1,
        "dialerPriority": 2,
        "externalCheck": {"externalCheckUrl": "https://check.example/x"},
        "unknownField": "ignored",
    }  # fmt: skip
    reply = api.post("addPhones", [element])
    assert reply.status_code == 200
    [job] = emulator.jobs()
    assert reply.json() == [job["id"]]
    assert job["phone"] == "16500000000"
    assert job["payload"] == {"name": "Alex"}
    assert job["policy"]["maxAttempts"] == 1
    assert job["policy"]["dialerPriority"] == 2
    assert job["policy"]["startDateTime"] == 1584921600000


def test_deprecated_flat_window_maps_to_allowed_time_default(api: Api, emulator: Emulator) -> None:
    reply = api.post(
        "addPhones", [{"phone": GOOD, "localTimeFrom": "10:00", "localTimeTo": "19:30"}]
    )
    assert reply.status_code == 200
    [job] = emulator.jobs()
    window = {"localTimeFrom": "10:00", "localTimeTo": "19:30"}
    assert job["policy"]["allowedTime"] == {"default": [window]}


def test_campaign_defaults_fill_missing_policy(emulator: Emulator, api: Api) -> None:
    api.post("addPhones", [{"phone": GOOD}])
    [job] = emulator.jobs()
    assert job["policy"]["maxAttempts"] == 3
    assert job["policy"]["retryIntervalInMinutes"] == 30


def test_intra_request_duplicates_list_every_offender(api: Api, emulator: Emulator) -> None:
    body = [*phones(3), {"phone": 79990000001}, {"phone": "79990000002"}, {"phone": "79990000002"}]
    reply = api.post("addPhones", body)
    assert reply.status_code == 400
    assert reply.json() == {
        "type": "phone.duplicated",
        "message": reply.json()["message"],
        "phone": "79990000001",
        "phonesDuplicates": ["79990000001", "79990000002"],
    }
    assert emulator.jobs() == []


@pytest.mark.parametrize(
    ("raw", "type_"),
    [
        (b"[{", "request.json.invalid"),
        (b"", "request.json.invalid"),
        (b'{"phone": "79990000001"}', "request.body.invalid"),
        (b'["79990000001"]', "request.body.invalid"),
        (b"\xff\xfe", "request.json.invalid"),
    ],
)
def test_malformed_bodies(api: Api, raw: bytes, type_: str) -> None:
    reply = api.session.post(api.url("addPhones"), data=raw, timeout=10)
    assert reply.status_code == 400
    assert reply.json()["type"] == type_


def test_ids_in_input_order(api: Api) -> None:
    ids = api.post("addPhones", phones(5)).json()
    assert ids == sorted(ids, key=int)
    assert all(isinstance(value, str) for value in ids)


def test_crm_add_phone_params_become_payload(api: Api, emulator: Emulator) -> None:
    reply = api.crm({"phone": GOOD, "gmtZone": "+03:00", "name": "Alex", "debt": "100"})
    assert reply.status_code == 200
    [job] = emulator.jobs()
    assert reply.json() == job["id"]  # a JSON string
    assert job["payload"] == {"name": "Alex", "debt": "100"}
    assert job["policy"]["gmtZone"] == "+03:00"


def test_crm_post_form_body(api: Api, emulator: Emulator) -> None:
    reply = api.session.post(
        api.url("addPhone", family="crmCalls"),
        data={"phone": GOOD, "city": "Omsk"},
        headers={"Idempotence-Key": "form-1"},
        timeout=10,
    )
    assert reply.status_code == 200
    [job] = emulator.jobs()
    assert job["payload"] == {"city": "Omsk"}
    assert job["idempotenceKey"] == "form-1"


@pytest.mark.parametrize(
    ("params", "type_"),
    [
        ({"phone": "+79990000001"}, "phone.bad.format"),
        ({"name": "no phone"}, "phone.bad.format"),
        ({"phone": GOOD, "gmtZone": "+25:00"}, "phone.gmtZone.bad.format"),
    ],
)
def test_crm_add_phone_validation(api: Api, params: dict[str, str], type_: str) -> None:
    reply = api.crm(params)
    assert reply.status_code == 400
    assert reply.json()["type"] == type_


@pytest.mark.parametrize(
    "endpoint", ["callJob/cancel", "callJob/getReport", "callAttempt/getReport"]
)
def test_unknown_id_or_phone(api: Api, endpoint: str) -> None:
    [ident] = api.post("addPhones", [{"phone": GOOD}]).json()
    missing_id = api.post(endpoint, {"ids": [ident, "1"]})
    assert missing_id.status_code == 400
    assert missing_id.json()["type"] == "id.not.found"
    missing_phone = api.post(endpoint, {"phones": [GOOD, "79990000999"]})
    assert missing_phone.status_code == 400
    assert missing_phone.json()["type"] == "phone.not.found"
    wrong_shape = api.post(endpoint, {"ids": "1"})
    assert wrong_shape.json()["type"] == "request.body.invalid"


def test_ids_of_another_campaign_are_not_found(api: Api, emulator: Emulator) -> None:
    other = emulator.create_campaign("104.9999." + "b" * 43)
    [ident] = api.post("addPhones", [{"phone": GOOD}], token=other["token"]).json()
    reply = api.post("callJob/getReport", {"ids": [int(ident)]})
    assert reply.json()["type"] == "id.not.found"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("callJob/getUnfinished", {"page": 200}),
        ("callJob/getUnfinished", {"pageSize": 0}),
        ("callJob/getUnfinished", {"pageSize": 201}),
        ("callJob/getReportByDate", {"pagination": {"page": -1}}),
        ("callAttempt/getReportByDate", {"pagination": {"pageSize": 500}}),
    ],
)
def test_pagination_bounds(api: Api, endpoint: str, body: dict[str, Any]) -> None:
    reply = api.post(endpoint, body)
    assert reply.status_code == 400
    assert reply.json()["type"] == "invalid.pagination"


def test_pagination_pages_and_default_size(api: Api) -> None:
    ids = api.post("addPhones", phones(45)).json()
    first = api.post("callJob/getUnfinished", None).json()
    assert first["pagination"] == {"page": 0, "pageSize": 20}
    assert [item["callJobId"] for item in first["items"]] == ids[:20]
    last = api.post("callJob/getUnfinished", {"page": 2, "pageSize": 20}).json()
    assert [item["callJobId"] for item in last["items"]] == ids[40:]


def test_report_by_date_filters(api: Api, emulator: Emulator) -> None:
    early = api.post("addPhones", phones(2)).json()
    emulator.advance(3600)
    late = api.post("addPhones", phones(2, start=79990001000)).json()
    body = {"filter": {"createdAtFrom": "2023-11-14T22:43:20Z"}, "pagination": {"pageSize": 200}}
    items = api.post("callJob/getReportByDate", body).json()["items"]
    assert [item["callJobId"] for item in items] == late
    body = {"filter": {"createdAtTo": "2023-11-14T22:43:20Z"}}
    items = api.post("callJob/getReportByDate", body).json()["items"]
    assert [item["callJobId"] for item in items] == early
    bad = api.post("callJob/getReportByDate", {"filter": {"createdAtFrom": "yesterday"}})
    assert bad.json()["type"] == "invalid.date_time"
