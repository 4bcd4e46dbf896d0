"""The public Calls API: which path is which endpoint, and what each endpoint does.

Order of checks for every request (reference §6, contract): route → token (404
``invalid.token``) → idempotence key (replay or 409) → body validation (400, first failure)
→ commit under the lock (campaign state, crmCalls duplicate rule). Content-Type is not
enforced: the body is parsed as the endpoint expects (JSON, or a form for crmCalls POST).

The key is read from the ``Idempotence-Key`` header or query parameter, on the endpoints
that declare it (adding numbers, cancel, control); the report and info endpoints ignore it.

Usage::

    route = match("POST", "/api/calls/campaign/1.2.abc/addPhones")  # ("addPhones", token, "")
    reply, replayed = handle(state, route, request)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pipeline.emulator import reports
from pipeline.emulator.core import Reply, State, json_reply
from pipeline.emulator.model import ApiError, Campaign, error
from pipeline.emulator.validate import (
    validate_add_phones,
    validate_crm_params,
    validate_selection,
)

_PATH = re.compile(r"/api/(calls|crmCalls)/campaign/([^/]+)(/.*)?")
# (family, path after the token) → (endpoint name, allowed methods)
_ROUTES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("calls", ""): ("campaign", ("GET",)),
    ("calls", "/status"): ("status", ("GET",)),
    ("calls", "/addPhones"): ("addPhones", ("POST",)),
    ("calls", "/addPhone"): ("legacyAddPhone", ("GET",)),
    ("calls", "/callJob/cancel"): ("cancel", ("POST",)),
    ("calls", "/callJob/getReport"): ("jobReport", ("POST",)),
    ("calls", "/callAttempt/getReport"): ("attemptReport", ("POST",)),
    ("calls", "/callJob/getReportByDate"): ("jobReportByDate", ("POST",)),
    ("calls", "/callJob/getUnfinished"): ("unfinished", ("POST",)),
    ("calls", "/callAttempt/getReportByDate"): ("attemptReportByDate", ("POST",)),
    ("crmCalls", "/addPhone"): ("addPhone", ("GET", "POST")),
    ("crmCalls", "/test/addPhone"): ("testAddPhone", ("GET",)),
}
_CONTROL_ACTIONS = ("pause", "resume", "stop")
IDEMPOTENT = frozenset(
    {"addPhones", "addPhone", "testAddPhone", "legacyAddPhone", "cancel", "control"}
)
_CRM = frozenset({"addPhone", "testAddPhone", "legacyAddPhone"})
KEY_NAME = "Idempotence-Key"


@dataclass(frozen=True, slots=True)
class Route:
    endpoint: str
    token: str
    action: str = ""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    query: list[tuple[str, str]]
    body: bytes
    header_key: str | None

    @property
    def key(self) -> str | None:
        if self.header_key is not None:
            return self.header_key
        for name, value in self.query:
            if name == KEY_NAME:
                return value
        return None


def mask_path(path: str) -> str:
    """The path with the token segment replaced by ``***`` (for the request log)."""
    return re.sub(r"(/campaign/)[^/?]+", r"\1***", path)


def match(method: str, path: str) -> Route:
    """The route of a public API path, or 404/405 (``not.found`` / ``method.not.allowed``)."""
    found = _PATH.fullmatch(path)
    if found is None:
        raise error(404, "not.found", f"no Calls API endpoint at {mask_path(path)}")
    family, token, rest = found.group(1), found.group(2), found.group(3) or ""
    methods: tuple[str, ...]
    if family == "calls" and rest.startswith("/control/"):
        action = rest.removeprefix("/control/")
        if action not in _CONTROL_ACTIONS:
            raise error(404, "not.found", f"control action must be one of {_CONTROL_ACTIONS}")
        endpoint, methods = "control", ("POST",)
    else:
        action = ""
        if (family, rest) not in _ROUTES:
            raise error(404, "not.found", f"no Calls API endpoint at {mask_path(path)}")
        endpoint, methods = _ROUTES[family, rest]
    if method not in methods:
        raise ApiError(
            405,
            {"type": "method.not.allowed", "message": f"use {' or '.join(methods)} here"},
            {"Allow": ", ".join(methods)},
        )
    return Route(endpoint, token, action)


def parse_json(body: bytes, allow_empty: bool = False) -> Any:
    if not body.strip():
        if allow_empty:
            return None
        raise error(400, "request.json.invalid", "the request body is empty; send JSON")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(400, "request.json.invalid", f"the body is not valid JSON: {exc}") from None


def crm_params(request: Request) -> dict[str, str]:
    """Query parameters, then form-body fields (the body wins), the key excluded."""
    pairs = list(request.query)
    if request.method == "POST" and request.body:
        try:
            pairs += parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise error(400, "request.body.invalid", "the form body is not UTF-8") from None
    return {name: value for name, value in pairs if name != KEY_NAME}


def fingerprint_bytes(route: Route, request: Request) -> bytes:
    """What "the same body" means: the raw body, or the sorted parameters for crmCalls."""
    if route.endpoint in _CRM:
        return urlencode(sorted(crm_params(request).items())).encode()
    if request.method == "GET":
        return urlencode(sorted((n, v) for n, v in request.query if n != KEY_NAME)).encode()
    return request.body


def handle(state: State, route: Route, request: Request, digest: str) -> tuple[Reply, bool]:
    """Answer one public API request; ApiError carries every error reply."""
    camp = state.campaign(route.token)
    if route.endpoint not in IDEMPOTENT:
        return _read(state, camp, route.endpoint, request), False
    key = request.key
    fingerprint = (request.method, f"{route.endpoint}/{route.action}".rstrip("/"), digest)
    if key is not None:
        stored = state.lookup_key(camp.account, key, fingerprint)
        if stored is not None:
            return stored, True
    return state.idempotent(camp, key, fingerprint, _commit_for(state, camp, route, request))


def _commit_for(
    state: State, camp: Campaign, route: Route, request: Request
) -> Callable[[], Reply]:
    """Validate a write request (outside the lock) and return the work to do under it."""
    endpoint, key = route.endpoint, request.key
    if endpoint == "addPhones":
        body = parse_json(request.body)
        items = validate_add_phones(body, camp.max_attempts, camp.retry_interval_min)
        return lambda: state.add_phones(camp, items, key)
    if endpoint in _CRM:
        item = validate_crm_params(crm_params(request), camp.max_attempts, camp.retry_interval_min)
        rule = endpoint != "testAddPhone"  # test/addPhone exists to bypass the duplicate rule
        return lambda: state.add_phone_crm(camp, item, key, rule)
    if endpoint == "cancel":
        phones, ids = validate_selection(parse_json(request.body))
        return lambda: state.cancel(camp, phones, ids)
    return lambda: state.control(camp, route.action)


def _read(state: State, camp: Campaign, endpoint: str, request: Request) -> Reply:
    """The report, info and status endpoints: no key, nothing changes."""
    spelling = state.spelling
    if endpoint == "status":
        return json_reply(200, spelling.campaign_status(camp.status))
    body = parse_json(request.body, allow_empty=True)
    value: Any
    with state.lock:
        if endpoint in ("jobReport", "attemptReport"):
            phones, ids = validate_selection(body)
            jobs = state.select(camp, phones, ids)
            if endpoint == "jobReport":
                value = [reports.job_report(job, spelling) for job in jobs]
            else:
                value = reports.attempt_reports(jobs, spelling)
        elif endpoint == "jobReportByDate":
            value = reports.jobs_by_date(camp, body, spelling)
        elif endpoint == "attemptReportByDate":
            value = reports.attempts_by_date(camp, body, spelling)
        elif endpoint == "unfinished":
            value = reports.unfinished(camp, body, spelling)
        else:
            value = reports.campaign_info(camp, spelling)
    return json_reply(200, value)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
