"""HTTP 413 is its own error, whatever body the server sends with it (undocumented: the
emulator can answer with JSON, nginx's HTML page, or nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.emulator import Emulator
from pipeline.errors import RequestTooLargeError, TransientApiError

ITEMS = [{"phone": f"790012{n:05d}"} for n in range(20)]


@pytest.mark.parametrize(
    ("style", "said"),
    [
        ("json", "request.too.large: request body of"),
        ("html", "(413 Request Entity Too Large)"),
        ("empty", "(no error body)"),
    ],
)
def test_413_is_request_too_large_with_any_body(
    style: str, said: str, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"])
    emulator.set_limits(200, style)
    with pytest.raises(RequestTooLargeError) as info:
        client.add_phones(ITEMS, idempotence_key="big")
    error = info.value
    assert not isinstance(error, TransientApiError)  # the same bytes would fail the same way
    assert error.status == 413 and said in str(error)
    assert "processed nothing" in str(error) and "<html>" not in str(error)
    assert emulator.jobs() == []
    assert [e["status"] for e in emulator.requests_log()] == [413]
    # Below the limit the same client goes on (the connection was not left half-read).
    assert len(client.add_phones(ITEMS[:2], idempotence_key="small")) == 2
