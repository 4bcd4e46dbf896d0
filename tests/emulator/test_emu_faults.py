"""Every fault kind, endpoint targeting, ``times``, seeded ``probability``; admin and log."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from pipeline.emulator import Emulator
from tests.emulator.conftest import Api, phones


def test_error_before_commit_creates_nothing(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 1}])
    reply = api.post("addPhones", phones(2), key="e-1")
    assert reply.status_code == 503
    assert reply.json()["type"] == "emulator.fault"
    assert emulator.jobs() == []
    assert api.post("addPhones", phones(2), key="e-1").status_code == 200  # key was not stored
    assert len(emulator.jobs()) == 2


def test_error_after_commit_does_the_work_and_stores_the_key(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "error_after_commit", "status": 500, "times": 1}])
    assert api.post("addPhones", phones(2), key="e-2").status_code == 500
    assert len(emulator.jobs()) == 2
    retry = api.post("addPhones", phones(2), key="e-2")
    assert retry.status_code == 200
    assert retry.json() == [job["id"] for job in emulator.jobs()]
    assert len(emulator.jobs()) == 2
    assert [e["fault"] for e in emulator.requests_log()] == ["error_after_commit", None]
    assert [e["replayed"] for e in emulator.requests_log()] == [False, True]


def test_drop_after_commit(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "drop_after_commit", "endpoint": "addPhones", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        api.post("addPhones", phones(3), key="d-1")
    assert len(emulator.jobs()) == 3
    assert api.post("addPhones", phones(3), key="d-1").status_code == 200
    assert len(emulator.jobs()) == 3
    first = emulator.requests_log()[0]
    assert first["fault"] == "drop_after_commit"
    assert first["status"] is None


def test_drop_before_commit(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "drop_before_commit", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        api.post("addPhones", phones(3))
    assert emulator.jobs() == []


def test_rate_limit_sends_retry_after(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "rate_limit", "retryAfter": 2.5, "times": 1}])
    limited = api.post("addPhones", phones(1))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2.5"
    assert emulator.jobs() == []
    assert api.post("addPhones", phones(1)).status_code == 200


def test_delay_then_proceed(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "delay", "delaySeconds": 0.5, "times": 1}])
    with pytest.raises(requests.Timeout):
        api.session.post(api.url("addPhones"), json=phones(1), timeout=0.1)
    assert api.get("status").status_code == 200  # other requests are not held up
    # The delayed request still runs once its delay is over, though the client gave up.
    deadline = time.monotonic() + 30  # a bound for a stuck server, not a speed assertion
    while len(emulator.requests_log()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(emulator.jobs()) == 1
    faults = {entry["path"].rsplit("/", 1)[1]: entry["fault"] for entry in emulator.requests_log()}
    assert faults == {"status": None, "addPhones": "delay"}


def test_redirect(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "redirect", "location": "http://127.0.0.1:9/x", "times": 1}])
    moved = api.session.post(
        api.url("addPhones"), json=phones(1), allow_redirects=False, timeout=10
    )
    assert moved.status_code == 307
    assert moved.headers["Location"] == "http://127.0.0.1:9/x"
    assert emulator.jobs() == []


def test_endpoint_targeting_and_times(api: Api, emulator: Emulator) -> None:
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "status", "times": 2}])
    assert api.post("addPhones", phones(1)).status_code == 200
    assert [api.get("status").status_code for _ in range(3)] == [503, 503, 200]


def _pattern(emulator: Emulator, api: Api, seed: int) -> list[int]:
    emulator.set_faults([{"kind": "error_before_commit", "probability": 0.5}], seed=seed)
    return [api.get("status").status_code for _ in range(40)]


def test_probability_is_seeded(api: Api, emulator: Emulator) -> None:
    first = _pattern(emulator, api, 11)
    assert _pattern(emulator, api, 11) == first
    assert set(first) == {200, 503}
    assert _pattern(emulator, api, 12) != first
    emulator.clear_faults()
    assert api.get("status").status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "delay", "endpoint": "nowhere"},
        {"kind": "rate_limit", "times": -1},
        {"kind": "rate_limit", "probability": 2},
        {"kind": "redirect"},
        {"kind": "delay", "surprise": True},
    ],
)
def test_bad_rules_are_refused_over_admin(api: Api, rule: dict[str, Any]) -> None:
    reply = api.admin("POST", "faults", {"faults": [rule]})
    assert reply.status_code == 400
    assert reply.json()["type"] == "emulator.admin.invalid"


def test_admin_faults_clock_jobs_requests_reset(
    api: Api, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    rules = {"seed": 1, "faults": [{"kind": "error_before_commit", "status": 502, "times": 1}]}
    assert api.admin("POST", "faults", rules).status_code == 200
    assert api.get("status").status_code == 502
    api.admin("POST", "faults", rules)
    assert api.admin("DELETE", "faults").status_code == 200
    assert api.get("status").status_code == 200

    start = api.admin("GET", "clock").json()["nowMs"]
    assert api.admin("POST", "clock", {"advanceSeconds": 1.5}).json() == {"nowMs": start + 1500}
    assert api.admin("POST", "clock", {"setMs": start}).json() == {"nowMs": start}
    assert api.admin("POST", "clock", {}).status_code == 400

    api.post("addPhones", [{"phone": "79990000001", "payload": {"a": 1}}], key="adm")
    [job] = api.admin("GET", f"jobs?campaign={campaign['id']}").json()
    assert set(job) == {
        "id", "campaignId", "phone", "payload", "policy", "createdAt", "jobStatus",
        "attemptsCount", "idempotenceKey",
    }  # fmt: skip
    assert job["idempotenceKey"] == "adm"
    assert api.admin("GET", "jobs?campaign=1").json() == []
    log = api.admin("GET", "requests").json()
    assert set(log[-1]) == {
        "ts", "method", "path", "idempotenceKey", "status", "bodySha256", "replayed", "fault",
        "arrived",
        "arrivedAt",
        "inFlight",
        "answered",
    }  # fmt: skip
    assert api.admin("GET", "nothing").status_code == 404

    assert api.admin("POST", "reset").status_code == 200
    assert emulator.jobs() == [] and emulator.requests_log() == []
    assert api.get("status").status_code == 404  # campaigns are forgotten too
    assert api.admin("GET", "clock").json() == {"nowMs": start}


def test_request_log_never_holds_the_token(api: Api, emulator: Emulator) -> None:
    token = api.token
    api.post("addPhones", phones(1))
    api.crm({"phone": "79990000002", "note": "hi"})
    api.get("status", token=token + "x")  # an unknown token is masked as well
    api.get("nowhere")
    log = emulator.requests_log()
    assert len(log) == 4
    assert all(entry["path"].startswith("/api/") and "***" in entry["path"] for entry in log)
    assert token not in repr(log)
    assert token not in api.admin("GET", "requests").text
