"""A row's zone and calling window decided together, as the transform applies them.

:class:`CallingRules` is what :class:`~pipeline.transform.assembly.RowTransformer` calls for
each accepted row when ``policy.timezone`` or ``policy.window`` is set. It returns the policy
to send, how the zone was decided (for the ledger's ``rows.zone_source``), or the reason that
rejects the row (``timezone_unknown``, ``window_not_allowed``).

The row's identity (its row key: the 7-day repeat check, dedupe across runs) stays the policy
the operator gave (fixed policy + the row's cells): what the tool decides from the number,
the fallback, the preset and the holiday calendar is left out, so a file re-run after these
settings were turned on, or on another day with another holiday ahead, is still a repeat.

Usage::

    rules = CallingRules.from_config(config, now=now)      # None when neither section is set
    decided = rules.apply("79241234567", {}, own={})
    decided.policy["gmtZone"], decided.zone_source         # 'Asia/Vladivostok', 'mobile_range'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.transform import codes
from pipeline.transform.timezones import ZoneDecider, ZoneSource
from pipeline.transform.windows import (
    PRESETS,
    WindowDecider,
    check_narrows,
    operator_week,
    phone_region,
)


@dataclass(slots=True)
class Decided:
    """The policy to send and how its zone was decided (None: no zone decided)."""

    policy: dict[str, Any]
    zone_source: ZoneSource | None


class CallingRules:
    """Zone and window decisions for the rows of one config (see the module doc)."""

    def __init__(self, zones: ZoneDecider | None, windows: WindowDecider | None) -> None:
        self.zones = zones
        self.windows = windows

    @classmethod
    def from_config(cls, config: Config, *, now: datetime) -> CallingRules | None:
        """The rules of ``config.policy``, or None when it sets neither timezone nor window.

        Raises :class:`ConfigError` when the fixed policy's window is wider than the preset.
        """
        policy = config.policy
        zones = windows = None
        if policy.timezone is not None and policy.timezone.source != "campaign":
            zones = ZoneDecider(
                use_number=policy.timezone.source == "number",
                fallback=policy.timezone.fallback_zone,
            )
        if policy.window is not None:
            preset = PRESETS[policy.window.preset]
            fixed = policy.api_values()
            problem = check_narrows(operator_week(fixed, preset), preset)
            if problem is not None:
                raise ConfigError(
                    f"policy.allowedDays/allowedTime: the fixed call window is wider than "
                    f"policy.window.preset {preset.name}: {problem}. Narrow the window or "
                    f"remove it (the preset alone applies then)."
                )
            windows = WindowDecider(
                preset,
                now=now,
                use_holidays=policy.window.holidays,
                horizon_days=policy.window.holiday_horizon_days,
            )
        if zones is None and windows is None and policy.timezone is None:
            return None
        return cls(zones, windows)

    def apply_many(
        self, phones: list[Any], fixed: dict[str, Any]
    ) -> list[Decided | tuple[str, str] | None]:
        """:meth:`apply` for rows without policy cells of their own; None for a phone that is
        not a number (its row is rejected before this counts).

        Under the fixed policy a row's outcome depends only on its zone decision and its
        country (the holidays), so rows that share both share one outcome object: no policy
        dict per row. Nothing downstream changes a call item's policy.
        """
        empty: dict[str, Any] = {}
        zones, apply = self.zones, self.apply
        seen: dict[Any, Decided | tuple[str, str]] = {}
        out: list[Decided | tuple[str, str] | None] = []
        for phone in phones:
            if type(phone) is not str:
                out.append(None)
                continue
            key = (zones.decide(phone) if zones else None, phone_region(phone))
            found = seen.get(key)
            if found is None:
                found = seen[key] = apply(phone, fixed, own=empty)
            out.append(found)
        return out

    def apply(
        self, phone: str, policy: dict[str, Any], *, own: dict[str, Any]
    ) -> Decided | tuple[str, str]:
        """Decide ``phone``'s zone and window. ``policy`` is the fixed policy merged with the
        row's cells ``own``; returns the decided policy or ``(code, message)``."""
        out = policy
        if "gmtZone" in own:
            source: ZoneSource | None = "column"
        elif "gmtZone" in policy:
            source = "policy"
        elif self.zones is None:
            source = None  # from: campaign: the dialer decides
        else:
            zone, source = self.zones.decide(phone)
            if zone is None:
                why = "has no single zone" if self.zones.use_number else "was not looked at"
                return (
                    codes.TIMEZONE_UNKNOWN,
                    "no time zone for the row: the gmtZone cell is empty and the number "
                    f"{why}; fill the cell or set policy.timezone.fallback to a zone",
                )
            out = {**policy, "gmtZone": zone}
        if self.windows is not None:
            window = self.windows.decide(phone, out)
            if isinstance(window, tuple):
                return window
            out = {**out, **window}
        return Decided(out, source)
