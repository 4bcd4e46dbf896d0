"""The emulator's data: campaigns, call jobs, attempts, the clock and the API error type.

Everything here is plain data with ``__slots__`` so that a million jobs stay small in memory.
The emulator shares no code with the client on purpose (so the two cannot agree by accident).

Usage::

    clock = Clock(start_ms=1_700_000_000_000)
    clock.advance(1.5)            # the emulator's time only moves when told to
    raise ApiError(400, {"type": "phone.bad.format", "phone": "12", "message": "..."})
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

# Job statuses that end a job; the dialer never touches a job in one of these again.
FINAL_STATUSES = frozenset(
    {
        "longCallWithResult",
        "longCallWithNoResult",
        "noAnswer",
        "nonexistentNumber",
        "notDone",
        "cancelledByUser",
        "canceled",
        "technicalError",
    }
)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ApiError(Exception):
    """An HTTP error reply: the handler sends ``status`` with ``body`` as JSON.

    ``headers`` carries extras such as ``Retry-After``.
    """

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, type_: str, message: str, **extra: Any) -> ApiError:
    """Build the common ``{type, message, ...}`` error reply of the Calls API."""
    return ApiError(status, {"type": type_, "message": message, **extra})


class Clock:
    """The emulator's own clock in Unix milliseconds; it moves only through :meth:`advance`.

    A frozen clock keeps every timestamp and every 24 h expiry reproducible in tests.
    """

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._now

    def set_ms(self, value: int) -> None:
        with self._lock:
            self._now = int(value)

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise ValueError(f"the emulator clock cannot go back ({seconds} s); use set_ms")
        with self._lock:
            self._now += round(seconds * 1000)
            return self._now

    def reset(self) -> None:
        self.set_ms(self.start_ms)


@dataclass(slots=True)
class Policy:
    """The call policy of one job (the campaign's defaults filled in where the request had none)."""

    max_attempts: int
    retry_interval_min: int
    dialer_priority: int | None = None
    gmt_zone: str | None = None
    start_ms: int | None = None
    finish_ms: int | None = None
    allowed_days: list[str] | None = None
    allowed_time: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "maxAttempts": self.max_attempts,
            "retryIntervalInMinutes": self.retry_interval_min,
            "dialerPriority": self.dialer_priority,
            "gmtZone": self.gmt_zone,
            "startDateTime": self.start_ms,
            "finishDateTime": self.finish_ms,
            "allowedDays": self.allowed_days,
            "allowedTime": self.allowed_time,
        }


@dataclass(slots=True)
class Attempt:
    """One dialing attempt of a job, as the attempt report shows it."""

    number: int
    started_at: int
    finished_at: int | None = None
    duration_s: int = 0
    call_result: str | None = None
    outcome: str = ""  # answered | noAnswer | nonexistent (the dialer's private verdict)


@dataclass(slots=True)
class Job:
    """One call job. ``status`` uses the canonical spellings; the reply layer renames them."""

    id: str
    campaign_id: int
    phone: str
    payload: dict[str, Any] | None
    policy: Policy
    created_at: int
    idempotence_key: str | None
    redial_number: int | None = None
    status: str = "planned"
    finished_at: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    report_data: dict[str, Any] | None = None
    next_due: int | None = None  # when the dialer should start the next attempt
    cancel_requested: bool = False


@dataclass(slots=True)
class Campaign:
    """A call campaign addressed by its token (``account.campaign.secret``)."""

    id: int
    token: str
    account: str
    name: str
    status: str  # canonical: new | planned | inProgress | paused | finished | deleted
    created_at: int
    max_simultaneous_calls: int
    max_attempts: int
    retry_interval_min: int
    project_name: str = "example_project-263-Wnu"
    bot_id: str = "263-example_project-263-Wnu-49199"
    start_time: int | None = None
    end_time: int | None = None
    jobs: list[Job] = field(default_factory=list)
    by_phone: dict[str, list[Job]] = field(default_factory=dict)
    # Dialer state: jobs[dial_cursor:] were never looked at; `waiting` holds (due, seq, job) of
    # retries and delayed starts; `calls` holds (end, seq, job) of calls in progress.
    dial_cursor: int = 0
    waiting: list[tuple[int, int, Job]] = field(default_factory=list)
    calls: list[tuple[int, int, Job]] = field(default_factory=list)
    # shortReport counters, kept up to date so campaign info stays O(1) with a million jobs.
    processed: int = 0
    talk_s: int = 0
    retry_calls: int = 0

    def public(self) -> dict[str, Any]:
        """The admin view of the campaign (the token is included: the caller created it)."""
        return {
            "id": self.id,
            "token": self.token,
            "name": self.name,
            "status": self.status,
            "maxSimultaneousCalls": self.max_simultaneous_calls,
            "maxAttempts": self.max_attempts,
            "retryIntervalInMinutes": self.retry_interval_min,
            "creationDate": self.created_at,
        }
