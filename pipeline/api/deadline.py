"""A deadline for one whole HTTP exchange: connect, send, status line, headers and body.

``requests`` knows a connect timeout and a timeout *per socket read* only: a server (or a
proxy) that drips its reply a byte at a time, each byte within the read timeout, holds a
request as long as it likes (122 s were seen with a 2 s timeout). Reading the body in a loop
that checks the clock does not help either: the status line and headers are read inside
``http.client``, and one ``read(n)`` of the body blocks until ``n`` bytes have come. So a
shared watchdog thread shuts the request's socket down when its deadline passes; the read
blocked in the requesting thread returns at once and the transport reports a timeout.

The request's connection finds its deadline through a thread-local: ``requests`` and
``urllib3`` make the whole exchange on the calling thread. Connecting is bounded by the
connect timeout (the socket does not exist before); the watchdog shuts a connection that
comes up after the deadline at once.

Usage::

    session.mount("https://", DeadlineAdapter())   # Transport does this for its session
    with Deadline(30.0) as deadline:                # on the thread that makes the request
        response = session.request(..., stream=True)
        body = b"".join(response.iter_content(65536))
    deadline.expired                                # True: the watchdog ended the request
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager, ProxyManager

_local = threading.local()


class Deadline:
    """The deadline of the request made on this thread inside the ``with`` block."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = 0.0  # time.monotonic() when it passes
        self.expired = False  # the watchdog fired while the request was going on
        self._done = False
        self._conn: HTTPConnection | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Deadline:
        self.at = time.monotonic() + self.seconds
        _local.deadline = self
        _WATCHDOG.add(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _local.deadline = None
        with self._lock:
            # From here the watchdog leaves the connection alone: it may serve the next request.
            self._done = True
            self._conn = None

    @property
    def passed(self) -> bool:
        """Whether the deadline has passed (whether or not the watchdog has fired yet)."""
        return self.expired or time.monotonic() >= self.at

    @property
    def done(self) -> bool:
        """Whether the request's ``with`` block has ended."""
        return self._done

    def attach(self, conn: HTTPConnection) -> None:
        """``conn`` carries this request (connected now, or reused from the pool)."""
        with self._lock:
            if self._done:
                return
            self._conn = conn
            if self.expired:
                _shut(conn)

    def fire(self) -> None:
        """The deadline passed: end the request by shutting its socket down."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._conn is not None:
                _shut(self._conn)


def _shut(conn: HTTPConnection) -> None:
    sock = conn.sock
    if sock is None:
        return  # still connecting: attach() shuts it once connected
    # socket.socket's own shutdown, also for a TLS socket: SSLSocket.shutdown would drop its
    # TLS state under the feet of the thread reading from it. OSError: closed already.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _attach(conn: HTTPConnection) -> None:
    deadline: Deadline | None = getattr(_local, "deadline", None)
    if deadline is not None:
        deadline.attach(conn)


class _Watchdog:
    """One daemon thread for every deadline of the process (a heap ordered by time)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="http-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is deadline:  # the earliest now: the thread sleeps too long
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _at, _n, deadline = heapq.heappop(self._heap)
                    deadline.fire()  # does nothing when its request has ended
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_WATCHDOG = _Watchdog()


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)  # a connection reused from the pool does not connect again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _Pool, "https": _TLSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections obey the :class:`Deadline` of their thread."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # a SOCKS manager keeps its own pools
            manager.pool_classes_by_scheme = _POOLS
        return manager
