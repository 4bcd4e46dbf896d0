"""The :class:`Emulator`: one object that owns the state, the clock, the faults and the server.

Usage::

    with Emulator(seed=0) as emu:                       # start() ... stop()
        camp = emu.create_campaign("104.7056." + "a" * 43, name="Reminders")
        requests.post(f"{emu.base_url}/api/calls/campaign/{camp['token']}/addPhones", json=[...])
        emu.advance(3600)                               # one hour of dialing
        emu.jobs(camp["id"])                            # what the dialer did
"""

from __future__ import annotations

import threading
import time
from functools import partial
from types import TracebackType
from typing import Any

from pipeline.emulator.admin import admin_request
from pipeline.emulator.core import Spelling, State
from pipeline.emulator.dialer import simulate
from pipeline.emulator.faults import Faults
from pipeline.emulator.model import Clock
from pipeline.emulator.reports import admin_job
from pipeline.emulator.server import EmulatorHTTPServer
from pipeline.emulator.wire import TOO_LARGE_BODIES


class Emulator:
    """A local Calls API on a real socket; nothing listens until :meth:`start`.

    ``seed`` drives the dialing outcomes; ``start_ms`` fixes the clock's start (default: the
    wall clock when the emulator is built — after that the clock moves only by ``advance``).
    ``running_status``/``cancelled_status`` pick the documented spellings
    (``inProgress``/``inProcess``, ``cancelledByUser``/``canceled``). ``max_body_bytes``
    (None: no limit) answers a longer request body with 413 and a ``too_large_body`` of
    ``json``, ``html`` or ``empty`` (the real service's limit and 413 body are undocumented).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        *,
        start_ms: int | None = None,
        running_status: str = "inProgress",
        cancelled_status: str = "cancelledByUser",
        max_body_bytes: int | None = None,
        too_large_body: str = "json",
    ) -> None:
        if running_status not in ("inProgress", "inProcess"):
            raise ValueError("running_status must be 'inProgress' or 'inProcess'")
        if cancelled_status not in ("cancelledByUser", "canceled"):
            raise ValueError("cancelled_status must be 'cancelledByUser' or 'canceled'")
        self.host = host
        self.port = port
        self.seed = seed
        self.clock = Clock(int(time.time() * 1000) if start_ms is None else start_ms)
        self.state = State(self.clock, Spelling(running_status, cancelled_status))
        self.faults: Faults = Faults()
        self.max_body_bytes: int | None = None
        self.too_large_body = "json"
        self.set_limits(max_body_bytes, too_large_body)
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = EmulatorHTTPServer(
            (self.host, self.port), self, admin=partial(admin_request, self)
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="jaicp-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    # ----------------------------------------------------------------- campaigns and jobs
    def create_campaign(
        self,
        token: str,
        name: str = "Campaign",
        *,
        status: str = "inProgress",
        max_simultaneous_calls: int = 5,
        max_attempts: int = 3,
        retry_interval_min: int = 30,
    ) -> dict[str, Any]:
        """Create a campaign; returns its admin view (``id``, ``token``, ``name``, ...)."""
        camp = self.state.create_campaign(
            token,
            name,
            status=status,
            max_simultaneous_calls=max_simultaneous_calls,
            max_attempts=max_attempts,
            retry_interval_min=retry_interval_min,
        )
        return camp.public()

    def campaigns(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [camp.public() for camp in self.state.campaigns.values()]

    def jobs(self, campaign_id: int | None = None) -> list[dict[str, Any]]:
        """Every job (of one campaign when ``campaign_id`` is given), oldest first."""
        spelling = self.state.spelling
        with self.state.lock:
            chosen = [
                camp
                for camp in self.state.campaigns.values()
                if campaign_id is None or camp.id == campaign_id
            ]
            jobs = [job for camp in chosen for job in camp.jobs]
            jobs.sort(key=lambda job: int(job.id))
            return [admin_job(job, spelling) for job in jobs]

    # ----------------------------------------------------------------- clock
    def now_ms(self) -> int:
        return self.clock.now_ms()

    def advance(self, seconds: float) -> None:
        """Move the clock forward and let every campaign's dialer catch up."""
        with self.state.lock:
            before = self.clock.now_ms()
            after = self.clock.advance(seconds)
            for camp in self.state.campaigns.values():
                simulate(camp, before, after, self.seed)

    def set_clock_ms(self, value: int) -> None:
        """Jump the clock; forward jumps run the dialer, backward ones only move the clock."""
        with self.state.lock:
            before = self.clock.now_ms()
            if value > before:
                self.advance((value - before) / 1000)
            self.clock.set_ms(value)

    # ----------------------------------------------------------------- limits, faults, log
    def set_limits(self, max_body_bytes: int | None, too_large_body: str = "json") -> None:
        """Answer request bodies longer than ``max_body_bytes`` with 413 (None: no limit)."""
        if max_body_bytes is not None and max_body_bytes < 0:
            raise ValueError("max_body_bytes must be 0 or more (None: no limit)")
        if too_large_body not in TOO_LARGE_BODIES:
            raise ValueError(f"too_large_body must be one of {', '.join(TOO_LARGE_BODIES)}")
        self.max_body_bytes, self.too_large_body = max_body_bytes, too_large_body

    def set_faults(self, rules: list[Any], seed: int | None = None) -> None:
        self.faults.configure(rules, seed)

    def clear_faults(self) -> None:
        self.faults.clear()

    def record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._log.append(entry)

    def requests_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return [dict(entry) for entry in self._log]

    def reset(self) -> None:
        """Forget campaigns, jobs, keys, the log and the faults; the clock goes back to start.
        The limits stay: they are the server's configuration, not its state."""
        self.state.reset()
        self.faults.clear()
        with self._log_lock:
            self._log.clear()
