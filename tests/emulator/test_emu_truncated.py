"""A client that dies mid-request must not look, to the emulator, like a request it sent.

The crash tests kill the uploader at random moments; a kill between the headers and the end of
the body once made the emulator log (and act on) a truncated body under the batch's key.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from pipeline.emulator import Emulator


def _wait_for_log(emulator: Emulator, count: int, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while len(emulator.requests_log()) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_truncated_body_is_neither_acted_on_nor_logged(
    emulator: Emulator, campaign: dict[str, Any]
) -> None:
    body = json.dumps([{"phone": "79160000001"}, {"phone": "79160000002"}]).encode()
    address = urlsplit(emulator.base_url)
    head = (
        f"POST /api/calls/campaign/{campaign['token']}/addPhones HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\nContent-Type: application/json\r\n"
        f"Idempotence-Key: k-truncated\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port)) as sock:
        sock.sendall(head + body[:10])  # the process dies here
    # A later, complete request from a new process: the log must hold it alone.
    url = f"{emulator.base_url}/api/calls/campaign/{campaign['token']}/addPhones"
    reply = requests.post(url, data=body, headers={"Idempotence-Key": "k-whole"}, timeout=10)
    assert reply.status_code == 200
    _wait_for_log(emulator, 2, seconds=1.0)  # give a wrongly logged request time to appear
    keys = [entry["idempotenceKey"] for entry in emulator.requests_log()]
    assert keys == ["k-whole"]
    assert len(emulator.jobs(campaign["id"])) == 2
