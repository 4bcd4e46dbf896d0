"""Campaign lifecycle: control transitions, stopped campaigns, unknown tokens, spellings."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.emulator import Emulator
from tests.conftest import EMULATOR_START_MS, random_token
from tests.emulator.conftest import Api, phones

ENDPOINTS = [
    ("GET", ""), ("GET", "status"), ("POST", "addPhones"), ("GET", "addPhone"),
    ("POST", "callJob/cancel"), ("POST", "callJob/getReport"), ("POST", "callAttempt/getReport"),
    ("POST", "callJob/getReportByDate"), ("POST", "callJob/getUnfinished"),
    ("POST", "callAttempt/getReportByDate"), ("POST", "control/pause"),
    ("POST", "control/resume"), ("POST", "control/stop"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "endpoint"), ENDPOINTS)
def test_unknown_token_is_404_everywhere(api: Api, method: str, endpoint: str) -> None:
    url = api.url(endpoint, token=random_token(1, 2))
    reply = api.session.request(method, url, json=phones(1), timeout=10)
    assert reply.status_code == 404
    assert reply.json()["type"] == "invalid.token"
    assert reply.json()["message"]


@pytest.mark.parametrize("endpoint", ["addPhone", "test/addPhone"])
def test_unknown_token_is_404_on_crm_calls(api: Api, endpoint: str) -> None:
    reply = api.crm({"phone": "79990000001"}, endpoint=endpoint, token="1.2.abc")
    assert reply.status_code == 404
    assert reply.json()["type"] == "invalid.token"


def test_deleted_campaign_is_an_unknown_token(emulator: Emulator, api: Api) -> None:
    deleted = emulator.create_campaign(random_token(104, 1), status="deleted")
    assert api.get("status", token=deleted["token"]).status_code == 404


def test_unknown_paths_and_methods(api: Api) -> None:
    assert api.get("nothing/here").json()["type"] == "not.found"
    assert api.post("control/start").status_code == 404
    wrong = api.get("addPhones")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"


def test_pause_resume_stop_transitions(api: Api) -> None:
    assert api.get("status").json() == "inProgress"
    paused = api.post("control/pause")
    assert paused.status_code == 200
    assert paused.content == b""
    assert api.get("status").json() == "paused"
    illegal = api.post("control/pause")
    assert illegal.status_code == 400
    assert illegal.json() == {
        "error": "invalid.call.task.state",
        "message": illegal.json()["message"],
        "args": {"action": "pause", "state": "paused"},
    }
    assert api.post("addPhones", phones(1)).status_code == 200  # paused still accepts numbers
    assert api.post("control/resume").status_code == 200
    assert api.get("status").json() == "inProgress"
    assert api.post("control/resume").json()["args"]["state"] == "inProgress"
    assert api.post("control/stop").status_code == 200
    assert api.get("status").json() == "finished"
    for action in ("pause", "resume", "stop"):
        after = api.post(f"control/{action}")
        assert after.status_code == 400
        assert after.json()["error"] == "invalid.call.task.state"


def test_stopped_campaign_refuses_numbers(api: Api) -> None:
    api.post("control/stop")
    for reply in (
        api.post("addPhones", phones(1)),
        api.crm({"phone": "79990000001"}),
        api.crm({"phone": "79990000001"}, endpoint="test/addPhone"),
    ):
        assert reply.status_code == 400
        assert reply.json()["type"] == "invalid.call.task.state"
        assert reply.json()["state"] == "FINISHED"


def test_stop_marks_unfinished_jobs_not_done(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(20))
    emulator.advance(10)  # five lines busy, fifteen numbers waiting
    api.post("control/stop")
    statuses = {job["jobStatus"] for job in emulator.jobs()}
    assert statuses == {"notDone"}
    info = api.get("").json()
    assert info["status"] == "finished"
    assert info["endTime"] == EMULATOR_START_MS + 10_000
    assert info["shortReport"]["processedNumbers"] == 20
    assert info["shortReport"]["inProcessCalls"] == 0
    attempts = api.post("callAttempt/getReport", {"phones": ["79990000000"]}).json()
    assert attempts[0]["finishedAt"] == EMULATOR_START_MS + 10_000


def test_campaign_info_fields(api: Api, campaign: dict[str, Any]) -> None:
    api.post("addPhones", phones(3))
    info = api.get("").json()
    assert info["id"] == campaign["id"] == 7056
    assert info["name"] == "Reminders"
    assert info["creationDate"] == EMULATOR_START_MS
    assert info["shortReport"]["totalNumbers"] == 3


def test_alternative_spellings() -> None:
    with Emulator(running_status="inProcess", cancelled_status="canceled") as emu:
        token = random_token()
        emu.create_campaign(token)
        helper = Api(emu, token)
        assert helper.get("status").json() == "inProcess"
        ids = helper.post("addPhones", phones(1)).json()
        helper.post("callJob/cancel", {"ids": ids})
        [report] = helper.post("callJob/getReport", {"ids": ids}).json()
        assert report["jobStatus"] == "canceled"
        assert emu.jobs()[0]["jobStatus"] == "canceled"
        helper.session.close()


def test_bad_spelling_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="running_status"):
        Emulator(running_status="running")


def test_admin_campaign_creation_rules(api: Api) -> None:
    made = api.admin(
        "POST", "campaigns", {"token": "1.2.abc", "maxAttempts": 2, "status": "paused"}
    )
    assert made.status_code == 200
    assert made.json()["status"] == "paused"
    assert api.get("status", token="1.2.abc").json() == "paused"
    duplicate = api.admin("POST", "campaigns", {"token": "1.2.abc"})
    assert duplicate.status_code == 400
    assert duplicate.json()["type"] == "emulator.admin.invalid"
    assert api.admin("POST", "campaigns", {"token": "not-a-token"}).status_code == 400
    assert api.admin("POST", "campaigns", {"token": "1.3.x", "maxAttempts": 99}).status_code == 400
    listed = api.admin("GET", "campaigns").json()
    assert {entry["token"] for entry in listed} >= {"1.2.abc"}
