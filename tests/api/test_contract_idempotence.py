"""Idempotence-Key behaviour as the client sees it: replay, conflict, expiry, account scope."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.api import CallsApiClient, encode_add_phones
from pipeline.errors import (
    ApiConnectionError,
    IdempotenceConflictError,
    ServerError,
)
from tests.api.conftest import logged
from tests.conftest import random_token

ITEMS: list[dict[str, Any]] = [
    {"phone": "79001240001"},
    {"phone": "79001240002", "payload": {"x": "y"}},
]


def test_same_key_same_body_replays_the_ids_and_creates_nothing(
    client: CallsApiClient, emulator: Any
) -> None:
    first = client.add_phones(ITEMS, idempotence_key="k-replay")
    second = client.add_phones(ITEMS, idempotence_key="k-replay")
    assert second == first
    assert len(emulator.jobs()) == 2
    entries = logged(emulator, "k-replay", 2)
    assert [r["replayed"] for r in entries] == [False, True]


def test_key_is_sent_as_a_header_on_post(client: CallsApiClient, emulator: Any) -> None:
    client.add_phones(ITEMS, idempotence_key="k-header")
    [entry] = logged(emulator, "k-header", 1)
    assert entry["method"] == "POST"
    assert "Idempotence-Key" not in entry["path"]  # header, not the query string


def test_same_key_different_body_is_a_conflict(client: CallsApiClient, emulator: Any) -> None:
    client.add_phones(ITEMS, idempotence_key="k-conflict")
    with pytest.raises(IdempotenceConflictError) as info:
        client.add_phones(ITEMS[:1], idempotence_key="k-conflict")
    assert info.value.status == 409
    assert info.value.error_type == "idempotence.key.conflict"
    assert len(emulator.jobs()) == 2


def test_without_a_key_every_request_creates_jobs(client: CallsApiClient, emulator: Any) -> None:
    client.add_phones(ITEMS)
    client.add_phones(ITEMS)
    assert len(emulator.jobs()) == 4


def test_key_expires_after_24_hours_of_emulator_time(client: CallsApiClient, emulator: Any) -> None:
    first = client.add_phones(ITEMS, idempotence_key="k-expiry")
    emulator.advance(23 * 3600)
    assert client.add_phones(ITEMS, idempotence_key="k-expiry") == first
    emulator.advance(3600)
    later = client.add_phones(ITEMS, idempotence_key="k-expiry")
    assert set(later).isdisjoint(first)
    assert len(emulator.jobs()) == 4


def test_key_scope_is_the_account_not_the_campaign(
    client_for: Any, emulator: Any, campaign: dict[str, Any]
) -> None:
    account = campaign["token"].split(".")[0]
    sibling = emulator.create_campaign(token=random_token(int(account), 8001), name="Sibling")
    stranger = emulator.create_campaign(token=random_token(int(account) + 1, 8002), name="Other")
    ours: CallsApiClient = client_for(campaign["token"])
    first = ours.add_phones(ITEMS, idempotence_key="k-account")
    # same account, another campaign: the stored reply comes back, nothing is created there
    assert client_for(sibling["token"]).add_phones(ITEMS, idempotence_key="k-account") == first
    assert emulator.jobs(sibling["id"]) == []
    # another account: the key is unknown there, so new jobs are created
    theirs = client_for(stranger["token"]).add_phones(ITEMS, idempotence_key="k-account")
    assert set(theirs).isdisjoint(first)
    assert len(emulator.jobs(stranger["id"])) == 2


@pytest.mark.parametrize(
    ("kind", "error"),
    [("error_after_commit", ServerError), ("drop_after_commit", ApiConnectionError)],
)
def test_lost_reply_then_same_key_retry_returns_the_original_ids(
    client: CallsApiClient, emulator: Any, kind: str, error: type[Exception]
) -> None:
    body = encode_add_phones(ITEMS)
    emulator.set_faults([{"kind": kind, "endpoint": "addPhones", "times": 1}], seed=1)
    with pytest.raises(error):
        client.add_phones_body(body, idempotence_key="k-lost")
    created = {j["id"] for j in emulator.jobs()}
    assert len(created) == 2  # the work was done although the reply was lost
    ids = client.add_phones_body(body, idempotence_key="k-lost")
    assert set(ids) == created
    assert len(emulator.jobs()) == 2


def test_error_before_commit_then_retry_creates_once(client: CallsApiClient, emulator: Any) -> None:
    body = encode_add_phones(ITEMS)
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 1}])
    with pytest.raises(ServerError):
        client.add_phones_body(body, idempotence_key="k-before")
    assert emulator.jobs() == []
    assert len(client.add_phones_body(body, idempotence_key="k-before")) == 2
    assert len(emulator.jobs()) == 2
