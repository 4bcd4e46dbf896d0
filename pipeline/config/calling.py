"""The ``policy.timezone`` and ``policy.window`` sections: how a row's local zone is decided
and which named calling window applies (docs/compliance.md "Time zones", "Calling windows").

Usage::

    TimezoneConfig.model_validate({"from": "number", "fallback": "reject"}).fallback_zone  # None
    WindowConfig.model_validate({"preset": "ru-230fz"}).holidays                           # True
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.config.rules import normalize_gmt_zone

# The names of pipeline.transform.windows.PRESETS (a test holds the two together).
PresetName = Literal["ru-230fz", "business"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TimezoneConfig(_Section):
    """``from``: ``column`` (the mapped gmtZone column only), ``number`` (the column, then the
    number: area code or Russian mobile range), ``campaign`` (no zone sent unless the column
    has one: the campaign's dialer decides). ``fallback``: what a row with no zone gets, either
    ``reject`` (reason timezone_unknown) or a zone (``Europe/Moscow``, ``+03:00``); required
    for ``column`` and ``number`` so that no row ever gets a zone nobody chose."""

    source: Literal["column", "number", "campaign"] = Field(alias="from")
    fallback: str | None = None

    @field_validator("fallback")
    @classmethod
    def _check_fallback(cls, value: str | None) -> str | None:
        if value is None or value == "reject":
            return value
        return normalize_gmt_zone(value)

    @model_validator(mode="after")
    def _check_explicit(self) -> TimezoneConfig:
        if self.source != "campaign" and self.fallback is None:
            raise ValueError(
                "fallback is required: write fallback: reject (rows without a zone are "
                "rejected as timezone_unknown) or a zone such as Europe/Moscow"
            )
        if self.source == "campaign" and self.fallback is not None:
            raise ValueError("from: campaign sends no zone of its own; remove fallback")
        return self

    @property
    def fallback_zone(self) -> str | None:
        """The zone given to rows without one, or None: reject them."""
        return None if self.fallback in (None, "reject") else self.fallback


class WindowConfig(_Section):
    """A named calling window (``preset``) that the fixed policy and the row's columns may
    narrow but not widen; ``holidays``: public holidays of the row's country (by its number)
    get the preset's holiday hours; ``holiday_horizon_days``: how far after the row's start
    holidays are looked for when the row has no finishDateTime."""

    preset: PresetName
    holidays: bool = True
    holiday_horizon_days: int = Field(default=7, ge=1, le=366)
