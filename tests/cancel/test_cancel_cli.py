"""`jaicp-pipeline cancel` as an operator runs it, against the emulator over a socket and a
real SQLite ledger: selection by run/file/phone/job, the prompt, idempotence, finished jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.emulator import Emulator
from pipeline.ledger import open_ledger
from pipeline.load.cancel_run import plan_cancel
from tests.conftest import phone
from tests.results.support import Operator


def _rows(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(phone(start + i), f"Name{start + i}", "n") for i in range(n)]


def _statuses(emulator: Emulator, campaign: dict[str, Any]) -> dict[str, str]:
    return {j["phone"]: j["jobStatus"] for j in emulator.jobs(campaign["id"])}


def _cancel_requests(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.requests_log() if e["path"].endswith("/callJob/cancel")]


def test_declining_the_prompt_cancels_nothing_and_yes_at_the_prompt_cancels_the_run(
    op_each: Operator, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    op = op_each  # SQLite and PostgreSQL ledgers
    run = op.upload(op.csv("a.csv", _rows(7)))

    declined = op.invoke("cancel", "--run", str(run), input="n\n")
    assert declined.exit_code == 1, declined.output
    assert "will cancel 7 call job(s): 791*****000, 791*****001" in declined.output
    assert "and 2 more" in declined.output and phone(0) not in declined.output
    assert "nothing was cancelled" in declined.output
    assert _cancel_requests(emulator) == []
    assert op.sql("SELECT count(*) FROM cancel_requests")[0][0] == 0

    accepted = op.invoke("cancel", "--run", str(run), "--chunk-size", "3", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "cancel: 7 of 7 call job(s) cancelled in 3 request(s)" in accepted.output
    assert set(_statuses(emulator, campaign).values()) == {"cancelledByUser"}
    sent = _cancel_requests(emulator)
    assert len(sent) == 3
    keys = op.sql("SELECT request_key FROM cancel_requests WHERE state = 'done' ORDER BY id")
    assert len(keys) == 3 and len({k for (k,) in keys}) == 3
    assert op.sql("SELECT count(*) FROM cancel_items WHERE cancelled")[0][0] == 7
    events = op.sql("SELECT entity, reason FROM events WHERE entity IN ('cancel', 'row')")
    assert sum(e == "row" and "cancelled" in r for e, r in events) == 7
    assert sum(e == "cancel" for e, _ in events) == 6  # planned + done, per request


def test_a_second_cancel_finds_nothing_left(op: Operator, emulator: Emulator) -> None:
    run = op.upload(op.csv("a.csv", _rows(3)))
    assert op.invoke("cancel", "--run", str(run), "--yes").exit_code == 0
    again = op.invoke("cancel", "--run", str(run), "--yes")
    assert again.exit_code == 0, again.output
    assert "nothing left to cancel" in again.output
    assert len(_cancel_requests(emulator)) == 1


def test_finished_jobs_are_reported_not_cancelled_and_not_asked_again(
    op: Operator, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    run = op.upload(op.csv("a.csv", _rows(4)))
    emulator.advance(8 * 3600)  # every job has finished
    result = op.invoke("cancel", "--run", str(run), "--yes")
    assert result.exit_code == 0, result.output
    assert "cancel: 0 of 4 call job(s) cancelled" in result.output
    assert "4 had already finished" in result.output
    assert "cancelledByUser" not in _statuses(emulator, campaign).values()
    assert op.sql("SELECT count(*) FROM cancel_items WHERE cancelled = false")[0][0] == 4
    assert "nothing left to cancel" in op.invoke("cancel", "--run", str(run), "--yes").output


def test_cancel_by_file_phone_and_job_touches_only_those(
    op: Operator, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    a = op.csv("a.csv", _rows(3))
    op.upload(a)
    op.upload(op.csv("b.csv", _rows(3, start=10)))

    by_file = op.invoke("cancel", "--file", str(a), "--yes")
    assert by_file.exit_code == 0, by_file.output
    status = _statuses(emulator, campaign)
    assert [status[phone(i)] for i in range(3)] == ["cancelledByUser"] * 3
    assert [status[phone(10 + i)] for i in range(3)] == ["planned"] * 3

    # A phone written the way a CRM export has it, normalised like upload does.
    raw = "8 (916) 000-00-10"
    by_phone = op.invoke("cancel", "--phone", raw, "--yes")
    assert by_phone.exit_code == 0, by_phone.output
    assert _statuses(emulator, campaign)[phone(10)] == "cancelledByUser"

    (job,) = op.sql("SELECT job_id FROM rows WHERE phone = :p", p=phone(11))[0]
    by_job = op.invoke("cancel", "--job", str(job), "--yes")
    assert by_job.exit_code == 0, by_job.output
    status = _statuses(emulator, campaign)
    assert status[phone(11)] == "cancelledByUser" and status[phone(12)] == "planned"

    gone = tmp_path / "gone"
    gone.mkdir()
    unknown = op.invoke("cancel", "--file", str(gone / "never.csv"), "--yes")
    assert unknown.exit_code == 1 and "never uploaded" in unknown.output
    bad = op.invoke("cancel", "--phone", "12", "--yes")
    assert bad.exit_code == 4 and "--phone" in bad.output
    both = op.invoke("cancel", "--run", "1", "--job", "5", "--yes")
    assert both.exit_code == 2


def test_a_request_left_unanswered_is_resent_under_its_key_first(
    op: Operator, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    run = op.upload(op.csv("a.csv", _rows(2)))
    # A crash after the intent was stored and before the reply was recorded: the intent is
    # planned in the ledger exactly as cancels.plan leaves it.
    with open_ledger(op.ledger_url) as ledger:
        plan = plan_cancel(ledger, op.token, run_id=run)
        own = ledger.runs.start(command="cancel", files=[], config_digest="x")
        (work,) = ledger.cancels.plan(plan.campaign_id, own, plan.targets, chunk_size=10)
    result = op.invoke("cancel", "--run", str(run), "--yes")
    assert result.exit_code == 0, result.output
    assert "sent again first" in result.output
    (request,) = _cancel_requests(emulator)
    assert request["idempotenceKey"] == work.request_key
    assert set(_statuses(emulator, campaign).values()) == {"cancelledByUser"}
    assert op.sql("SELECT state FROM cancel_requests") == [("done",)]
