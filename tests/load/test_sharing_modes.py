"""upload.share_work: who shares a campaign and how a sharing run behaves beside a lease holder.

In process, with the fake clock of :class:`Uploader` (its sleep moves the clock), so waiting for
another run's lease to expire costs no real time. The multi-process cases (three uploaders,
SIGSTOP, random kills) are in tests/crash/test_sharing.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ConfigError, ExitCode, LeaseHeldError
from pipeline.extract.snapshot import file_info
from pipeline.ledger import canonical_body, open_ledger
from pipeline.load.upload.input_planning import plan_file
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone


def test_sharing_asked_of_a_sqlite_ledger_is_refused_before_anything_is_sent(
    uploader: Uploader, emulator: Emulator
) -> None:
    with pytest.raises(ConfigError, match="only on a PostgreSQL ledger") as info:
        uploader.run(uploader.csv(5), share_work=True)
    assert info.value.exit_code == ExitCode.CONFIG
    assert uploader.add_phones_log() == []


def _hold_lease_and_freeze(uploader: Uploader, n: int, ttl_s: float) -> Any:
    """Another host's run: holds the campaign lease, planned and froze the file, sent nothing."""
    csv = uploader.csv(n)
    cfg = uploader.config()
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        campaign = ledger.campaigns.ensure(uploader.token)
        run_id = ledger.runs.start(
            command="upload", files=[], config_digest="x" * 64, campaign_id=campaign.id
        )
        lease = ledger.leases.acquire(
            campaign.id, owner="other-host:4242:abcd", ttl_s=ttl_s, run_id=run_id
        )
        plan_file(cfg, csv, file_info(csv), ledger, lease, now=uploader.clock())
        ledger.freezing.freeze_batches(lease, batch_size=10, body_for=canonical_body)
    return csv


def test_without_sharing_a_postgresql_run_beside_a_lease_holder_exits_5(
    uploader: Uploader, pg_url: str
) -> None:
    uploader.ledger_url = pg_url
    csv = _hold_lease_and_freeze(uploader, 30, ttl_s=600)
    with pytest.raises(LeaseHeldError, match="other-host:4242"):
        uploader.run(csv, share_work=False)
    assert uploader.add_phones_log() == []


def test_a_sharing_run_sends_what_the_lease_holder_froze_then_takes_the_lease_when_it_expires(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], pg_url: str
) -> None:
    uploader.ledger_url = pg_url
    csv = _hold_lease_and_freeze(uploader, 30, ttl_s=5)

    summary = uploader.run(csv)  # share_work unset: PostgreSQL shares by default

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(30)}
    assert summary.sent == 30 and summary.batches_confirmed == 3
    # It waited (polling, on the fake clock) while the other run's lease was live, then took
    # the lease over to make sure its own file was planned (it was: nothing read again).
    assert uploader.sleeps and max(uploader.sleeps) <= 0.2
    assert sum(uploader.sleeps) >= 5 - 0.5
    with open_ledger(pg_url) as ledger, ledger.store.engine.connect() as conn:
        reasons = conn.exec_driver_sql(
            "SELECT reason FROM events WHERE entity = 'lease' ORDER BY id"
        ).scalars()
        assert any("took over the lease of 'other-host:4242:abcd'" in r for r in reasons)
        owners = conn.exec_driver_sql(
            "SELECT DISTINCT claim_owner FROM batches WHERE state = 'confirmed'"
        ).scalars()
        (owner,) = list(owners)
        worker_ended = conn.exec_driver_sql(
            "SELECT ended_at IS NOT NULL FROM workers WHERE owner = %(o)s", {"o": owner}
        ).scalar()
        assert worker_ended


def test_a_sharing_run_on_an_idle_campaign_does_everything_itself(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], pg_url: str
) -> None:
    uploader.ledger_url = pg_url
    summary = uploader.run(uploader.csv(25))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert summary.read == summary.sent == 25
    assert uploader.sleeps == []  # nobody else to wait for
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(25)}
