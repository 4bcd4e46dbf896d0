"""Idempotent replay, conflicts, the 24 h lifetime, account-wide scope, the crmCalls rule."""

from __future__ import annotations

import hashlib
import json

from pipeline.emulator import Emulator
from tests.conftest import random_token
from tests.emulator.conftest import Api, phones

DAY = 24 * 3600


def test_same_key_same_body_replays_without_creating(api: Api, emulator: Emulator) -> None:
    first = api.post("addPhones", phones(3), key="k-1")
    again = api.post("addPhones", phones(3), key="k-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert len(emulator.jobs()) == 3
    log = [entry for entry in emulator.requests_log() if entry["idempotenceKey"] == "k-1"]
    assert [entry["replayed"] for entry in log] == [False, True]
    sent = json.dumps(phones(3)).encode()
    assert log[0]["bodySha256"] == hashlib.sha256(sent).hexdigest()


def test_key_from_query_parameter_counts_too(api: Api, emulator: Emulator) -> None:
    url = api.url("addPhones") + "?Idempotence-Key=q-1"
    for _ in range(2):
        assert api.session.post(url, json=phones(2), timeout=10).status_code == 200
    assert len(emulator.jobs()) == 2


def test_same_key_other_body_or_endpoint_conflicts(api: Api, emulator: Emulator) -> None:
    ids = api.post("addPhones", phones(2), key="k-2").json()
    other_body = api.post("addPhones", phones(3), key="k-2")
    assert other_body.status_code == 409
    assert other_body.json()["type"] == "idempotence.key.conflict"
    other_endpoint = api.post("callJob/cancel", {"ids": ids}, key="k-2")
    assert other_endpoint.status_code == 409
    assert len(emulator.jobs()) == 2
    assert {job["jobStatus"] for job in emulator.jobs()} == {"planned"}


def test_errors_are_not_stored(api: Api, emulator: Emulator) -> None:
    bad = api.post("addPhones", [{"phone": "123"}], key="k-3")
    assert bad.status_code == 400
    # The key is still free: a different (good) body is a new request, not a conflict.
    assert api.post("addPhones", phones(1), key="k-3").status_code == 200
    assert len(emulator.jobs()) == 1


def test_key_expires_after_24_hours(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(1), key="k-4")
    emulator.advance(DAY - 1)
    assert api.post("addPhones", phones(1), key="k-4").status_code == 200
    assert len(emulator.jobs()) == 1  # still a replay one second before expiry
    emulator.advance(1)
    assert api.post("addPhones", phones(1), key="k-4").status_code == 200
    assert len(emulator.jobs()) == 2  # forgotten: treated as new
    assert api.post("addPhones", phones(2), key="k-4").status_code == 409  # stored anew


def test_key_scope_is_the_account(
    api: Api, emulator: Emulator, campaign: dict[str, object]
) -> None:
    sibling = emulator.create_campaign(random_token(104, 7057), name="B")
    stranger = emulator.create_campaign(random_token(205, 7058), name="C")
    first = api.post("addPhones", phones(2), key="shared")
    replay = api.post("addPhones", phones(2), key="shared", token=sibling["token"])
    assert replay.status_code == 200
    assert replay.json() == first.json()  # the reply of campaign A
    assert emulator.jobs(sibling["id"]) == []  # nothing created on B
    other_account = api.post("addPhones", phones(2), key="shared", token=stranger["token"])
    assert other_account.json() != first.json()
    assert len(emulator.jobs(stranger["id"])) == 2


def test_crm_duplicate_rule(api: Api, emulator: Emulator) -> None:
    params = {"phone": "79990000001", "name": "Alex"}
    first = api.crm(params)
    assert first.status_code == 200
    duplicate = api.crm(params)
    assert duplicate.status_code == 400
    assert duplicate.json()["type"] == "phone.duplicated"
    assert duplicate.json()["phone"] == "79990000001"
    assert api.crm({**params, "name": "Bob"}).status_code == 200  # another payload
    assert api.crm({"phone": "79990000001"}).status_code == 200  # no payload is its own case
    assert api.crm({"phone": "79990000001"}).status_code == 400
    emulator.advance(DAY)
    assert api.crm(params).status_code == 200  # 24 h later a new job is created
    assert len(emulator.jobs()) == 4


def test_crm_duplicate_with_same_key_returns_the_same_job(api: Api, emulator: Emulator) -> None:
    params = {"phone": "79990000001", "name": "Alex"}
    first = api.crm(params, key="crm-1")
    again = api.crm(params, key="crm-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert api.crm(params, key="crm-2").status_code == 400  # another key is no excuse
    assert len(emulator.jobs()) == 1


def test_test_add_phone_bypasses_the_duplicate_rule(api: Api, emulator: Emulator) -> None:
    params = {"phone": "79990000001"}
    assert api.crm(params).status_code == 200
    for _ in range(2):
        assert api.crm(params, endpoint="test/addPhone").status_code == 200
    assert len(emulator.jobs()) == 3


def test_legacy_add_phone_is_an_alias(api: Api, emulator: Emulator) -> None:
    url = api.url("addPhone") + "?phone=79990000001&Idempotence-Key=d5f41bd4&city=Omsk"
    first = api.session.get(url, timeout=10)
    again = api.session.get(url, timeout=10)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    [job] = emulator.jobs()
    assert job["payload"] == {"city": "Omsk"}
    assert api.session.get(url.replace("d5f41bd4", "new"), timeout=10).status_code == 400


def test_add_phones_does_not_apply_the_crm_rule(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(1))
    api.post("addPhones", phones(1))
    jobs = emulator.jobs()
    assert len(jobs) == 2
    report = api.post("callJob/getReport", {"phones": ["79990000000"]}).json()
    assert [entry["redialNumber"] for entry in report] == [None, 1]


def test_cancel_and_control_replay(api: Api, emulator: Emulator) -> None:
    ids = api.post("addPhones", phones(2)).json()
    assert api.post("callJob/cancel", {"ids": ids}, key="c-1").json() == ids
    assert api.post("callJob/cancel", {"ids": ids}, key="c-1").json() == ids  # replay
    assert api.post("callJob/cancel", {"ids": ids}).json() == []  # already cancelled
    assert api.post("control/pause", key="p-1").status_code == 200
    assert api.post("control/pause", key="p-1").status_code == 200  # replayed, not illegal
    assert api.post("control/pause").status_code == 400
