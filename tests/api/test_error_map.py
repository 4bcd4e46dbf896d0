"""Mapping of replies to the exception tree (pure functions; the socket tests cover the rest)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

from pipeline.api.error_map import error_from_reply, mask_phone, parse_retry_after
from pipeline.errors import (
    ApiError,
    ApiTimeoutError,
    BadRequestError,
    CampaignStateError,
    IdempotenceConflictError,
    InvalidTokenError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)

URL = "http://h/api/calls/campaign/***/addPhones"
NOW = 1_700_000_000.0


def reply(status: int, body: object = None, **headers: str) -> ApiError:
    content = b"" if body is None else json.dumps(body).encode()
    return error_from_reply(status, headers, content, url=URL, method="POST", now=NOW)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("1.5", NOW) == 1.5
    when = datetime.fromtimestamp(NOW + 30, tz=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0  # in the past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_type_shape_bad_request_with_phone() -> None:
    err = reply(
        400, {"type": "phone.bad.format", "phone": "79001234567", "message": "bad 79001234567"}
    )
    assert type(err) is BadRequestError
    assert err.error_type == "phone.bad.format"
    assert err.phone == "79001234567"
    assert "79001234567" not in str(err)  # masked in the text, kept in the attribute
    assert mask_phone("79001234567") in str(err)


def test_task_state_and_control_errors_are_campaign_state_errors() -> None:
    err = reply(400, {"type": "invalid.call.task.state", "state": "FINISHED", "message": "m"})
    assert isinstance(err, CampaignStateError) and err.error_type == "invalid.call.task.state"
    ctl = error_from_reply(
        400,
        {},
        json.dumps({"error": "some.code", "message": "no", "args": {}}).encode(),
        url=URL,
        method="POST",
        now=NOW,
        control=True,
    )
    assert isinstance(ctl, CampaignStateError) and ctl.error_type == "some.code"


def test_other_statuses() -> None:
    assert isinstance(reply(409, {"type": "idempotence.key.conflict"}), IdempotenceConflictError)
    assert isinstance(reply(404, {"type": "invalid.token", "message": "x"}), InvalidTokenError)
    assert isinstance(reply(404, None), UnexpectedResponseError)
    assert isinstance(reply(408), ApiTimeoutError)
    limited = reply(429, None, **{"Retry-After": "3"})
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 3.0
    server = reply(503, None, **{"Retry-After": "2"})
    assert isinstance(server, ServerError) and server.retry_after == 2.0
    assert isinstance(reply(418), UnexpectedResponseError)


def test_redirect_names_the_redacted_location() -> None:
    err = reply(
        307, None, Location="https://evil.example/api/calls/campaign/1.2.secretsecretsecretsecret/x"
    )
    assert isinstance(err, UnexpectedResponseError)
    assert "secretsecret" not in str(err)
    assert "https://evil.example/api/calls/campaign/***/x" in str(err)


def test_phones_quoted_in_server_text_are_masked() -> None:
    err = reply(
        400,
        {
            "type": "request.body.invalid",
            "message": "payload of phone 79161234567 must be an object; also +79160000001",
        },
    )
    assert "79161234567" not in str(err) and "9160000001" not in str(err)
    assert "791*****567" in str(err)
