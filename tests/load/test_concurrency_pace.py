"""The pace of ``upload.concurrency: auto``: twice as many senders per full round of fast,
unrefused replies until the first slow round or overload (slow start), then one more per such
round; half as many on a 429 / 5xx / timeout, never above the maximum or below one, and no
increase for a while after a decrease. A fake clock; nothing sleeps."""

from __future__ import annotations

import threading

import pytest

from pipeline.config import parse_config
from pipeline.config.sections import UploadConfig
from pipeline.load.send.pace import QUIET_ROUNDS, Gate, Pace, threads


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rounds(pace: Pace, n: int, seconds: float = 0.1) -> list[int]:
    """``n`` full rounds of replies at the current limit, adjusting after each; the limits."""
    seen = []
    for _ in range(n):
        for _reply in range(pace.limit):
            pace.replied(seconds)
        pace.adjust()
        seen.append(pace.limit)
    return seen


def test_slow_start_doubles_per_full_round_of_fast_replies_up_to_the_maximum() -> None:
    pace = Pace(maximum=16, clock=Clock())
    assert pace.limit == 1
    assert rounds(pace, 6) == [2, 4, 8, 16, 16, 16]
    capped = Pace(maximum=6, clock=Clock())
    assert rounds(capped, 4) == [2, 4, 6, 6]  # never above the maximum


def test_one_more_sender_per_full_round_of_fast_replies_after_slow_start() -> None:
    pace = Pace(maximum=8, clock=Clock())
    rounds(pace, 1, seconds=0.1)  # baseline 0.1 s, limit 2
    rounds(pace, 1, seconds=0.2)  # a slow round: slow start is over
    assert not pace.slow_start
    assert rounds(pace, 8) == [3, 4, 5, 6, 7, 8, 8, 8]


def test_an_overload_ends_slow_start() -> None:
    pace = Pace(maximum=32, clock=Clock())
    assert rounds(pace, 2) == [2, 4]
    pace.overloaded()
    pace.adjust()
    assert pace.limit == 2 and not pace.slow_start
    # A quiet round, then one more per round: no doubling back to where it was refused.
    assert rounds(pace, QUIET_ROUNDS + 3) == [2] * QUIET_ROUNDS + [3, 4, 5]


def test_no_increase_before_a_full_round_at_the_current_limit() -> None:
    pace = Pace(maximum=8, clock=Clock(), start=3)
    pace.replied(0.1)
    pace.replied(0.1)
    assert pace.adjust() is None and pace.limit == 3
    pace.replied(0.1)  # the third reply completes the round
    change = pace.adjust()
    assert change is not None and (change.before, change.limit) == (3, 6)  # slow start


def test_slow_replies_hold_the_limit() -> None:
    pace = Pace(maximum=8, clock=Clock())
    rounds(pace, 2, seconds=0.1)  # baseline 0.1 s, limit 4
    assert rounds(pace, 3, seconds=0.2) == [4, 4, 4]  # twice as slow: the server queues
    assert rounds(pace, 1, seconds=0.12) == [5]  # fast again: one more, not twice as many


def test_an_overload_halves_the_limit_and_none_goes_below_one() -> None:
    clock = Clock()
    pace = Pace(maximum=16, clock=clock, start=9)
    pace.overloaded()
    change = pace.adjust()
    assert change is not None and (change.before, change.limit) == (9, 4)
    assert "refused or timed out" in change.reason
    for expected in (2, 1, 1):
        pace.overloaded()
        pace.adjust()
        assert pace.limit == expected


def test_an_overload_wins_over_fast_replies_in_the_same_round() -> None:
    pace = Pace(maximum=8, clock=Clock(), start=4)
    for _ in range(10):
        pace.replied(0.1)
    pace.overloaded()
    pace.adjust()
    assert pace.limit == 2


def test_the_round_after_a_decrease_brings_no_increase() -> None:
    pace = Pace(maximum=8, clock=Clock(), start=4)
    pace.overloaded()
    pace.adjust()
    # The first round's replies belong to requests sent at the old limit.
    assert rounds(pace, QUIET_ROUNDS + 1) == [2] * QUIET_ROUNDS + [3]


def test_replies_and_overloads_may_come_from_many_threads() -> None:
    pace = Pace(maximum=32, clock=Clock(), start=32)

    def replies() -> None:
        for _ in range(1000):
            pace.replied(0.1)

    workers = [threading.Thread(target=replies) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert pace.adjust() is None  # at the maximum; the round is spent
    pace.replied(0.1)
    assert pace.adjust() is None  # one reply is not a round of 32


def test_start_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and maximum"):
        Pace(maximum=4, clock=Clock(), start=5)


def test_the_gate_lets_limit_through_and_follows_a_resize() -> None:
    gate = Gate(1)
    entered = threading.Event()
    inside = gate.__enter__()

    def wait() -> None:
        gate.__enter__()
        entered.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert not entered.wait(0.05)  # the one place is taken
    gate.resize(2)  # a second place: the waiter gets in without the first leaving
    assert entered.wait(5)
    waiter.join()
    assert gate.peak == 2
    inside.__exit__(None, None, None)
    gate.__exit__(None, None, None)


def _upload(**upload: object) -> UploadConfig:
    base = {"api": {"base_url": "https://app.jaicp.com"}, "upload": upload}
    return parse_config(base, environ={}).upload


def test_config_takes_auto_and_a_maximum_and_keeps_the_number_form() -> None:
    auto = _upload(concurrency="auto", max_concurrency=6)
    assert (auto.concurrency, auto.max_concurrency) == ("auto", 6)
    assert threads(auto.concurrency, auto.max_concurrency) == 6
    fixed = _upload(concurrency=4)
    assert threads(fixed.concurrency, fixed.max_concurrency) == 4
    assert _upload().concurrency == 1


@pytest.mark.parametrize("bad", [0, 33, "fast", True, 2.5])
def test_config_refuses_other_concurrency_values(bad: object) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises((ConfigError, ValueError), match="at most 32 senders, or auto"):
        _upload(concurrency=bad)
