"""The HTTP side: a threaded HTTP/1.1 server, fault application and the request log.

Each connection gets a thread (``ThreadingHTTPServer``), keep-alive is on (HTTP/1.1) and
Nagle is off (``TCP_NODELAY``) so that small request/reply pairs on one connection do not
wait 40 ms for delayed ACKs. The default ``log_message`` is silenced because it would print
the request line — and with it the campaign token — to stderr.

Request-log entries (contract): ``ts`` (emulator clock, ms), ``method``, ``path`` (token
replaced by ``***``, no query string: the query carries phone numbers), ``idempotenceKey``,
``status`` (``null`` when the connection was dropped without a reply), ``bodySha256`` (of the
bytes the idempotence fingerprint uses: the body, or the sorted query for GET/crmCalls),
``replayed``, ``fault`` (the kind that decided the request, else ``null``), ``arrived``
(``time.monotonic()`` of this host once the whole request was read, before any delay: which
requests had reached the server at a given moment, e.g. when a test signalled the client),
``inFlight`` (public requests being handled when this one had been read, itself included:
how many a client had on the wire at once), ``answered`` (``time.monotonic()`` right before
the reply's first byte left; absent when none did: a request that arrived later than this was
sent by someone who could have had the reply), ``arrivedAt``
(the real wall clock, Unix seconds with a fraction, when the request had been read: unlike
``ts`` it moves by itself, so tests can see who sent what while a client was waiting).

A request body longer than the emulator's ``maxBodyBytes`` (``null``: no limit; admin
``POST limits``) is answered 413 before anything else, as a front proxy would, with the
configured body: ``json`` (``{"type": "request.too.large", ...}``), ``html`` (nginx's page)
or ``empty``. What the real service sends for 413 is undocumented.

Usage: see :class:`pipeline.emulator.Emulator`; this module is its transport.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from pipeline.emulator.core import Reply, State, json_reply
from pipeline.emulator.faults import FaultRule, Faults
from pipeline.emulator.model import ApiError, Clock
from pipeline.emulator.routes import Request, fingerprint_bytes, handle, mask_path, match, sha256
from pipeline.emulator.wire import drip_reply, too_large_reply

log = logging.getLogger("pipeline.emulator")
ADMIN_PREFIX = "/__emulator__/"


class Backend(Protocol):
    """What the transport uses of the :class:`~pipeline.emulator.Emulator` it serves."""

    state: State
    clock: Clock
    faults: Faults
    max_body_bytes: int | None
    too_large_body: str

    def record(self, entry: dict[str, Any]) -> None: ...


# An admin call: method, path under ADMIN_PREFIX, query, JSON body → JSON value (None: empty).
AdminCall = Callable[[str, str, list[tuple[str, str]], Any], Any]


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many parallel client connections in the benchmark

    def __init__(self, address: tuple[str, int], emulator: Backend, admin: AdminCall) -> None:
        self.emulator = emulator
        self.admin = admin
        self.stopping = threading.Event()  # ends replies being dripped
        self.in_flight = 0  # public requests being handled now (the log's inFlight)
        self.in_flight_lock = threading.Lock()
        super().__init__(address, Handler)

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The stdlib prints a traceback to stderr for every reset connection; log instead.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _ClientGoneError(Exception):
    """The connection closed before the whole request body arrived."""


def _fault_body(kind: str, status: int) -> dict[str, Any]:
    done = "the request was carried out" if kind.endswith("after_commit") else "nothing was done"
    return {"type": "emulator.fault", "message": f"injected {kind} (HTTP {status}); {done}"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the stdlib version writes the request line, token included, to stderr."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    # ----------------------------------------------------------------- plumbing
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(chunks)
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    raise _ClientGoneError
                chunks.append(chunk)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            # The client died mid-request (a real server would not see a request at all):
            # never act on, or log, a truncated body as if it had been sent.
            raise _ClientGoneError
        return body

    def _send(
        self,
        reply: Reply,
        headers: dict[str, str] | None = None,
        entry: dict[str, Any] | None = None,
        drip: FaultRule | None = None,
    ) -> None:
        if entry is not None:
            # Log before the reply leaves: a client that has its answer must find the entry.
            entry["status"] = reply.status
            entry["answered"] = time.monotonic()
            self._record(entry)
        if drip is not None:
            drip_reply(self, reply, headers or {}, drip, self.server.stopping)
            return
        self.send_response(reply.status)
        content_type = reply.content_type
        if content_type == "application/json":
            content_type += "; charset=utf-8"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)

    def _send_error(self, exc: ApiError, entry: dict[str, Any] | None = None) -> None:
        self._send(json_reply(exc.status, exc.body), exc.headers, entry)

    def _drop(self, entry: dict[str, Any] | None = None) -> None:
        # No bytes at all: the client sees the connection close before any reply.
        if entry is not None:
            self._record(entry)
        self.close_connection = True

    def _record(self, entry: dict[str, Any]) -> None:
        if not entry.get("_logged"):
            entry["_logged"] = True
            self.server.emulator.record({k: v for k, v in entry.items() if k != "_logged"})

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        try:
            body = self._read_body()
        except _ClientGoneError:
            self.close_connection = True
            return
        except (ValueError, OSError):
            self._send_error(ApiError(400, {"type": "request.body.invalid", "message": "bad body"}))
            self.close_connection = True
            return
        query = parse_qsl(split.query, keep_blank_values=True)
        if split.path.startswith(ADMIN_PREFIX):
            self._admin(split.path.removeprefix(ADMIN_PREFIX), query, body)
        else:
            self._public(split.path, query, body)

    # ----------------------------------------------------------------- public API
    def _public(self, path: str, query: list[tuple[str, str]], body: bytes) -> None:
        server = self.server
        with server.in_flight_lock:
            server.in_flight += 1
            in_flight = server.in_flight
        try:
            self._handle_public(path, query, body, in_flight)
        finally:
            with server.in_flight_lock:
                server.in_flight -= 1

    def _handle_public(
        self, path: str, query: list[tuple[str, str]], body: bytes, in_flight: int
    ) -> None:
        emulator = self.server.emulator
        request = Request(self.command, query, body, self.headers.get("Idempotence-Key"))
        entry: dict[str, Any] = {
            "arrivedAt": time.time(),
            "ts": emulator.clock.now_ms(),
            "method": self.command,
            "path": mask_path(path),
            "idempotenceKey": request.key,
            "status": None,
            "bodySha256": sha256(body),
            "replayed": False,
            "fault": None,
            "arrived": time.monotonic(),
            "inFlight": in_flight,
        }
        try:
            limit = emulator.max_body_bytes
            if limit is not None and len(body) > limit:
                self._send(too_large_reply(len(body), limit, emulator.too_large_body), None, entry)
                return
            try:
                route = match(self.command, path)
            except ApiError as exc:
                self._send_error(exc, entry)
                return
            digest = sha256(fingerprint_bytes(route, request))
            entry["bodySha256"] = digest
            delays, rule = emulator.faults.pick(route.endpoint)
            for delay in delays:
                entry["fault"] = "delay"  # overwritten below if another rule decides
                time.sleep(delay.delay_seconds)
            if rule is not None:
                entry["fault"] = rule.kind
                if self._fault_before(rule.kind, rule, entry):
                    return
            try:
                reply, replayed = handle(emulator.state, route, request, digest)
                entry["replayed"] = replayed
            except ApiError as exc:
                reply, extra = json_reply(exc.status, exc.body), exc.headers
            else:
                extra = {}
            if rule is not None and rule.kind == "error_after_commit":
                reply, extra = json_reply(rule.status, _fault_body(rule.kind, rule.status)), {}
            elif rule is not None and rule.kind == "drop_after_commit":
                self._drop(entry)
                return
            self._send(
                reply, extra, entry, rule if rule is not None and rule.kind == "drip" else None
            )
        except OSError:
            # The client went away (it timed out during a delay fault, say): nobody to answer.
            self.close_connection = True
        except Exception:
            # Never let a bug look like a dropped connection; the path is already masked.
            log.exception("emulator failed on %s %s", self.command, entry["path"])
            self._send(
                json_reply(500, {"type": "emulator.internal.error", "message": "bug"}),
                entry=entry,
            )
        finally:
            self._record(entry)  # no-op when the reply path logged it already

    def _fault_before(self, kind: str, rule: Any, entry: dict[str, Any]) -> bool:
        """Apply a fault that answers before any work; True when the request is done."""
        if kind == "error_before_commit":
            self._send(json_reply(rule.status, _fault_body(kind, rule.status)), entry=entry)
        elif kind == "drop_before_commit":
            self._drop(entry)
        elif kind == "rate_limit":
            seconds = rule.retry_after
            shown = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
            body = {
                "type": "rate.limit.exceeded",
                "message": f"too many requests; retry in {shown} s",
            }
            self._send(json_reply(429, body), {"Retry-After": shown}, entry)
        elif kind == "redirect":
            self._send(Reply(307, b"", "text/plain"), {"Location": rule.location}, entry)
        else:
            return False
        return True

    # ----------------------------------------------------------------- admin API
    def _admin(self, path: str, query: list[tuple[str, str]], body: bytes) -> None:
        try:
            value = json.loads(body) if body.strip() else None
            result = self.server.admin(self.command, path, query, value)
        except ApiError as exc:
            self._send_error(exc)
            return
        except (ValueError, TypeError) as exc:
            self._send_error(ApiError(400, {"type": "emulator.admin.invalid", "message": str(exc)}))
            return
        if result is None:
            self._send(Reply(200, b"", "text/plain"))
        else:
            self._send(json_reply(200, result))
