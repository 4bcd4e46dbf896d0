"""The emulator's replies validated against the vendor's OpenAPI (calls.yml + common.yml).

The schema of each reply is looked up by path, method and status in ``calls.yml`` (so the
path wiring is checked too), ``$ref``s are inlined — including the cross-file
``common.yml/#/...`` form — and three documented conversions are applied:

* ``nullable: true`` becomes ``type: [T, "null"]`` (OpenAPI 3.0 → JSON Schema).
* **Timestamps.** The OpenAPI types ``createdAt``, ``finishedAt``, ``startedAt``,
  ``creationDate``, ``startTime``, ``endTime`` as ``string/date-time`` while their own
  descriptions say "unix milliseconds", and the real service sends JSON numbers (reference
  §1.5). Exactly the ``date-time`` properties whose description says milliseconds become
  ``integer >= 0``; request-side date-times (``startDateTime``, report filters) are untouched.
* **Nulls.** The OpenAPI marks nothing nullable, but a real ``getReport`` reply (reference
  §3.7) carries ``null`` for ``finishedAt``, ``redialNumber``, ``reportData``, ``tagName`` and
  ``tagPayload``, and the docs give ``callResult`` as "string or null" and ``endTime`` as null
  before a campaign ends. Those named properties — and no others — also accept ``null``.

In the other direction the schemas are made *stricter*: every object schema with
``properties`` gets ``additionalProperties: false`` unless it says otherwise, so a misspelt
field fails, and the ``oneOf`` of the 400 replies can single out one error shape (without it,
``{type, message, phone}`` would match two branches and fail the ``oneOf``).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml

from pipeline.emulator import Emulator
from tests.conftest import random_token
from tests.emulator.conftest import Api, phones

HERE = Path(__file__).resolve().parent / "openapi"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "openapi"
NULLABLE_IN_PRACTICE = frozenset(
    {"finishedAt", "redialNumber", "reportData", "tagName", "tagPayload", "callResult", "endTime",
     "startTime"}
)  # fmt: skip
PREFIX = "/api/calls/campaign/{token}"


@cache
def _document(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _follow(ref: str, current: str) -> tuple[Any, str]:
    file_part, _, pointer = ref.partition("#")
    name = file_part.rstrip("/") or current
    node: Any = _document(name)
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, name


def _inline(node: Any, current: str = "calls.yml") -> Any:
    """Replace every ``$ref`` by a converted copy of its target (the schemas have no cycles)."""
    if isinstance(node, list):
        return [_inline(item, current) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, name = _follow(node["$ref"], current)
        return _inline(copy.deepcopy(target), name)
    result = {key: _inline(value, current) for key, value in node.items()}
    return _convert(result)


def _convert(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("format") == "date-time" and "milli" in schema.get("description", "").lower():
        schema = {"type": "integer", "minimum": 0, "description": schema["description"]}
    if schema.pop("nullable", False) and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema.setdefault("additionalProperties", False)
        for name, sub in properties.items():
            if name in NULLABLE_IN_PRACTICE and isinstance(sub, dict):
                properties[name] = {"anyOf": [sub, {"type": "null"}]}
    return schema


def response_schema(path: str, method: str, status: int) -> dict[str, Any] | None:
    """The converted JSON schema of a documented reply; None when it documents no body."""
    response = _inline(_document("calls.yml")["paths"][path][method.lower()]["responses"])
    entry = response[str(status)]
    content = entry.get("content")
    if content is None:
        return None
    schema = content["application/json"]["schema"]
    assert isinstance(schema, dict)
    return schema


def check(reply: requests.Response, path: str, status: int) -> Any:
    assert reply.status_code == status, reply.text
    method = reply.request.method
    assert method is not None
    schema = response_schema(path, method, status)
    if schema is None:
        assert reply.content == b""
        return None
    body = reply.json()
    jsonschema.Draft7Validator(schema).validate(body)
    return body


def test_copies_match_the_shared_reference() -> None:
    # The copies exist so the tests need no outside path; when the shared folder is there
    # (in the workspace and in CI) it must not have moved on without them.
    if SHARED.is_dir():
        for name in ("calls.yml", "common.yml"):
            assert (HERE / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_conversion_is_targeted() -> None:
    report = response_schema(f"{PREFIX}/callJob/getReport", "POST", 200)
    assert report is not None
    fields = report["items"]["properties"]
    assert fields["createdAt"]["type"] == "integer"  # documented as ms
    assert fields["finishedAt"]["anyOf"][0]["type"] == "integer"
    assert fields["phone"] == {"type": "string", "description": "Phone number",
                               "example": "9991234567890"}  # fmt: skip
    request = _inline(_document("calls.yml")["components"]["schemas"]["CallJobParameters"])
    assert request["properties"]["startDateTime"]["format"] == "date-time"  # left alone


def test_add_phones_replies(api: Api) -> None:
    path = f"{PREFIX}/addPhones"
    check(api.post("addPhones", phones(3)), path, 200)
    bad = [
        [{"phone": "1"}],
        [{"phone": "79990000001"}, {"phone": "79990000001"}],
        [{"phone": "79990000001", "dialerPriority": 9}],
        [{"phone": "79990000001", "allowedTime": {"mon": [
            {"localTimeFrom": "10:00", "localTimeTo": "12:00"},
            {"localTimeFrom": "11:00", "localTimeTo": "13:00"}]}}],
    ]  # fmt: skip
    types = [check(api.post("addPhones", body), path, 400)["type"] for body in bad]
    assert types == [
        "phone.bad.format", "phone.duplicated", "invalid.dialer_priority",
        "invalid.call.allowed.time",
    ]  # fmt: skip
    check(api.post("addPhones", phones(1), token=random_token(9, 9)), path, 404)
    api.post("control/stop")
    assert check(api.post("addPhones", phones(1)), path, 400)["state"] == "FINISHED"


def test_gmt_zone_error_matches_timezone_error_response(api: Api) -> None:
    # TimezoneErrorResponse is not wired to a path in calls.yml; check it by name.
    schema = _inline(_document("calls.yml")["components"]["schemas"]["TimezoneErrorResponse"])
    reply = api.post("addPhones", [{"phone": "79990000001", "gmtZone": "+20:00"}])
    jsonschema.Draft7Validator(schema).validate(reply.json())


@pytest.mark.parametrize("endpoint", ["addPhone", "test/addPhone"])
def test_crm_add_phone_replies(api: Api, endpoint: str) -> None:
    path = f"/api/crmCalls/campaign/{{token}}/{endpoint}"
    params = {"phone": "79990000001", "name": "Alex"}
    check(api.crm(params, endpoint=endpoint), path, 200)
    check(api.crm({"phone": "12"}, endpoint=endpoint), path, 400)
    check(api.crm(params, endpoint=endpoint, token="1.2.abc"), path, 404)


def test_crm_post_and_duplicate_replies(api: Api) -> None:
    path = "/api/crmCalls/campaign/{token}/addPhone"
    url = api.url("addPhone", family="crmCalls")
    check(api.session.post(url, data={"phone": "79990000001"}, timeout=10), path, 200)
    check(api.session.post(url, data={"phone": "79990000001"}, timeout=10), path, 400)


def test_report_and_cancel_replies(api: Api, emulator: Emulator) -> None:
    ids = api.post("addPhones", phones(40)).json()
    emulator.advance(90)
    api.post("callJob/cancel", {"ids": ids[-2:]})
    emulator.advance(1800)  # some jobs done, some retrying or still waiting for a line
    selection = {"ids": ids}
    jobs = check(api.post("callJob/getReport", selection), f"{PREFIX}/callJob/getReport", 200)
    assert {job["finishedAt"] is None for job in jobs} == {True, False}  # both shapes checked
    attempts = api.post("callAttempt/getReport", selection)
    check(attempts, f"{PREFIX}/callAttempt/getReport", 200)
    for endpoint in ("callJob/getReport", "callAttempt/getReport", "callJob/cancel"):
        check(api.post(endpoint, {"ids": ["1"]}), f"{PREFIX}/{endpoint}", 400)
        check(api.post(endpoint, {"phones": ["70000000000"]}), f"{PREFIX}/{endpoint}", 400)
        check(api.post(endpoint, {}, token="1.2.abc"), f"{PREFIX}/{endpoint}", 404)
    check(api.post("callJob/cancel", {"ids": ids}), f"{PREFIX}/callJob/cancel", 200)


def test_paginated_replies(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(10))
    emulator.advance(600)
    for endpoint, body in [
        ("callJob/getReportByDate", {"filter": {"createdAtFrom": "2020-01-01T00:00:00Z"}}),
        ("callAttempt/getReportByDate", {"pagination": {"page": 0, "pageSize": 5}}),
        ("callJob/getUnfinished", {"page": 0, "pageSize": 200}),
    ]:
        page = check(api.post(endpoint, body), f"{PREFIX}/{endpoint}", 200)
        assert page["items"]
        check(api.post(endpoint, body, token="1.2.abc"), f"{PREFIX}/{endpoint}", 404)


def test_campaign_status_and_control_replies(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(3))
    emulator.advance(5)
    check(api.get(""), PREFIX, 200)
    check(api.get("status"), f"{PREFIX}/status", 200)
    check(api.get("", token="1.2.abc"), PREFIX, 404)
    check(api.get("status", token="1.2.abc"), f"{PREFIX}/status", 404)
    control = f"{PREFIX}/control/{{campaignControlAction}}"
    check(api.post("control/pause"), control, 200)
    check(api.post("control/pause"), control, 400)
    check(api.post("control/stop", token="1.2.abc"), control, 404)
    check(api.post("control/stop"), control, 200)
    assert check(api.get(""), PREFIX, 200)["endTime"] is not None
