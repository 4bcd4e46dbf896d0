"""The emulator's network-edge behaviour: replies dripped byte by byte, a maximum body size
answered with 413 (JSON, HTML or empty), and request-log arrival times on the wall clock."""

from __future__ import annotations

import socket
import time

import pytest

from pipeline.emulator import Emulator
from tests.emulator.conftest import Api, phones


def test_a_dripped_reply_arrives_whole_and_slowly(emulator: Emulator, api: Api) -> None:
    api.admin("POST", "faults", {"faults": [{"kind": "drip", "dripSeconds": 0.01, "times": 1}]})
    started = time.monotonic()
    reply = api.post("addPhones", phones(2), key="k")
    took = time.monotonic() - started
    assert reply.status_code == 200 and len(reply.json()) == 2
    # Every byte of status line, headers and body waited 0.01 s: a lower bound only.
    assert took >= 0.01 * len(reply.content)
    assert len(emulator.jobs()) == 2  # carried out before the reply was dripped
    entry = emulator.requests_log()[-1]
    assert entry["fault"] == "drip" and entry["status"] == 200


def test_drip_rules_are_checked(api: Api) -> None:
    for rule, field in [
        ({"kind": "drip", "dripSeconds": 0}, "dripSeconds"),
        ({"kind": "drip", "dripSeconds": 61}, "dripSeconds"),
        ({"kind": "drip", "dripFrom": "headers"}, "dripFrom"),
    ]:
        reply = api.admin("POST", "faults", {"faults": [rule]})
        assert reply.status_code == 400 and field in reply.json()["message"]


def test_a_client_that_gives_up_ends_the_drip(emulator: Emulator, api: Api) -> None:
    api.admin("POST", "faults", {"faults": [{"kind": "drip", "dripSeconds": 0.05, "times": 1}]})
    path = f"/api/calls/campaign/{api.token}/status"
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(1) == b"H"  # the first byte of "HTTP/1.1 200 OK"
    # The handler's next writes fail: the emulator serves the next request normally.
    assert api.get("status").status_code == 200


@pytest.mark.parametrize(
    ("style", "content_type", "start"),
    [
        ("json", "application/json", b'{"type": "request.too.large"'),
        ("html", "text/html", b"<html>"),
        ("empty", "text/plain", b""),
    ],
)
def test_a_body_over_the_limit_gets_413(
    style: str, content_type: str, start: bytes, emulator: Emulator, api: Api
) -> None:
    assert api.admin("POST", "limits", {"maxBodyBytes": 100, "tooLargeBody": style}).json() == {
        "maxBodyBytes": 100,
        "tooLargeBody": style,
    }
    reply = api.post("addPhones", phones(10), key="big")
    assert reply.status_code == 413
    assert reply.headers["Content-Type"].startswith(content_type)
    assert reply.content.startswith(start) and (style == "empty") == (reply.content == b"")
    assert emulator.jobs() == []  # nothing processed, not even the key stored
    assert api.post("addPhones", phones(1), key="big").status_code == 200
    assert api.admin("GET", "limits").json()["maxBodyBytes"] == 100
    api.admin("POST", "reset")
    assert api.admin("GET", "limits").json()["maxBodyBytes"] == 100  # configuration, not state
    assert api.admin("POST", "limits", {"maxBodyBytes": None}).json()["maxBodyBytes"] is None


def test_bad_limits_are_refused(api: Api) -> None:
    for body, said in [
        ({"maxBodyBytes": "big"}, "maxBodyBytes"),
        ({"maxBodyBytes": -1}, "max_body_bytes"),
        ({"tooLargeBody": "xml"}, "too_large_body"),
    ]:
        reply = api.admin("POST", "limits", body)
        assert reply.status_code == 400 and said in reply.json()["message"]


def test_the_request_log_has_wall_clock_arrival_times(emulator: Emulator, api: Api) -> None:
    before = time.time()
    api.get("status")
    api.get("status")
    first, second = emulator.requests_log()[-2:]
    assert before <= first["arrivedAt"] <= second["arrivedAt"] <= time.time()
    assert first["ts"] == second["ts"]  # the emulated clock did not move by itself
