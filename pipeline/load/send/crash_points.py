"""Test hooks, read once from the environment at start; inert when the variables are unset.

``JAICP_PIPELINE_CRASH_AT="<point>@<n>"`` makes the process kill itself with SIGKILL at
``<point>`` of the n-th batch send attempt of this process (1-based; every attempt counts,
retries included, in the order they start). Points, in the order a send passes them:

* ``before_intent`` — the batch is frozen, its attempt is not marked yet;
* ``after_intent``  — the attempt is marked and committed, nothing is sent;
* ``after_send``    — the HTTP reply has arrived at the transport, not yet parsed;
* ``after_reply``   — the job ids are parsed, the outcome is not committed;
* ``after_outcome`` — the outcome is committed.

``JAICP_PIPELINE_STOP_AT="<point>@<n>"`` (same syntax, not together with ``CRASH_AT``) makes
the process stop itself with SIGSTOP there instead: it is frozen with everything it holds (a
request on the wire, a lease it believes it owns) until someone sends SIGCONT — a GC pause or a
frozen VM, on cue.

``JAICP_PIPELINE_CLOCK_OFFSET_S=<float>`` adds that many seconds to the uploader's wall clock
(ledger times and key-expiry decisions), so a test can move it 25 h forward together with the
emulator's clock.

Usage::

    hooks = TestHooks.from_env()
    clock = hooks.clock(utc_now)
    hooks.install(client.session)        # the after_send point, only when armed
    n = hooks.start_attempt()            # once per attempt, before before_intent
    hooks.reach("after_intent")
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from pipeline.api.deadline import DeadlineAdapter
from pipeline.errors import ConfigError

CRASH_ENV = "JAICP_PIPELINE_CRASH_AT"
STOP_ENV = "JAICP_PIPELINE_STOP_AT"
CLOCK_OFFSET_ENV = "JAICP_PIPELINE_CLOCK_OFFSET_S"
CRASH_POINTS = ("before_intent", "after_intent", "after_send", "after_reply", "after_outcome")


@dataclass
class TestHooks:
    """The parsed hooks; the default instance does nothing."""

    __test__ = False  # not a pytest test class despite its name

    crash_point: str | None = None
    crash_attempt: int = 0
    crash_signal: int = signal.SIGKILL
    clock_offset_s: float = 0.0
    _attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TestHooks:
        """Parse both variables; a malformed value is a ConfigError (a test must not pass idly)."""
        env = os.environ if environ is None else environ
        hooks = cls()
        crash, stop = env.get(CRASH_ENV, "").strip(), env.get(STOP_ENV, "").strip()
        if crash and stop:
            raise ConfigError(f"set {CRASH_ENV} or {STOP_ENV}, not both.")
        name, value = (STOP_ENV, stop) if stop else (CRASH_ENV, crash)
        if value:
            point, _, n = value.partition("@")
            if point not in CRASH_POINTS or not n.isdigit() or int(n) < 1:
                raise ConfigError(
                    f"{name}={value!r}: expected <point>@<n> with a point of "
                    f"{', '.join(CRASH_POINTS)} and n >= 1, e.g. after_send@2."
                )
            hooks.crash_point, hooks.crash_attempt = point, int(n)
            hooks.crash_signal = signal.SIGSTOP if stop else signal.SIGKILL
        offset = env.get(CLOCK_OFFSET_ENV, "").strip()
        if offset:
            try:
                hooks.clock_offset_s = float(offset)
            except ValueError:
                raise ConfigError(
                    f"{CLOCK_OFFSET_ENV}={offset!r}: expected seconds as a number, e.g. 90000."
                ) from None
        return hooks

    @property
    def armed(self) -> bool:
        """Whether a crash point is set."""
        return self.crash_point is not None

    def clock(self, base: Callable[[], datetime]) -> Callable[[], datetime]:
        """``base`` shifted by the clock offset (``base`` itself when there is none)."""
        if not self.clock_offset_s:
            return base
        shift = timedelta(seconds=self.clock_offset_s)
        return lambda: base() + shift

    def start_attempt(self) -> int:
        """Count one more send attempt of this process; remembered for this thread."""
        with self._lock:
            self._attempts += 1
            n = self._attempts
        self._local.attempt = n
        return n

    def current_attempt(self) -> int:
        """The attempt this thread is working on (0 before its first)."""
        attempt: int = getattr(self._local, "attempt", 0)
        return attempt

    def adopt_attempt(self, attempt: int) -> None:
        """Work on ``attempt`` in this thread too (a helper thread that carries its request)."""
        self._local.attempt = attempt

    def reach(self, point: str) -> None:
        """Kill (or stop) the process here if this is the armed point of the armed attempt."""
        if point == self.crash_point and getattr(self._local, "attempt", 0) == self.crash_attempt:
            os.kill(os.getpid(), self.crash_signal)

    def install(self, session: requests.Session) -> None:
        """Mount the ``after_send`` hook on ``session`` (only when that point is armed)."""
        if self.crash_point != "after_send":
            return
        adapter = _AfterSendAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)


class _AfterSendAdapter(DeadlineAdapter):
    """Fires ``after_send`` once an addPhones reply has arrived, before anyone parses it (a
    DeadlineAdapter: it replaces the transport's, whose request deadline must still hold)."""

    def __init__(self, hooks: TestHooks) -> None:
        super().__init__()
        self._hooks = hooks

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        if (request.url or "").split("?", 1)[0].endswith("/addPhones"):
            self._hooks.reach("after_send")
        return response
