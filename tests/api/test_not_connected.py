"""A request that never connected is told apart from one that may have taken effect.

Connection refused, a host name that does not resolve and a connect timeout mean no byte of
the request reached the server: :class:`ApiNotConnectedError` says so. A connection that was
made and then closed without a reply (the emulator's ``drop_*`` faults) may have carried the
request: it stays a plain :class:`ApiConnectionError` ("may have taken effect").
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.emulator import Emulator
from pipeline.errors import ApiConnectionError, ApiNotConnectedError, TransientApiError


def test_connection_refused_says_nothing_was_sent(
    closed_port: int, campaign: dict[str, Any]
) -> None:
    client = CallsApiClient(f"http://127.0.0.1:{closed_port}", campaign["token"])
    with pytest.raises(ApiNotConnectedError) as info:
        client.add_phones([{"phone": "79001250001"}], idempotence_key="k")
    error = info.value
    assert isinstance(error, TransientApiError)  # retried (same key and body) like the others
    text = str(error)
    assert "connection refused" in text and "nothing was sent" in text
    assert "may have taken effect" not in text
    assert "api.base_url" in text and "JAICP_BASE_URL" in text
    assert campaign["token"] not in text


def test_a_host_that_does_not_resolve_says_nothing_was_sent(campaign: dict[str, Any]) -> None:
    # .invalid never resolves (RFC 2606); nothing leaves this machine but the DNS question.
    client = CallsApiClient("http://jaicp-pipeline-test.invalid", campaign["token"], timeout=10)
    with pytest.raises(ApiNotConnectedError, match=r"did not resolve \(DNS\).*nothing was sent"):
        client.campaign_status()


def test_a_connect_timeout_says_nothing_was_sent(campaign: dict[str, Any]) -> None:
    # A listener whose accept queue is full: the kernel drops further connection attempts,
    # so the client's connect times out (on loopback; nothing leaves this machine).
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        queued = [socket.socket() for _ in range(3)]
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        try:
            client = CallsApiClient(
                f"http://127.0.0.1:{port}", campaign["token"], connect_timeout=0.5, timeout=5
            )
            with pytest.raises(ApiNotConnectedError, match=r"no connection within 0\.5 s"):
                client.campaign_status()
        finally:
            for sock in queued:
                sock.close()


@pytest.mark.parametrize("kind", ["drop_before_commit", "drop_after_commit"])
def test_a_connection_closed_after_the_request_may_have_taken_effect(
    kind: str, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"])
    emulator.set_faults([{"kind": kind, "endpoint": "addPhones", "times": 1}])
    with pytest.raises(ApiConnectionError) as info:
        client.add_phones([{"phone": "79001250001"}], idempotence_key="k")
    assert not isinstance(info.value, ApiNotConnectedError)
    assert "may have taken effect" in str(info.value)
