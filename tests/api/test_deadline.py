"""One request has one deadline (``timeout``: connect, send, the whole reply) and one reply
has a size limit, whatever the server does with its socket.

A server that drips its reply a byte at a time, each byte well inside any per-read timeout,
must not hold the client past its deadline, neither in the status line and headers nor in the
body. Each case is a real emulator fault over a socket; the drip is far slower than the
deadline (the whole reply would take 18 s or more), so the bound asserted has wide margins.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.api import CallsApiClient, CampaignStatus
from pipeline.emulator import Emulator
from pipeline.errors import ApiTimeoutError, UnexpectedResponseError

# One byte every 1.5 s: each read returns well within the 2 s deadline, so only a deadline
# over the whole request can end it. The shortest reply dripped (the 12 bytes of a status
# body) would take 18 s.
DRIP_S = 1.5
DEADLINE_S = 2.0
BOUND_S = 10.0
RUNNING = CampaignStatus.RUNNING


@pytest.mark.parametrize("drip_from", ["status", "body"])
def test_a_dripped_reply_ends_at_the_deadline(
    emulator: Emulator, campaign: dict[str, Any], drip_from: str
) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=DEADLINE_S)
    emulator.set_faults([{"kind": "drip", "dripSeconds": DRIP_S, "dripFrom": drip_from}])
    started = time.monotonic()
    with pytest.raises(ApiTimeoutError) as info:
        client.campaign_status()
    took = time.monotonic() - started
    assert took < BOUND_S, f"the request was held {took:.1f} s with a {DEADLINE_S} s deadline"
    text = str(info.value)
    assert "api.timeout_s" in text and "may have taken effect" in text
    assert campaign["token"] not in text


def test_a_dripped_add_phones_reply_was_carried_out_and_its_retry_is_replayed(
    emulator: Emulator, campaign: dict[str, Any]
) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=DEADLINE_S)
    emulator.set_faults([{"kind": "drip", "dripSeconds": DRIP_S, "times": 1}])
    items = [{"phone": "79001250001"}]
    with pytest.raises(ApiTimeoutError):
        client.add_phones(items, idempotence_key="drip-1")
    ids = client.add_phones(items, idempotence_key="drip-1")  # same key, same body
    assert [str(job["id"]) for job in emulator.jobs()] == ids


def test_the_connection_is_usable_after_a_deadline(
    emulator: Emulator, campaign: dict[str, Any]
) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=DEADLINE_S)
    assert client.campaign_status() is RUNNING  # a pooled keep-alive connection now exists
    emulator.set_faults([{"kind": "drip", "dripSeconds": DRIP_S, "times": 1}])
    with pytest.raises(ApiTimeoutError):
        client.campaign_status()
    for _ in range(3):  # not the socket the watchdog shut, nor one it shuts later
        assert client.campaign_status() is RUNNING


def test_a_reply_longer_than_the_cap_is_not_read(
    emulator: Emulator, campaign: dict[str, Any]
) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=10)
    ids = client.add_phones([{"phone": f"790012{n:05d}"} for n in range(60)])
    small = CallsApiClient(emulator.base_url, campaign["token"], max_reply_bytes=2048)
    with pytest.raises(UnexpectedResponseError) as info:
        small.job_report(ids=ids)  # ~8 KB of JSON
    assert "api.max_reply_bytes (2048 bytes)" in str(info.value)
    assert len(small.job_report(ids=ids[:3])) == 3  # a short reply still goes through


class _Chunked(http.server.BaseHTTPRequestHandler):
    """A reply without Content-Length (chunked): its size shows only while it is read."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        part = b'"' + b"x" * 1000 + b'"'
        for _ in range(20):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


@pytest.fixture
def chunked_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Chunked)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_reply_without_length_is_cut_at_the_cap(chunked_server: str) -> None:
    token = "104.7056." + "c" * 43
    with pytest.raises(UnexpectedResponseError, match=r"api\.max_reply_bytes \(4096 bytes\)"):
        CallsApiClient(chunked_server, token, max_reply_bytes=4096).campaign_status()
    # The same reply under the default cap is read whole (a status the client does not know).
    assert CallsApiClient(chunked_server, token).campaign_status() is CampaignStatus.OTHER
