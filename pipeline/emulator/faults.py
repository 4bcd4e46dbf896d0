"""Seeded fault injection for the public API (never for the admin API).

A rule (contract)::

    {"kind": "error_before_commit" | "error_after_commit" | "drop_before_commit"
             | "drop_after_commit" | "rate_limit" | "delay" | "redirect" | "drip",
     "endpoint": "addPhones" | ... | "*",       # default "*"
     "times": 2,            # apply to the next 2 matching requests, then never again
     "probability": 0.3,    # apply with this chance, drawn from the seeded generator
     "status": 503,         # error_* (default 503)
     "retryAfter": 1.5,     # rate_limit, seconds (default 1)
     "delaySeconds": 0.2,   # delay (real seconds: it exists to trip client timeouts)
     "location": "http://127.0.0.1:1/elsewhere",  # redirect (307)
     "dripSeconds": 0.8,    # drip: the request is carried out, then its reply is written
     "dripFrom": "status"}  #   one byte every dripSeconds (real seconds), from the status
                            #   line on ("status", default) or after the headers ("body")

Rules are checked in order for every request; every matching ``delay`` rule sleeps, then the
first matching rule of another kind decides the request's fate. ``times`` counts only the
requests a rule was actually applied to.

Usage::

    faults = Faults()
    faults.configure([{"kind": "rate_limit", "times": 1}], seed=7)
    delays, rule = faults.pick("addPhones")
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

KINDS = frozenset(
    {
        "error_before_commit",
        "error_after_commit",
        "drop_before_commit",
        "drop_after_commit",
        "rate_limit",
        "delay",
        "redirect",
        "drip",
    }
)
# The endpoint names a rule may target (the router's names for the public routes).
ENDPOINTS = frozenset(
    {
        "addPhones",
        "addPhone",
        "testAddPhone",
        "legacyAddPhone",
        "cancel",
        "jobReport",
        "attemptReport",
        "jobReportByDate",
        "unfinished",
        "attemptReportByDate",
        "campaign",
        "status",
        "control",
        "*",
    }
)


@dataclass(slots=True)
class FaultRule:
    kind: str
    endpoint: str = "*"
    times: int | None = None
    probability: float | None = None
    status: int = 503
    retry_after: float = 1.0
    delay_seconds: float = 0.0
    location: str = ""
    drip_seconds: float = 1.0
    drip_from: str = "status"

    @classmethod
    def parse(cls, raw: Any) -> FaultRule:
        """Build a rule from its JSON form; ValueError names the bad field."""
        if not isinstance(raw, dict):
            raise ValueError("a fault rule must be a JSON object")
        unknown = set(raw) - {
            "kind", "endpoint", "times", "probability", "status", "retryAfter",
            "delaySeconds", "location", "dripSeconds", "dripFrom",
        }  # fmt: skip
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {sorted(unknown)}")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, got {kind!r}")
        endpoint = raw.get("endpoint", "*")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"fault endpoint must be one of {sorted(ENDPOINTS)}, got {endpoint!r}")
        rule = cls(kind=kind, endpoint=endpoint)
        if (times := raw.get("times")) is not None:
            if isinstance(times, bool) or not isinstance(times, int) or times < 0:
                raise ValueError(f"times must be a non-negative integer, got {times!r}")
            rule.times = times
        if (chance := raw.get("probability")) is not None:
            if not isinstance(chance, int | float) or not 0 <= chance <= 1:
                raise ValueError(f"probability must be a number from 0 to 1, got {chance!r}")
            rule.probability = float(chance)
        rule.status = int(raw.get("status", 503))
        rule.retry_after = float(raw.get("retryAfter", 1.0))
        rule.delay_seconds = float(raw.get("delaySeconds", 0.0))
        rule.location = str(raw.get("location", ""))
        if kind == "redirect" and not rule.location:
            raise ValueError("a redirect rule needs a location")
        rule.drip_seconds = float(raw.get("dripSeconds", 1.0))
        if not 0 < rule.drip_seconds <= 60:
            raise ValueError(f"dripSeconds must be above 0 and at most 60, got {rule.drip_seconds}")
        rule.drip_from = str(raw.get("dripFrom", "status"))
        if rule.drip_from not in ("status", "body"):
            raise ValueError(f"dripFrom must be 'status' or 'body', got {rule.drip_from!r}")
        return rule


class Faults:
    """The active rules and their seeded generator; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._rng = random.Random(0)  # noqa: S311 - seeded on purpose

    def configure(self, rules: list[Any], seed: int | None = None) -> None:
        parsed = [FaultRule.parse(raw) for raw in rules]  # all or nothing
        with self._lock:
            self._rules = parsed
            self._rng = random.Random(0 if seed is None else seed)  # noqa: S311

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"kind": r.kind, "endpoint": r.endpoint, "times": r.times,
                 "probability": r.probability}
                for r in self._rules
            ]  # fmt: skip

    def pick(self, endpoint: str) -> tuple[list[FaultRule], FaultRule | None]:
        """The delays to apply to this request and the rule that decides it, if any."""
        delays: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.endpoint not in ("*", endpoint):
                    continue
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                if rule.kind == "delay":
                    delays.append(rule)
                    continue
                return delays, rule
        return delays, None
