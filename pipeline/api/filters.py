"""Request models of the date-filtered reports, and the JSON encoding of small request bodies.

Date-times go out as ISO-8601 in UTC with a ``Z`` (the documented example form); a naive
datetime is refused rather than guessed, because a wrong zone shifts the report window.

Usage::

    f = JobReportFilter(created_at_from=datetime(2024, 5, 1, tzinfo=UTC))
    f.to_json()  ->  {"createdAtFrom": "2024-05-01T00:00:00Z"}
    client.job_report_by_date(f, page=0, page_size=200)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def iso_utc(value: datetime) -> str:
    """``2024-05-01T00:00:00Z`` (milliseconds kept when present)."""
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; pass an aware datetime (e.g. tzinfo=UTC)")
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON of a request body."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fields(pairs: dict[str, datetime | None]) -> dict[str, str]:
    return {k: iso_utc(v) for k, v in pairs.items() if v is not None}


@dataclass(frozen=True, slots=True)
class JobReportFilter:
    """Filter of ``callJob/getReportByDate`` (every bound optional)."""

    created_at_from: datetime | None = None
    created_at_to: datetime | None = None
    finished_at_from: datetime | None = None
    finished_at_to: datetime | None = None

    def to_json(self) -> dict[str, str]:
        """The ``filter`` object of the request body."""
        return _fields(
            {
                "createdAtFrom": self.created_at_from,
                "createdAtTo": self.created_at_to,
                "finishedAtFrom": self.finished_at_from,
                "finishedAtTo": self.finished_at_to,
            }
        )


@dataclass(frozen=True, slots=True)
class AttemptReportFilter:
    """Filter of ``callAttempt/getReportByDate`` (every bound optional)."""

    started_at_from: datetime | None = None
    started_at_to: datetime | None = None
    finished_at_from: datetime | None = None
    finished_at_to: datetime | None = None

    def to_json(self) -> dict[str, str]:
        """The ``filter`` object of the request body."""
        return _fields(
            {
                "startedAtFrom": self.started_at_from,
                "startedAtTo": self.started_at_to,
                "finishedAtFrom": self.finished_at_from,
                "finishedAtTo": self.finished_at_to,
            }
        )
