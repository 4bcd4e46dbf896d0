"""Do-not-call lists and contact caps end to end against the emulator, on SQLite and
PostgreSQL: a listed phone is never sent, a nightly file whose amounts changed does not call a
phone past its cap, a malformed list stops the run before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.emulator import Emulator
from pipeline.errors import ConfigError, ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.store import schema as t
from tests.load.conftest import Uploader, jobs_per_phone, write_csv

A, B, C = "79161234567", "79161234568", "79161234569"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, uploader: Uploader) -> Uploader:
    if request.param == "postgresql":
        uploader.ledger_url = request.getfixturevalue("pg_url")
    return uploader


def _rejected(uploader: Uploader) -> list[tuple[str, str]]:
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        got = conn.execute(
            sa.select(t.rows.c.phone, t.rows.c.reason_code)
            .where(t.rows.c.state == "rejected")
            .order_by(t.rows.c.id)
        ).all()
    return [(str(phone), str(code)) for phone, code in got]


def test_phones_on_the_ledger_list_and_a_list_file_are_never_sent(
    backend: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "dnc.csv").write_text("Телефон\n8 (916) 123-45-69\n", encoding="utf-8")
    backend.sections = {"suppress": {"files": [str(tmp_path / "dnc.csv")], "column": "телефон"}}
    with open_ledger(backend.ledger_url) as ledger:
        ledger.suppressions.add([B], by="ops", reason="asked not to be called")
    summary = backend.run(
        write_csv(tmp_path / "debts.csv", [(A, "x"), (B, "y"), ("+7 916 123-45-69", "z")])
    )
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.rejected, summary.suppressed) == (1, 2, 2)
    assert summary.adds_up()
    assert jobs_per_phone(emulator, campaign["id"]) == {A: 1}
    assert _rejected(backend) == [(B, "suppressed"), (C, "suppressed")]


def test_a_cap_holds_across_two_nightly_files_with_changed_amounts(
    backend: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    backend.upload = {"contact_caps": {"day": 1, "week": 2}}
    first = write_csv(tmp_path / "night1.csv", [(A, "100"), (B, "200")])
    assert backend.run(first).exit_code == ExitCode.OK
    backend.clock.advance(hours=1)  # the same day: amounts changed, so no repeat — but capped
    again = write_csv(tmp_path / "night2.csv", [(A, "90"), (B, "190"), (C, "5")])
    summary = backend.run(again)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.contact_capped, summary.repeats_of_earlier_runs) == (1, 2, 0)
    assert jobs_per_phone(emulator, campaign["id"]) == {A: 1, B: 1, C: 1}
    assert _rejected(backend) == [(A, "contact_cap"), (B, "contact_cap")]
    backend.clock.advance(days=1)  # the next day: one more call each is within the caps
    third = write_csv(tmp_path / "night3.csv", [(A, "80"), (B, "180")])
    assert backend.run(third).sent == 2


def test_a_malformed_list_file_is_a_config_error_naming_the_row(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "dnc.csv").write_text("phone\n79161234567\n7,91612E+10\n", encoding="utf-8")
    uploader.sections = {"suppress": {"files": [str(tmp_path / "dnc.csv")]}}
    with pytest.raises(ConfigError, match=r"dnc\.csv row 2") as caught:
        uploader.run(write_csv(tmp_path / "debts.csv", [(A, "x")]))
    assert caught.value.exit_code == ExitCode.CONFIG
    assert emulator.jobs(campaign["id"]) == []
