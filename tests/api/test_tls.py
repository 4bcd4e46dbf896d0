"""TLS is always verified; a configured CA bundle reaches the session.

A self-signed certificate made with the ``openssl`` CLI serves a tiny stdlib HTTPS server: the
client refuses it without the bundle and accepts it with the bundle.
"""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pipeline.api import CallsApiClient, CampaignStatus
from pipeline.config import parse_config
from pipeline.errors import ApiError, TransientApiError
from tests.api.json_replies import JsonHandler
from tests.conftest import random_token

TOKEN = random_token(1, 2)


def test_ca_bundle_reaches_session_verify(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    session = requests.Session()
    CallsApiClient("https://example.invalid", TOKEN, session=session, ca_bundle=bundle)
    assert session.verify == str(bundle)


def test_verification_is_switched_back_on() -> None:
    session = requests.Session()
    session.verify = False  # a careless caller
    CallsApiClient("https://example.invalid", TOKEN, session=session)
    assert session.verify is True


def test_from_config_uses_the_api_section(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    cfg = parse_config(
        {"api": {"base_url": "https://h.example/", "ca_bundle": str(bundle), "timeout_s": 7}},
        environ={},
    )
    session = requests.Session()
    client = CallsApiClient.from_config(cfg, TOKEN, session=session)
    assert session.verify == str(bundle)
    assert "https://h.example" in repr(client) and TOKEN not in repr(client)


class _StatusHandler(JsonHandler):
    def do_GET(self) -> None:
        self.reply_json("paused")


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl CLI is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def test_self_signed_server_refused_without_bundle(https_server: tuple[str, Path]) -> None:
    url, _ = https_server
    with pytest.raises(ApiError) as info:
        CallsApiClient(url, TOKEN, connect_timeout=5, timeout=5).campaign_status()
    assert not isinstance(info.value, TransientApiError)  # retrying cannot fix trust
    assert "ca_bundle" in str(info.value)
    assert TOKEN not in str(info.value)


def test_self_signed_server_accepted_with_bundle(https_server: tuple[str, Path]) -> None:
    url, cert = https_server
    client = CallsApiClient(url, TOKEN, ca_bundle=cert, connect_timeout=5, timeout=5)
    assert client.campaign_status() is CampaignStatus.PAUSED
