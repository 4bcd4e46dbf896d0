"""The do-not-call list in the ledger and the contact caps, checked while rows are planned
(on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.ledger import ContactRules, Ledger
from pipeline.ledger.transitions.contact_rules import period_starts
from pipeline.ledger.transitions.suppressions import OPT_OUT
from pipeline.records import CallItem
from tests.conftest import FakeClock
from tests.ledger.conftest import ColumnQuery, ScalarQuery, Setup, body_for, plan_file, start

RULES = ContactRules()


def _send_all(s: Setup) -> None:
    s.ledger.freezing.freeze_batches(s.lease, batch_size=100, body_for=body_for)
    for work in s.ledger.sending.claim_sendable(s.lease, limit=100):
        s.ledger.sending.mark_attempt(s.lease, work.id)
        s.ledger.replies.record_success(s.lease, work.id, [f"job-{r}" for r in work.row_ids])


def _row(row: int, phone: str, amount: int = 100) -> CallItem:
    return CallItem(row=row, phone=phone, payload={"amount": amount})


def test_a_listed_phone_is_rejected_with_the_entry_that_stopped_it(
    ledger: Ledger, column: ColumnQuery
) -> None:
    s = start(ledger)
    assert ledger.suppressions.add(["79160000002"], by="ops", reason="asked by phone") == 1
    assert ledger.suppressions.add(["79160000002"], by="ops") == 0  # already on the list
    plan_file(s, [_row(1, "79160000001"), _row(2, "79160000002")], rules=RULES)
    got = column(
        "SELECT reason_code || '|' || phone || '|' || reason FROM rows WHERE row_number = 2"
    )
    code, phone, reason = str(got[0]).split("|")
    assert (code, phone) == ("suppressed", "79160000002")
    assert reason.startswith("suppressed: on the do-not-call list (entry 1, manual, added ")
    assert reason.endswith("added 2026-03-01 09:00 UTC by ops: asked by phone)")
    assert column("SELECT row_key FROM rows WHERE row_number = 2") == [None]  # no key made
    assert column("SELECT state FROM rows WHERE row_number = 1") == ["planned"]


def test_a_phone_in_a_config_file_list_is_rejected(ledger: Ledger, column: ColumnQuery) -> None:
    s = start(ledger)
    rules = ContactRules(listed=(("dnc.csv", frozenset({"79160000001"})),))
    plan_file(s, [_row(1, "79160000001"), _row(2, "79160000002")], rules=rules)
    assert column("SELECT reason FROM rows WHERE state = 'rejected'") == [
        "suppressed: on the do-not-call list (file dnc.csv)"
    ]


def test_a_removed_phone_is_called_again_and_its_history_stays(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    ledger.suppressions.add(["79160000001"], by="results", source=OPT_OUT, job_ids=["job-9"])
    assert ledger.suppressions.remove(["79160000001"], by="ops", reason="consent") == 1
    assert ledger.suppressions.entries() == []
    (entry,) = ledger.suppressions.entries(history=True)
    assert (entry.source, entry.job_id, entry.removed_by, entry.removed_reason) == (
        "opt_out",
        "job-9",
        "ops",
        "consent",
    )
    plan_file(s, [_row(1, "79160000001")], rules=RULES)
    assert scalar("SELECT state FROM rows") == "planned"


def test_caps_count_jobs_across_nightly_files_with_changed_amounts(
    ledger: Ledger, clock: FakeClock, column: ColumnQuery
) -> None:
    rules = ContactRules(caps=(("day", 1), ("week", 2)), zone="Europe/Moscow")
    clock.now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 04:00 in Moscow
    s = start(ledger)
    # two rows of one file for one phone: the second would be a second call today
    plan_file(s, [_row(1, "79160000001", 100), _row(2, "79160000001", 101)], rules=rules)
    assert column("SELECT reason_code FROM rows ORDER BY id") == [None, "contact_cap"]
    _send_all(s)
    clock.advance(hours=12)  # the same Moscow day, amounts changed: not a repeat, but capped
    s = start(ledger)  # each night its own run (the last lease expired)
    plan_file(s, [_row(1, "79160000001", 90)], sha="cd" * 32, rules=rules)
    clock.advance(hours=12)  # Tuesday: a new day, the second call of the week
    s = start(ledger)
    plan_file(s, [_row(1, "79160000001", 80)], sha="ef" * 32, rules=rules)
    _send_all(s)
    clock.advance(days=1)  # Wednesday: the week's two are used
    s = start(ledger)
    plan_file(s, [_row(1, "79160000001", 70)], sha="01" * 32, rules=rules)
    assert column("SELECT coalesce(reason_code, state) FROM rows ORDER BY id") == [
        "sent",
        "contact_cap",
        "contact_cap",
        "sent",
        "contact_cap",
    ]
    assert "this week" in str(column("SELECT reason FROM rows ORDER BY id DESC")[0])


def test_caps_count_other_campaigns_of_the_ledger(ledger: Ledger, column: ColumnQuery) -> None:
    rules = ContactRules(caps=(("day", 1),))
    first = start(ledger)
    plan_file(first, [_row(1, "79160000001")], rules=rules)  # planned: on its way
    ledger.leases.release(first.lease)
    second = start(ledger, token="1000.3000.anotherCampaign", owner="worker-2")
    plan_file(second, [_row(1, "79160000001")], sha="cd" * 32, rules=rules)
    assert column("SELECT coalesce(reason_code, state) FROM rows ORDER BY id") == [
        "planned",
        "contact_cap",
    ]


def test_periods_are_calendar_periods_of_the_zone() -> None:
    now = datetime(2026, 3, 4, 22, 30, tzinfo=UTC)  # Thursday 01:30 in Moscow
    got = {k: v.astimezone(UTC) for k, v in period_starts(now, "Europe/Moscow").items()}
    assert got == {
        "day": datetime(2026, 3, 4, 21, 0, tzinfo=UTC),
        "week": datetime(2026, 3, 1, 21, 0, tzinfo=UTC),
        "month": datetime(2026, 2, 28, 21, 0, tzinfo=UTC),
    }
