"""Fixtures of the ledger tests: a fresh ledger on SQLite AND on PostgreSQL, a movable clock.

PostgreSQL: a fresh database per test (:func:`tests.conftest.postgres_database`); the variant is
skipped when the server is not reachable — unless ``JAICP_REQUIRE_POSTGRES=1`` (CI).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.ledger import Lease, Ledger, PlanRecord, open_ledger
from pipeline.records import CallItem, InputFile
from tests.conftest import FakeClock, postgres_database

TOKEN = "1000.2000.secretTokenValue"  # a test token


def body_for(items: Sequence[CallItem]) -> bytes:
    """The canonical body, like pipeline.api.encode_add_phones (the ledger must not import it)."""
    return json.dumps(
        [i.to_api() for i in items], ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        yield from postgres_database()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def ledger(ledger_url: str, clock: FakeClock) -> Iterator[Ledger]:
    led = open_ledger(ledger_url, clock=clock, key_safety_margin_s=3600)
    yield led
    led.close()


@dataclass
class Setup:
    """A campaign, a run and its lease, ready for planning."""

    ledger: Ledger
    campaign_id: int
    run_id: int
    lease: Lease


def start(
    ledger: Ledger, *, token: str = TOKEN, owner: str = "worker-1", ttl_s: float = 600
) -> Setup:
    """Register the campaign, start a run and take the lease."""
    campaign = ledger.campaigns.ensure(token)
    run_id = ledger.runs.start(
        command="upload",
        files=[InputFile("export.csv", "ab" * 32, 10)],
        config_digest="c" * 64,
        campaign_id=campaign.id,
    )
    lease = ledger.leases.acquire(campaign.id, owner=owner, ttl_s=ttl_s, run_id=run_id)
    return Setup(ledger, campaign.id, run_id, lease)


def items(n: int, *, start_row: int = 1, prefix: str = "7916000") -> list[CallItem]:
    """``n`` accepted rows with distinct phones."""
    return [
        CallItem(
            row=start_row + i, phone=f"{prefix}{start_row + i:04d}", payload={"n": start_row + i}
        )
        for i in range(n)
    ]


def plan_file(
    s: Setup, records: Sequence[PlanRecord], *, sha: str = "ab" * 32, **kw: object
) -> int:
    """Plan a whole file in one chunk; returns the input id."""
    state = s.ledger.inputs.begin(s.lease, name="export.csv", sha256=sha)
    s.ledger.planning.plan_chunk(s.lease, state.id, records, **kw)  # type: ignore[arg-type]
    s.ledger.inputs.complete(s.lease, state.id, rows_total=len(records))
    return state.id


ScalarQuery = Callable[[str], object]


@pytest.fixture
def scalar(ledger: Ledger) -> ScalarQuery:
    """Run one SQL query in the test's ledger and return the first column of the first row."""

    def run(sql: str) -> object:
        with ledger.store.engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()

    return run


ColumnQuery = Callable[[str], list[object]]


@pytest.fixture
def column(ledger: Ledger) -> ColumnQuery:
    """Run one SQL query in the test's ledger and return its first column as a list."""

    def run(sql: str) -> list[object]:
        with ledger.store.engine.connect() as conn:
            return list(conn.exec_driver_sql(sql).scalars())

    return run
