"""No client error keeps the exception it was translated from (DESIGN §2.6).

``raise ApiError(...) from None`` hides the ``requests`` exception from a printed traceback,
but Python still stores it in ``__context__``: a logger, a crash reporter or a debugger that
walks the chain finds ``Max retries exceeded with url: /api/calls/campaign/<token>/...``.
Each kind of failure is produced for real (a closed loopback port, the emulator's delay and
dropped replies, TLS spoken to a plain-HTTP port, a 200 reply that is not JSON), then the
whole ``__cause__``/``__context__`` graph of the error is searched for the token.
"""

from __future__ import annotations

import http.server
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.emulator import Emulator
from pipeline.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    PipelineError,
    ServerError,
    UnexpectedResponseError,
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception reachable through ``__cause__`` and ``__context__``."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return seen


def _texts(exc: BaseException) -> Iterator[str]:
    """What anything inspecting ``exc`` could print: text, repr, args, attributes, frames."""
    yield str(exc)
    yield repr(exc)
    yield from (repr(a) for a in exc.args)
    for value in vars(exc).values():
        yield repr(value)
        yield str(getattr(value, "url", ""))  # requests' .request / .response
        if isinstance(value, str | bytes):
            yield str(value)  # e.g. JSONDecodeError.doc: the whole reply body
    yield "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, chain=False))


def _assert_clean(error: ApiError, token: str) -> None:
    chain = _chain(error)
    secret = token.rsplit(".", 1)[1]
    for exc in chain:
        for text in _texts(exc):
            assert secret not in text, f"the token is in {type(exc).__name__}: {text[:300]}"
    # Stricter than the search: a foreign exception may hide the URL where no search looks.
    foreign = [type(e).__name__ for e in chain if not isinstance(e, PipelineError)]
    assert foreign == [], f"{type(error).__name__} keeps {foreign} in its chain"


def _failure(call: Callable[[], object], kind: type[ApiError]) -> ApiError:
    with pytest.raises(kind) as info:
        call()
    return info.value


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed on leaving: nothing listens there


def test_connection_refused(campaign: dict[str, Any]) -> None:
    client = CallsApiClient(f"http://127.0.0.1:{_closed_port()}", campaign["token"])
    error = _failure(client.campaign_status, ApiConnectionError)
    _assert_clean(error, campaign["token"])


def test_read_timeout(emulator: Emulator, campaign: dict[str, Any]) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=0.2)
    emulator.set_faults([{"kind": "delay", "delaySeconds": 1.0, "times": 1}])
    error = _failure(client.campaign_status, ApiTimeoutError)
    _assert_clean(error, campaign["token"])


def test_reply_dropped_after_commit(emulator: Emulator, campaign: dict[str, Any]) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=10)
    emulator.set_faults([{"kind": "drop_after_commit", "endpoint": "addPhones", "times": 1}])
    error = _failure(lambda: client.add_phones([{"phone": "79001230001"}]), ApiConnectionError)
    _assert_clean(error, campaign["token"])


def test_tls_failure(emulator: Emulator, campaign: dict[str, Any]) -> None:
    # TLS spoken to the emulator's plain-HTTP port: a real handshake failure (SSLError).
    https = emulator.base_url.replace("http://", "https://")
    client = CallsApiClient(https, campaign["token"], connect_timeout=5, timeout=5)
    error = _failure(client.campaign_status, ApiError)
    assert "TLS" in str(error)
    _assert_clean(error, campaign["token"])


def test_server_error(emulator: Emulator, campaign: dict[str, Any]) -> None:
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=10)
    emulator.set_faults([{"kind": "error_before_commit", "status": 502, "times": 1}])
    error = _failure(client.campaign_status, ServerError)
    _assert_clean(error, campaign["token"])


class _EchoingProxy(http.server.BaseHTTPRequestHandler):
    """A misconfigured proxy: 200 with an HTML page that quotes the request line."""

    def _reply(self) -> None:
        body = f"<html><body>welcome to {self.path}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._reply()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echoing_proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_bad_reply(echoing_proxy: str, campaign: dict[str, Any]) -> None:
    client = CallsApiClient(echoing_proxy, campaign["token"], timeout=10)
    adding = _failure(
        lambda: client.add_phones([{"phone": "79001230002"}]), UnexpectedResponseError
    )
    _assert_clean(adding, campaign["token"])
    reporting = _failure(lambda: client.job_report(ids=["1"]), UnexpectedResponseError)
    _assert_clean(reporting, campaign["token"])
