"""Two hosts on one PostgreSQL ledger plan the same phone at the same moment under a cap of
one call a day (two processes, two campaigns, so no lease keeps them apart): exactly one row
is planned, the other is rejected ``contact_cap``. The counting is slowed down in both
processes so that, without the lock, both would count zero jobs before either inserts."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pipeline.ledger import ContactRules, open_ledger
from pipeline.ledger.transitions import planning
from pipeline.records import CallItem
from tests.conftest import FakeClock
from tests.ledger.conftest import plan_file, start

RULES = ContactRules(caps=(("day", 1),), zone="Europe/Moscow")
PHONE = "79160000001"


def _host(url: str, n: int, barrier: Any, out: Any) -> None:
    counted = vars(planning)["mark_capped"]

    def slow(*args: Any, **kwargs: Any) -> int:
        got: int = counted(*args, **kwargs)
        time.sleep(1.0)  # counted, not yet inserted: the other host counts meanwhile
        return got

    vars(planning)["mark_capped"] = slow  # what planning calls, in this process only
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    try:
        with open_ledger(url, clock=clock) as ledger:
            s = start(ledger, token=f"1000.{2000 + n}.campaignOfHost{n}", owner=f"host-{n}")
            barrier.wait(timeout=30)
            plan_file(s, [CallItem(row=1, phone=PHONE, payload={"amount": n})], rules=RULES)
        out.put("ok")
    except Exception as exc:  # reported, so the test fails with the cause
        out.put(repr(exc))


def test_two_processes_cannot_both_pass_the_cap(pg_url: str) -> None:
    with open_ledger(pg_url):
        pass  # migrated once, before the hosts start
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    hosts = [ctx.Process(target=_host, args=(pg_url, n, barrier, out)) for n in (1, 2)]
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(timeout=60)
    assert sorted(out.get(timeout=5) for _ in hosts) == ["ok", "ok"]
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            got = conn.exec_driver_sql(
                "SELECT coalesce(reason_code, state) FROM rows ORDER BY id"
            ).scalars()
            assert sorted(got) == ["contact_cap", "planned"]
    finally:
        engine.dispose()
