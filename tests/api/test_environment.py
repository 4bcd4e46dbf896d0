"""What ``requests`` takes from the environment — a proxy (``HTTP(S)_PROXY``, ``NO_PROXY``), a
CA bundle (``REQUESTS_CA_BUNDLE``) and a ``.netrc`` login — still applies, read once when the
client is made and not on every request (the senders' per-request CPU, pipeline.api.transport).

The proxy is a tiny recording HTTP server on loopback that answers every request itself, as a
forward proxy in front of the real host would after forwarding it.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.api import CallsApiClient, CampaignStatus
from tests.api.json_replies import JsonHandler
from tests.api.test_tls import https_server  # noqa: F401 - the fixture, used by name
from tests.conftest import random_token

TOKEN = random_token(1, 3)
# Nothing listens there: a request that reaches anything went through the proxy.
UNREACHABLE = "http://127.0.0.1:9"


class _Proxy(http.server.ThreadingHTTPServer):
    seen: list[tuple[str, str | None]]  # request target (absolute for a proxy), Authorization


class _ProxyHandler(JsonHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        phones = json.loads(self.rfile.read(length))
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        self.reply_json([str(n) for n in range(len(phones))])


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Proxy]:
    server = _Proxy(("127.0.0.1", 0), _ProxyHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, address)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _never_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, reading the environment the way requests does fails the test."""

    def read(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the environment was read again for a request")

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", read)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", read)
    monkeypatch.setattr(requests.utils, "get_netrc_auth", read)


BODY = b'[{"phone":"79001234567"},{"phone":"79001234568"}]'


def test_the_proxy_of_the_environment_carries_every_request_read_once(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = CallsApiClient(UNREACHABLE, TOKEN, connect_timeout=5, timeout=5)
    _never_again(monkeypatch)
    for n in range(3):
        assert client.add_phones_body(BODY, idempotence_key=f"k{n}") == ["0", "1"]
    assert [target for target, _auth in proxy.seen] == [
        f"{UNREACHABLE}/api/calls/campaign/{TOKEN}/addPhones"
    ] * 3


def test_no_proxy_for_the_host_is_kept(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch, emulator: Any, campaign: dict[str, Any]
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client = CallsApiClient(emulator.base_url, campaign["token"], connect_timeout=5, timeout=5)
    _never_again(monkeypatch)
    assert len(client.add_phones_body(BODY, idempotence_key="direct")) == 2
    assert proxy.seen == []  # straight to the emulator


def test_a_netrc_login_for_the_host_is_still_sent(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = CallsApiClient(UNREACHABLE, TOKEN, connect_timeout=5, timeout=5)
    _never_again(monkeypatch)
    client.add_phones_body(BODY, idempotence_key="k")
    expected = "Basic " + base64.b64encode(b"someone:secret").decode()
    assert [auth for _target, auth in proxy.seen] == [expected]


def test_the_ca_bundle_of_the_environment_is_trusted_when_none_is_configured(
    https_server: tuple[str, Path],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, cert = https_server
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    client = CallsApiClient(url, TOKEN, connect_timeout=5, timeout=5)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # read when the client was made
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert client.campaign_status() is CampaignStatus.PAUSED
