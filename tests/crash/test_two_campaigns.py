"""Two campaigns of one account share phones: the same export goes to both, through one
ledger. The server's key store is account-wide, so a key reused across the campaigns would
replay campaign A's reply into campaign B and create nothing there.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import random_token
from tests.crash.conftest import WallClockEmulator
from tests.crash.harness import Scene


def test_same_file_to_two_campaigns_of_one_account(
    emulator: WallClockEmulator, tmp_path: Path
) -> None:
    ledger = tmp_path / "shared-ledger.sqlite3"
    first = Scene.create(
        tmp_path, emulator, rows=80, seed=3, token=random_token(104, 7056), ledger_path=ledger,
        name="reminders", batch_size=20,
    )  # fmt: skip
    second = Scene.create(
        tmp_path, emulator, rows=80, seed=3, token=random_token(104, 7057), ledger_path=ledger,
        name="survey", batch_size=20,
    )  # fmt: skip
    assert first.people == second.people and first.campaign_id != second.campaign_id

    for scene in (first, second):
        result = scene.upload()
        assert result.returncode == 0, scene.describe(result)

    first.assert_exactly_once()
    second.assert_exactly_once()
    first.assert_key_discipline()
    keys_a = {job["idempotenceKey"] for job in first.jobs()}
    keys_b = {job["idempotenceKey"] for job in second.jobs()}
    assert keys_a and keys_b and not keys_a & keys_b, "a key was used for both campaigns"
    assert not any(e["replayed"] for e in first.add_phone_requests())
