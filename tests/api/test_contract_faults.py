"""Each emulator fault mode maps to the exception a retry loop expects; redirects stay put."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    RateLimitedError,
    ServerError,
    TransientApiError,
    UnexpectedResponseError,
)

ITEMS = [{"phone": "79001250001"}]


def test_error_before_commit_with_a_custom_status(client: CallsApiClient, emulator: Any) -> None:
    emulator.set_faults([{"kind": "error_before_commit", "status": 502, "times": 1}])
    with pytest.raises(ServerError) as info:
        client.add_phones(ITEMS)
    assert info.value.status == 502
    assert isinstance(info.value, TransientApiError)
    assert emulator.jobs() == []


def test_rate_limit_carries_retry_after(client: CallsApiClient, emulator: Any) -> None:
    emulator.set_faults([{"kind": "rate_limit", "retryAfter": 7, "times": 1}])
    with pytest.raises(RateLimitedError) as info:
        client.campaign_status()
    assert info.value.status == 429
    assert info.value.retry_after == 7.0
    client.campaign_status()  # the fault was for one request only


def test_drop_before_commit_is_a_connection_error(client: CallsApiClient, emulator: Any) -> None:
    emulator.set_faults([{"kind": "drop_before_commit", "endpoint": "addPhones", "times": 1}])
    with pytest.raises(ApiConnectionError):
        client.add_phones(ITEMS)
    assert emulator.jobs() == []


def test_delay_beyond_the_read_timeout_is_a_timeout(
    client_for: Any, campaign: dict[str, Any], emulator: Any
) -> None:
    impatient: CallsApiClient = client_for(campaign["token"], timeout=0.2)
    emulator.set_faults([{"kind": "delay", "delaySeconds": 1.5, "times": 1}])
    with pytest.raises(ApiTimeoutError) as info:
        impatient.campaign_info()
    assert "0.2 s" in str(info.value)


def test_redirect_is_not_followed(client: CallsApiClient, emulator: Any) -> None:
    target = f"{emulator.base_url}/elsewhere/api/calls/campaign/leaked/addPhones"
    emulator.set_faults(
        [{"kind": "redirect", "endpoint": "addPhones", "location": target, "times": 1}]
    )
    with pytest.raises(UnexpectedResponseError) as info:
        client.add_phones(ITEMS)
    assert info.value.status == 307
    assert "/elsewhere/api/calls/campaign/***/addPhones" in str(info.value)
    paths = [r["path"] for r in emulator.requests_log()]
    assert not any("/elsewhere" in p for p in paths), "the client followed the redirect"
    assert emulator.jobs() == []


def test_connection_refused_is_a_connection_error(campaign: dict[str, Any]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on (bound, never listening)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        dead = CallsApiClient(f"http://127.0.0.1:{port}", campaign["token"], connect_timeout=2)
        with pytest.raises(ApiConnectionError) as info:
            dead.campaign_status()
    assert campaign["token"] not in str(info.value)
