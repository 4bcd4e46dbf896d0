"""Planning: resume of the same file, cross-run duplicates, their window and allow-repeats."""

from __future__ import annotations

from pipeline.ledger import Ledger
from pipeline.ledger.store.keys import row_key, token_fingerprint
from pipeline.records import CallItem
from tests.conftest import FakeClock
from tests.ledger.conftest import ScalarQuery, Setup, body_for, items, plan_file, start


def _send_all(s: Setup) -> None:
    s.ledger.freezing.freeze_batches(s.lease, batch_size=100, body_for=body_for)
    for work in s.ledger.sending.claim_sendable(s.lease, limit=100):
        s.ledger.sending.mark_attempt(s.lease, work.id)
        s.ledger.replies.record_success(s.lease, work.id, [f"job-{r}" for r in work.row_ids])


def test_resume_after_a_crash_mid_plan_records_each_row_once(
    ledger: Ledger, scalar: ScalarQuery
) -> None:
    s = start(ledger)
    rows = items(10)
    state = ledger.inputs.begin(s.lease, name="export.csv", sha256="ab" * 32)
    ledger.planning.plan_chunk(s.lease, state.id, rows[:4])  # ... then the process was killed
    again = ledger.inputs.begin(s.lease, name="export.csv", sha256="ab" * 32)
    assert (again.id, again.planned_through, again.complete) == (state.id, 4, False)
    counts = ledger.planning.plan_chunks(
        s.lease, state.id, [rows[:5], rows[5:]]
    )  # the whole file again
    assert counts.skipped_already_planned == 4 and counts.planned == 6
    ledger.inputs.complete(s.lease, state.id, rows_total=10)
    assert scalar("SELECT count(*) FROM rows") == 10


def test_rerun_of_a_finished_file_plans_nothing(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    plan_file(s, items(5))
    _send_all(s)
    state = ledger.inputs.begin(s.lease, name="renamed.csv", sha256="ab" * 32)
    assert state.complete
    assert ledger.planning.plan_chunk(s.lease, state.id, items(5)).planned == 0
    assert scalar("SELECT count(*) FROM rows") == 5
    assert scalar("SELECT count(*) FROM inputs") == 1


def test_same_row_in_another_file_is_a_duplicate_within_the_window(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger)
    plan_file(s, items(3))
    _send_all(s)
    clock.advance(days=6)
    changed = CallItem(row=3, phone="79160000003", payload={"n": 99})  # new payload: not a repeat
    plan_file(s, [*items(2), changed], sha="cd" * 32)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'duplicate'") == 2
    first = scalar("SELECT min(id) FROM rows")
    assert scalar("SELECT min(duplicate_of) FROM rows WHERE state = 'duplicate'") == first
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 1


def test_rows_still_on_their_way_count_as_earlier(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    plan_file(s, items(2))  # planned, not sent yet
    plan_file(s, items(2), sha="cd" * 32)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'duplicate'") == 2


def test_repeat_outside_the_window_is_sent_again(
    ledger: Ledger, scalar: ScalarQuery, clock: FakeClock
) -> None:
    s = start(ledger, ttl_s=30 * 86_400)
    plan_file(s, items(2))
    _send_all(s)
    clock.advance(days=7, seconds=1)
    plan_file(s, items(2), sha="cd" * 32)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'duplicate'") == 0
    clock.advance(days=1)
    plan_file(s, items(2), sha="ef" * 32, repeat_window_s=86_400.0 * 30)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'duplicate'") == 2


def test_allow_repeats_plans_intended_repeats(ledger: Ledger, scalar: ScalarQuery) -> None:
    s = start(ledger)
    plan_file(s, items(2))
    _send_all(s)
    plan_file(s, items(2), sha="cd" * 32, allow_repeats=True)
    assert scalar("SELECT count(*) FROM rows WHERE state = 'planned'") == 2


def test_other_campaigns_are_not_duplicates(ledger: Ledger, scalar: ScalarQuery) -> None:
    a = start(ledger, token="1.2.campaign-a")
    plan_file(a, items(2))
    _send_all(a)
    b = start(ledger, token="1.2.campaign-b", owner="worker-2")
    plan_file(b, items(2))
    assert scalar("SELECT count(*) FROM rows WHERE state = 'duplicate'") == 0
    keys = scalar("SELECT count(DISTINCT row_key) FROM rows")
    assert keys == 4  # same phone and payload, different campaign: different key


def test_row_key_is_stable_and_covers_every_field() -> None:
    fp = token_fingerprint("1.2.x")
    assert fp != token_fingerprint("1.2.y") and "1.2.x" not in fp
    base = row_key(fp, "7916", '{"a":1}', "{}")
    assert base == row_key(fp, "7916", '{"a":1}', "{}")
    variants = {
        row_key(fp, "7917", '{"a":1}', "{}"),
        row_key(fp, "7916", '{"a":2}', "{}"),
        row_key(fp, "7916", '{"a":1}', '{"maxAttempts":2}'),
        row_key(token_fingerprint("1.2.y"), "7916", '{"a":1}', "{}"),
    }
    assert base not in variants and len(variants) == 4
