"""The ``suppress:`` section and ``upload.contact_caps``: whom never to call, and how often a
phone may get a new call job (docs/compliance.md).

Usage::

    SuppressConfig.model_validate({"files": ["dnc.csv"], "opt_out_results": ["do_not_call"]})
    ContactCapsConfig.model_validate({"day": 1, "week": 2, "month": 8}).limits
    # (("day", 1), ("week", 2), ("month", 8))
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuppressConfig(_Section):
    """Do-not-call lists beside the ledger's own (``jaicp-pipeline suppress``).

    ``files``: CSV/XLSX files (paths relative to the config file) read as text, one phone per
    data row in the column ``column`` (or the only column), normalised by ``phone:`` exactly as
    rows are; a cell that is no phone stops the run as a config error naming file and row.
    ``opt_out_results``: call results (``results`` fetches them) that put the row's phone on the
    ledger's list, e.g. the result a bot gives for "do not call me again".
    """

    files: tuple[str, ...] = ()
    column: str = "phone"
    opt_out_results: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = ()


class ContactCapsConfig(_Section):
    """At most this many new call jobs per phone per calendar day / ISO week (Monday to
    Sunday) / calendar month of ``timezone``, counted over the whole ledger (every run, file and
    campaign that shares it). Unset periods are not capped."""

    day: Annotated[int, Field(ge=1, le=1000)] | None = None
    week: Annotated[int, Field(ge=1, le=1000)] | None = None
    month: Annotated[int, Field(ge=1, le=10_000)] | None = None
    # Whose calendar: 230-FZ counts the debtor's day; one zone for the whole ledger (compliance.md).
    timezone: str = "Europe/Moscow"

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Moscow") from None
        return value

    @model_validator(mode="after")
    def _check_some(self) -> ContactCapsConfig:
        if not self.limits:
            raise ValueError("give at least one of day, week, month (e.g. {day: 1, week: 2})")
        return self

    @property
    def limits(self) -> tuple[tuple[str, int], ...]:
        """(period, most jobs) for each period given."""
        given = (("day", self.day), ("week", self.week), ("month", self.month))
        return tuple((period, n) for period, n in given if n is not None)
