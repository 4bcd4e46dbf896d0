"""A tiny real HTTP server in front of the emulator that rewrites some of its replies: what a
misbehaving server (or a broken middlebox) would send, where the emulator's own faults have no
such kind.

Usage::

    with ReplyRewriter(emulator.base_url, rewrite) as proxy:   # on 127.0.0.1, port 0
        uploader.api["base_url"] = proxy.base_url

``rewrite(key, status, body)`` gets each addPhones reply the emulator gave (the request's
``Idempotence-Key``, the status and the JSON body) and returns the status and body to send
instead, or None to pass it on unchanged. Every request still reaches the emulator, so the
jobs it creates are real.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import requests

Rewrite = Callable[[str, int, Any], tuple[int, Any] | None]


class ReplyRewriter:
    """The proxy server; a context manager that starts and stops it."""

    def __init__(self, upstream: str, rewrite: Rewrite) -> None:
        self.upstream = upstream.rstrip("/")
        self.rewrite = rewrite
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: pytest shows failures, not traffic

            def do_GET(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "accept", "idempotence-key")
                }
                reply = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    data=body,
                    headers=headers,
                    timeout=30,
                    allow_redirects=False,
                )
                status, content = reply.status_code, reply.content
                key = self.headers.get("Idempotence-Key")
                if self.path.split("?", 1)[0].endswith("/addPhones") and key:
                    changed = proxy.rewrite(key, status, reply.json())
                    if changed is not None:
                        status, content = changed[0], json.dumps(changed[1]).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler

    def __enter__(self) -> ReplyRewriter:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
