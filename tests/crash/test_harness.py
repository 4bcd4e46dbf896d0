"""The judge is judged: each invariant check of the harness fails on the breach it exists for.

One clean upload, then each breach is made by hand (a duplicate job on the server, a wrong job
id in the ledger, a key reused with another body) and the matching check must object.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import requests

from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene


@pytest.fixture
def uploaded(emulator: WallClockEmulator, tmp_path: Path) -> Scene:
    scene = Scene.create(tmp_path, emulator, rows=40, batch_size=20)
    result = scene.upload()
    assert result.returncode == 0, scene.describe(result)
    scene.assert_exactly_once()
    scene.assert_key_discipline()
    return scene


def add_phones(scene: Scene, items: list[dict[str, object]], key: str) -> requests.Response:
    url = f"{scene.base_url}/api/calls/campaign/{scene.token}/addPhones"
    return requests.post(url, json=items, headers={"Idempotence-Key": key}, timeout=5)


def test_a_second_job_for_a_phone_is_caught(uploaded: Scene) -> None:
    phone = uploaded.people[0]["phone"]
    assert add_phones(uploaded, [{"phone": phone}], "manual-duplicate").status_code == 200
    with pytest.raises(AssertionError, match="called more than once"):
        uploaded.assert_exactly_once()


def test_a_ledger_job_id_that_differs_from_the_server_is_caught(uploaded: Scene) -> None:
    with closing(sqlite3.connect(uploaded.ledger_path)) as conn, conn:
        conn.execute("UPDATE rows SET job_id = 'not-the-server-id' WHERE id = 1")
    with pytest.raises(AssertionError, match=r"job ids|verify"):
        uploaded.assert_exactly_once()


def test_a_key_sent_with_two_bodies_is_caught(uploaded: Scene) -> None:
    key = uploaded.add_phone_requests()[0]["idempotenceKey"]
    body: list[dict[str, object]] = [
        {"phone": uploaded.people[1]["phone"], "payload": {"x": "другое"}}
    ]
    assert add_phones(uploaded, body, key).status_code == 409
    with pytest.raises(AssertionError, match=r"conflict|different bodies"):
        uploaded.assert_key_discipline()
