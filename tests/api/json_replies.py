"""A test HTTP handler that answers with JSON and keeps quiet (no access log on stderr).

Usage::

    class _Status(JsonHandler):
        def do_GET(self) -> None:
            self.reply_json("paused")
"""

from __future__ import annotations

import http.server
import json


class JsonHandler(http.server.BaseHTTPRequestHandler):
    """``reply_json(value)``: a 200 with ``value`` as its JSON body."""

    def reply_json(self, value: object) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass
