"""Overlapping runs racing for one campaign: exactly one wins, on both backends."""

from __future__ import annotations

import threading

from pipeline.errors import LeaseHeldError
from pipeline.ledger import Lease, open_ledger
from tests.conftest import FakeClock
from tests.ledger.conftest import TOKEN, body_for, items, plan_file, start


def _race(ledger_url: str, clock: FakeClock, campaign_id: int, n: int) -> list[Lease | str]:
    barrier = threading.Barrier(n, timeout=30)
    results: list[Lease | str] = []
    lock = threading.Lock()
    # One ledger (engine, connections) per contender, like separate processes.
    ledgers = [open_ledger(ledger_url, clock=clock) for _ in range(n)]

    def contender(i: int) -> None:
        barrier.wait()
        try:
            got: Lease | str = ledgers[i].leases.acquire(campaign_id, owner=f"run-{i}", ttl_s=60)
        except LeaseHeldError as exc:
            got = str(exc)
        except Exception as exc:  # reported, so the test fails with the cause
            got = repr(exc)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for ledger in ledgers:
        ledger.close()
    return results


def test_first_ever_lease_race_has_one_winner(ledger_url: str, clock: FakeClock) -> None:
    with open_ledger(ledger_url, clock=clock) as ledger:
        campaign = ledger.campaigns.ensure(TOKEN)
    results = _race(ledger_url, clock, campaign.id, 4)
    winners = [r for r in results if isinstance(r, Lease)]
    assert len(winners) == 1, results
    assert all("sent nothing" in r for r in results if isinstance(r, str))


def test_takeover_race_has_one_winner(ledger_url: str, clock: FakeClock) -> None:
    with open_ledger(ledger_url, clock=clock) as ledger:
        s = start(ledger, ttl_s=60)
        plan_file(s, items(4))
        ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
    clock.advance(seconds=120)  # the first run was killed; its lease expired
    results = _race(ledger_url, clock, s.campaign_id, 4)
    winners = [r for r in results if isinstance(r, Lease)]
    assert len(winners) == 1 and winners[0].epoch == 2, results
    with open_ledger(ledger_url, clock=clock) as ledger:
        works = ledger.sending.claim_sendable(winners[0], limit=10)
        assert len(works) == 2
