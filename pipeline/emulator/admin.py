"""The admin API under ``/__emulator__/`` (contract): campaigns, jobs, log, clock, faults,
limits (``POST limits {"maxBodyBytes": 4096 | null, "tooLargeBody": "json"|"html"|"empty"}``).

Errors are 400 ``{"type": "emulator.admin.invalid", "message": ...}`` (ValueError/TypeError
raised here) or 404 ``emulator.admin.not.found`` for an unknown admin path.

Usage::

    value = admin_request(emulator, "POST", "clock", [], {"advanceSeconds": 60})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pipeline.emulator.faults import Faults
from pipeline.emulator.model import ApiError


class Controls(Protocol):
    """What the admin API may do to the :class:`~pipeline.emulator.Emulator`."""

    faults: Faults
    max_body_bytes: int | None
    too_large_body: str

    def create_campaign(
        self,
        token: str,
        name: str = ...,
        *,
        status: str = ...,
        max_simultaneous_calls: int = ...,
        max_attempts: int = ...,
        retry_interval_min: int = ...,
    ) -> dict[str, Any]: ...
    def campaigns(self) -> list[dict[str, Any]]: ...
    def jobs(self, campaign_id: int | None = ...) -> list[dict[str, Any]]: ...
    def requests_log(self) -> list[dict[str, Any]]: ...
    def now_ms(self) -> int: ...
    def advance(self, seconds: float) -> None: ...
    def set_clock_ms(self, value: int) -> None: ...
    def set_limits(self, max_body_bytes: int | None, too_large_body: str = ...) -> None: ...
    def set_faults(self, rules: list[Any], seed: int | None = ...) -> None: ...
    def clear_faults(self) -> None: ...
    def reset(self) -> None: ...


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("the admin request body must be a JSON object")
    return value


def _create_campaign(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    body = _object(value)
    token = body.get("token")
    if not isinstance(token, str):
        raise ValueError("'token' (a string) is required")
    options = {
        "name": ("name", str),
        "status": ("status", str),
        "maxSimultaneousCalls": ("max_simultaneous_calls", int),
        "maxAttempts": ("max_attempts", int),
        "retryIntervalInMinutes": ("retry_interval_min", int),
    }
    kwargs = {arg: kind(body[name]) for name, (arg, kind) in options.items() if name in body}
    return emulator.create_campaign(token, **kwargs)


def _jobs(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    campaign = params.get("campaign")
    return emulator.jobs(None if campaign is None else int(campaign))


def _set_clock(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    body = _object(value)
    if "advanceSeconds" in body:
        emulator.advance(float(body["advanceSeconds"]))
    elif "setMs" in body:
        emulator.set_clock_ms(int(body["setMs"]))
    else:
        raise ValueError("send {'advanceSeconds': float} or {'setMs': int}")
    return {"nowMs": emulator.now_ms()}


def _set_faults(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    body = _object(value)
    rules = body.get("faults", [])
    if not isinstance(rules, list):
        raise ValueError("'faults' must be a list of rules")
    emulator.set_faults(rules, seed=body.get("seed"))
    return emulator.faults.describe()


def _limits(emulator: Controls) -> dict[str, Any]:
    return {"maxBodyBytes": emulator.max_body_bytes, "tooLargeBody": emulator.too_large_body}


def _set_limits(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    body = _object(value)
    limit = body.get("maxBodyBytes")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValueError("'maxBodyBytes' must be an integer number of bytes or null")
    emulator.set_limits(limit, str(body.get("tooLargeBody", "json")))
    return _limits(emulator)


def _clear_faults(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    emulator.clear_faults()


def _reset(emulator: Controls, params: dict[str, str], value: Any) -> Any:
    emulator.reset()


Operation = Callable[[Controls, dict[str, str], Any], Any]
_OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "campaigns"): _create_campaign,
    ("GET", "campaigns"): lambda emulator, params, value: emulator.campaigns(),
    ("GET", "jobs"): _jobs,
    ("GET", "requests"): lambda emulator, params, value: emulator.requests_log(),
    ("GET", "clock"): lambda emulator, params, value: {"nowMs": emulator.now_ms()},
    ("POST", "clock"): _set_clock,
    ("GET", "faults"): lambda emulator, params, value: emulator.faults.describe(),
    ("POST", "faults"): _set_faults,
    ("DELETE", "faults"): _clear_faults,
    ("GET", "limits"): lambda emulator, params, value: _limits(emulator),
    ("POST", "limits"): _set_limits,
    ("POST", "reset"): _reset,
}


def admin_request(
    emulator: Controls, method: str, path: str, query: list[tuple[str, str]], value: Any
) -> Any:
    """Run one admin call; returns its JSON value (None for an empty 200 reply)."""
    operation = _OPERATIONS.get((method, path.strip("/")))
    if operation is None:
        raise ApiError(
            404,
            {"type": "emulator.admin.not.found", "message": f"no admin operation {method} /{path}"},
        )
    return operation(emulator, dict(query), value)
