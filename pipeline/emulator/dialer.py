"""The dialing simulation: moves jobs through their statuses as the emulator clock advances.

A discrete-event simulation per campaign, driven only by :meth:`Clock.advance` (never by wall
time): at every event time the dialer fills free lines (``maxSimultaneousCalls``) with due
jobs — retries that became due first, then new jobs in the order they were added — and ends
the calls whose time is up. Each attempt's outcome comes from ``random.Random`` seeded with
``(seed, job id, attempt number)``, so a run is the same however the clock is advanced.

Outcomes of one attempt: 5 % ``nonexistentNumber`` (3 s ring, final), 40 % no answer (30 s
ring; ``onRetry`` after ``retryIntervalInMinutes`` until ``maxAttempts``, then ``noAnswer``),
55 % answered (15-180 s talk; half of them set a ``callResult`` such as ``CALLBACK_REQUEST``
→ ``longCallWithResult``, else ``longCallWithNoResult``). ``startDateTime`` delays the first
attempt; past ``finishDateTime`` a job ends ``notDone``/``noAnswer`` without a new attempt.
``allowedDays``/``allowedTime``/``gmtZone``/``dialerPriority`` are stored and reported but do
not steer the simulation.

Pause lets calls in progress finish and starts nothing new; stop ends calls in progress now
and marks every unfinished job ``notDone``; a job cancelled during its call ends
``cancelledByUser`` when the call ends.

Usage (under the state lock)::

    simulate(campaign, from_ms, to_ms, seed=0)
"""

from __future__ import annotations

import heapq
import itertools
import random

from pipeline.emulator.model import FINAL_STATUSES, Attempt, Campaign, Job

CALL_RESULTS = ("CALLBACK_REQUEST", "AGREED", "REFUSED", "WRONG_PERSON")
_order = itertools.count()  # tie-breaker so the heaps never compare Job objects


def simulate(camp: Campaign, start_ms: int, end_ms: int, seed: int) -> None:
    """Run the campaign's dialer over the time span (start_ms, end_ms]."""
    now = start_ms
    while True:
        if camp.status == "inProgress":
            _fill_lines(camp, now, seed)
        candidates = []
        if camp.calls:
            candidates.append(camp.calls[0][0])
        if (
            camp.status == "inProgress"
            and camp.waiting
            and len(camp.calls) < camp.max_simultaneous_calls
        ):
            candidates.append(camp.waiting[0][0])
        if not candidates or min(candidates) > end_ms:
            return
        now = max(now, min(candidates))
        while camp.calls and camp.calls[0][0] <= now:
            ended_at, _, job = heapq.heappop(camp.calls)
            _end_call(camp, job, ended_at)


def _next_job(camp: Campaign, now: int) -> Job | None:
    while camp.waiting and camp.waiting[0][0] <= now:
        due, _, job = heapq.heappop(camp.waiting)
        if job.next_due == due and job.status in ("planned", "onRetry"):
            return job
    while camp.dial_cursor < len(camp.jobs):
        job = camp.jobs[camp.dial_cursor]
        camp.dial_cursor += 1
        if job.status != "planned" or job.next_due is None:
            continue  # cancelled before it was ever dialled
        if job.next_due > now:
            heapq.heappush(camp.waiting, (job.next_due, next(_order), job))
            continue
        return job
    return None


def _fill_lines(camp: Campaign, now: int, seed: int) -> None:
    while len(camp.calls) < camp.max_simultaneous_calls:
        job = _next_job(camp, now)
        if job is None:
            return
        finish = job.policy.finish_ms
        if finish is not None and now > finish:
            _finish(camp, job, "noAnswer" if job.attempts else "notDone", now)
            continue
        _start_call(camp, job, now, seed)


def _start_call(camp: Campaign, job: Job, now: int, seed: int) -> None:
    number = len(job.attempts) + 1
    rng = random.Random(f"{seed}:{job.id}:{number}")  # noqa: S311 - a simulation
    roll = rng.random()
    result = None
    if roll < 0.05:
        outcome, seconds, talk = "nonexistent", 3, 0
    elif roll < 0.45:
        outcome, seconds, talk = "noAnswer", 30, 0
    else:
        outcome = "answered"
        seconds = talk = rng.randint(15, 180)
        if rng.random() < 0.5:
            result = rng.choice(CALL_RESULTS)
    job.attempts.append(
        Attempt(number=number, started_at=now, duration_s=talk, call_result=result, outcome=outcome)
    )
    job.status = "inProcess"
    job.next_due = None
    if number > 1:
        camp.retry_calls += 1
    heapq.heappush(camp.calls, (now + seconds * 1000, next(_order), job))


def _end_call(camp: Campaign, job: Job, ended_at: int) -> None:
    if job.status != "inProcess":
        return  # the campaign was stopped meanwhile
    attempt = job.attempts[-1]
    attempt.finished_at = ended_at
    camp.talk_s += attempt.duration_s
    if attempt.outcome == "answered":
        if attempt.call_result is not None:
            job.report_data = {"callResult": attempt.call_result, "attempt": attempt.number}
        status = "longCallWithResult" if attempt.call_result else "longCallWithNoResult"
    elif attempt.outcome == "nonexistent":
        status = "nonexistentNumber"
    elif attempt.number < job.policy.max_attempts and not job.cancel_requested:
        job.status = "onRetry"
        job.next_due = ended_at + job.policy.retry_interval_min * 60_000
        heapq.heappush(camp.waiting, (job.next_due, next(_order), job))
        return
    else:
        status = "noAnswer"
    _finish(camp, job, "cancelledByUser" if job.cancel_requested else status, ended_at)


def _finish(camp: Campaign, job: Job, status: str, at: int) -> None:
    job.status = status
    job.finished_at = at
    job.next_due = None
    camp.processed += 1


def stop_campaign(camp: Campaign, now: int) -> None:
    """Stop: calls in progress end now, every unfinished job becomes ``notDone``."""
    camp.status = "finished"
    camp.end_time = now
    for _, _, job in camp.calls:
        if job.status == "inProcess":
            attempt = job.attempts[-1]
            attempt.finished_at = now
            attempt.duration_s = min(attempt.duration_s, (now - attempt.started_at) // 1000)
            camp.talk_s += attempt.duration_s
    camp.calls.clear()
    camp.waiting.clear()
    camp.dial_cursor = len(camp.jobs)
    for job in camp.jobs:
        if job.status not in FINAL_STATUSES:
            _finish(camp, job, "notDone", now)
