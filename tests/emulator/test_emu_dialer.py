"""The dialing simulation, driven only by the emulator clock."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import Any

from pipeline.emulator import Emulator
from tests.conftest import EMULATOR_START_MS, random_token
from tests.emulator.conftest import Api, phones

FINAL = {"longCallWithResult", "longCallWithNoResult", "noAnswer", "nonexistentNumber"}


def _run(seed: int, steps: list[float]) -> list[dict[str, Any]]:
    with Emulator(seed=seed, start_ms=EMULATOR_START_MS) as emu:
        token = random_token()
        emu.create_campaign(token, max_attempts=3, retry_interval_min=10)
        helper = Api(emu, token)
        ids = helper.post("addPhones", phones(60)).json()
        for step in steps:
            emu.advance(step)
        attempts = helper.post("callAttempt/getReport", {"ids": ids}).json()
        helper.session.close()
        assert isinstance(attempts, list)
        return attempts


def test_outcomes_are_seeded_and_independent_of_step_size() -> None:
    one_jump = _run(5, [6 * 3600])
    many_steps = _run(5, [7.0] * 3000 + [6 * 3600 - 7.0 * 3000])
    assert one_jump == many_steps
    assert _run(6, [6 * 3600]) != one_jump


def test_jobs_reach_every_documented_outcome(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(80))
    assert {job["jobStatus"] for job in emulator.jobs()} == {"planned"}
    emulator.advance(1)
    counts = Counter(job["jobStatus"] for job in emulator.jobs())
    assert counts == {"inProcess": 5, "planned": 75}  # five lines (maxSimultaneousCalls)
    assert api.get("").json()["shortReport"]["inProcessCalls"] == 5
    seen: set[str] = set()
    for _ in range(60):
        emulator.advance(600)
        seen |= {job["jobStatus"] for job in emulator.jobs()}
    assert {"onRetry", "inProcess", "planned"} <= seen
    statuses = {job["jobStatus"] for job in emulator.jobs()}
    assert statuses == FINAL


def test_attempts_honour_max_attempts_and_retry_interval(api: Api, emulator: Emulator) -> None:
    api.post(
        "addPhones", [{**p, "maxAttempts": 2, "retryIntervalInMinutes": 45} for p in phones(60)]
    )
    emulator.advance(24 * 3600)
    attempts = api.post(
        "callAttempt/getReport", {"phones": [p["phone"] for p in phones(60)]}
    ).json()
    by_job: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_job.setdefault(attempt["callJobId"], []).append(attempt)
    jobs = {
        job["callJobId"]: job for job in api.post("callJob/getReport", {"ids": list(by_job)}).json()
    }
    assert len(jobs) == 60
    retried = 0
    for ident, own in by_job.items():
        assert [a["attemptNumber"] for a in own] == list(range(1, len(own) + 1))
        assert len(own) <= 2
        assert jobs[ident]["attemptsCount"] == len(own)
        assert jobs[ident]["callDuration"] == sum(a["callDuration"] for a in own)
        for earlier, later in pairwise(own):
            assert later["startedAt"] - earlier["finishedAt"] >= 45 * 60_000
            retried += 1
        if jobs[ident]["jobStatus"] == "noAnswer":
            assert len(own) == 2
        if jobs[ident]["jobStatus"] == "longCallWithResult":
            assert own[-1]["callResult"] is not None
            assert jobs[ident]["reportData"]["callResult"] == own[-1]["callResult"]
        if jobs[ident]["jobStatus"] == "longCallWithNoResult":
            assert own[-1]["callResult"] is None
        assert jobs[ident]["finishedAt"] == own[-1]["finishedAt"]
    report = api.get("").json()["shortReport"]
    assert report["processedNumbers"] == 60
    assert report["retryCalls"] == retried > 0
    assert report["usedTalkingTime"] == sum(a["callDuration"] for a in attempts) > 0


def test_pause_starts_nothing_new_and_resume_continues(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(10))
    emulator.advance(1)
    api.post("control/pause")
    emulator.advance(3600)
    counts = Counter(job["attemptsCount"] for job in emulator.jobs())
    assert counts == {1: 5, 0: 5}  # the five calls in progress finished; nothing else started
    assert "inProcess" not in {job["jobStatus"] for job in emulator.jobs()}
    api.post("control/resume")
    emulator.advance(24 * 3600)
    assert {job["jobStatus"] for job in emulator.jobs()} <= FINAL


def test_cancel_waiting_and_in_progress_jobs(api: Api, emulator: Emulator) -> None:
    ids = api.post("addPhones", phones(6)).json()
    emulator.advance(1)  # ids[0:5] in progress, ids[5] waiting for a line
    cancelled = api.post("callJob/cancel", {"ids": [ids[0], ids[5]]}).json()
    assert cancelled == [ids[0], ids[5]]
    waiting = api.post("callJob/getReport", {"ids": [ids[5]]}).json()[0]
    assert waiting["jobStatus"] == "cancelledByUser"
    assert waiting["attemptsCount"] == 0
    assert waiting["finishedAt"] == EMULATOR_START_MS + 1000
    emulator.advance(24 * 3600)
    [first] = api.post("callJob/getReport", {"ids": [ids[0]]}).json()
    assert first["jobStatus"] == "cancelledByUser"
    assert first["attemptsCount"] == 1  # the call in progress was allowed to finish
    assert api.post("callJob/cancel", {"ids": ids}).json() == []  # nothing left to cancel


def test_start_date_time_delays_the_first_attempt(api: Api, emulator: Emulator) -> None:
    later = "2023-11-15T00:00:00Z"  # about 1 h 47 min after the emulator's start
    ids = api.post("addPhones", [{"phone": "79990000001", "startDateTime": later}]).json()
    emulator.advance(3600)
    assert emulator.jobs()[0]["attemptsCount"] == 0
    emulator.advance(3600)
    [attempt, *_] = api.post("callAttempt/getReport", {"ids": ids}).json()
    assert attempt["startedAt"] == 1700006400000


def test_finish_date_time_ends_the_job(api: Api, emulator: Emulator) -> None:
    window = {"startDateTime": "2023-11-15T00:00:00Z", "finishDateTime": "2023-11-15T00:00:01Z"}
    api.post("addPhones", [{"phone": "79990000001", **window}])
    api.post("control/pause")  # so the window passes without a call
    emulator.set_clock_ms(1700006402000)
    api.post("control/resume")
    emulator.advance(1)
    [job] = emulator.jobs()
    assert job["jobStatus"] == "notDone"
    assert job["attemptsCount"] == 0


def test_unfinished_and_attempt_reports_by_date(api: Api, emulator: Emulator) -> None:
    api.post("addPhones", phones(10))
    emulator.advance(3 * 3600)
    unfinished = api.post("callJob/getUnfinished", {"pageSize": 200}).json()["items"]
    assert all(item["finishedAt"] is None for item in unfinished)
    body = {"filter": {"startedAtFrom": "2023-11-14T22:13:20Z"}, "pagination": {"pageSize": 200}}
    items = api.post("callAttempt/getReportByDate", body).json()["items"]
    everything = api.post("callAttempt/getReport", {"phones": [p["phone"] for p in phones(10)]})
    assert len(items) == len(everything.json()) >= 10
