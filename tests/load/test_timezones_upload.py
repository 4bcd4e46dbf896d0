"""Zones and calling windows end to end: the emulator receives each row's decided gmtZone and
the preset's per-day window, the ledger records how the zone was decided, on SQLite and on
PostgreSQL; turning the settings on for a list already sent makes no second call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.store import schema as t
from tests.load.conftest import Uploader, jobs_per_phone, write_csv

VLADIVOSTOK, MOSCOW, KALININGRAD, NOWHERE = (
    "79241234567",
    "79161234567",
    "74012123456",
    "79400000000",
)
POLICY = {"timezone": {"from": "number", "fallback": "reject"}, "window": {"preset": "ru-230fz"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, uploader: Uploader) -> Uploader:
    if request.param == "postgresql":
        uploader.ledger_url = request.getfixturevalue("pg_url")
    return uploader


def _zone_sources(uploader: Uploader) -> dict[str, str | None]:
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.rows.c.phone, t.rows.c.zone_source).where(t.rows.c.state == "sent")
        ).all()
    return dict(rows)


def test_each_row_is_sent_with_its_own_zone_and_the_laws_window(
    backend: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    backend.sections = {"policy": POLICY}
    rows = [(VLADIVOSTOK, "A"), (MOSCOW, "B"), (KALININGRAD, "C"), (NOWHERE, "D")]
    summary = backend.run(write_csv(tmp_path / "debtors.csv", rows))

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.rejected) == (3, 1) and summary.adds_up()
    jobs = {job["phone"]: job["policy"] for job in emulator.jobs(campaign["id"])}
    assert {phone: policy["gmtZone"] for phone, policy in jobs.items()} == {
        VLADIVOSTOK: "Asia/Vladivostok",
        MOSCOW: "Europe/Moscow",
        KALININGRAD: "Europe/Kaliningrad",
    }
    window = jobs[VLADIVOSTOK]
    assert window["allowedDays"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert window["allowedTime"]["sun"] == [{"localTimeFrom": "09:00", "localTimeTo": "20:00"}]
    assert _zone_sources(backend) == {
        VLADIVOSTOK: "mobile_range",
        MOSCOW: "mobile_range",
        KALININGRAD: "number_prefix",
    }
    with open_ledger(backend.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        rejected = conn.execute(
            sa.select(t.rows.c.row_number, t.rows.c.reason_code).where(t.rows.c.state == "rejected")
        ).all()
    assert rejected == [(4, "timezone_unknown")]


def test_turning_zones_on_for_a_list_already_sent_calls_nobody_twice(
    backend: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "monday.csv", [(VLADIVOSTOK, "A"), (MOSCOW, "B")])
    assert backend.run(first).exit_code == ExitCode.OK  # sent before the upgrade: no zone

    backend.sections = {"policy": POLICY}
    again = write_csv(
        tmp_path / "tuesday.csv", [(VLADIVOSTOK, "A"), (MOSCOW, "B"), (KALININGRAD, "C")]
    )
    summary = backend.run(again)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.sent, summary.duplicate) == (1, 2)  # the two repeats are not sent again
    assert jobs_per_phone(emulator, campaign["id"]) == {VLADIVOSTOK: 1, MOSCOW: 1, KALININGRAD: 1}
