"""Replies the emulator writes by hand: a reply dripped byte by byte, and the 413 page.

Usage (from the request handler)::

    drip_reply(handler, reply, {"Retry-After": "1"}, rule, server.stopping)
    handler_send(too_large_reply(len(body), limit, "html"))
"""

from __future__ import annotations

import json
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from pipeline.emulator.core import Reply
from pipeline.emulator.faults import FaultRule

TOO_LARGE_BODIES = ("json", "html", "empty")

# What nginx sends when client_max_body_size is exceeded (a common front of Java services).
_NGINX_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def too_large_reply(size: int, limit: int, style: str) -> Reply:
    """The 413 reply for a body of ``size`` bytes over ``limit``, in one of three styles."""
    if style == "html":
        return Reply(413, _NGINX_413, "text/html")
    if style == "empty":
        return Reply(413, b"", "text/plain")
    message = f"request body of {size} bytes is larger than the limit of {limit} bytes"
    body = {"type": "request.too.large", "message": message}
    return Reply(413, json.dumps(body).encode(), "application/json")


def drip_reply(
    handler: BaseHTTPRequestHandler,
    reply: Reply,
    headers: dict[str, str],
    rule: FaultRule,
    stopping: threading.Event,
) -> None:
    """Write the whole reply one byte every ``rule.drip_seconds`` (from the status line, or
    from the body on); stops early when the emulator stops. A client that gives up makes a
    write fail with OSError, which the handler treats as a gone client."""
    phrase = HTTPStatus(reply.status).phrase
    content_type = reply.content_type
    if content_type == "application/json":
        content_type += "; charset=utf-8"
    lines = [
        f"HTTP/1.1 {reply.status} {phrase}",
        f"Date: {formatdate(usegmt=True)}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(reply.body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    data = reply.body
    if rule.drip_from == "status":
        data = head + data
    else:
        handler.wfile.write(head)
    for n in range(len(data)):
        if stopping.wait(rule.drip_seconds):
            break
        handler.wfile.write(data[n : n + 1])
    handler.close_connection = True
