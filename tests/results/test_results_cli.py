"""`jaicp-pipeline results` as an operator runs it: upload, let the emulated dialer work,
export the outcomes (over a socket to the emulator, into a real SQLite ledger file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import load_workbook

from pipeline.emulator import Emulator
from tests.conftest import phone
from tests.results.support import Operator, read_csv

FINAL = {"longCallWithResult", "longCallWithNoResult", "noAnswer", "nonexistentNumber"}


def _rows(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(phone(start + i), f"Name{start + i}", "note") for i in range(n)]


def test_xlsx_results_carry_statuses_attempts_report_data_and_local_times(
    op: Operator, emulator: Emulator, campaign: dict[str, object], tmp_path: Path
) -> None:
    rows = [
        *_rows(6),
        (phone(0), "Name0", "note"),  # duplicate of row 1
        ("12345", "Bad", "note"),  # rejected
        (phone(9), '=HYPERLINK("http://x")', "@evil"),  # formula-looking cells
    ]
    run = op.upload(op.csv("crm.csv", rows))
    emulator.advance(8 * 3600)
    out = tmp_path / "results.xlsx"

    result = op.invoke("results", "--run", str(run), "--attempts", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "9 row(s) written" in result.output
    assert out.stat().st_mode & 0o077 == 0
    sheet = load_workbook(out, read_only=True).active
    assert sheet is not None
    values = [[c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
    header, lines = (
        [str(h) for h in values[0]],
        [dict(zip(values[0], r, strict=True)) for r in values[1:]],
    )
    assert header[:2] == ["payload.name", "payload.note"]
    assert {"job_status", "attempts", "call_result", "finished_at"} <= set(header)
    assert [line["state"] for line in lines] == ["sent"] * 6 + ["duplicate", "rejected", "sent"]
    assert lines[6]["duplicate_of"] == 1  # a number cell in XLSX
    assert "phone" in str(lines[7]["reason"])

    jobs = {j["id"]: j for j in emulator.jobs(campaign["id"])}  # type: ignore[arg-type]
    sent = [line for line in lines if line["state"] == "sent"]
    assert len(jobs) == len(sent) == 7
    moscow = ZoneInfo("Europe/Moscow")
    as_csv = tmp_path / "results.csv"  # the same outcomes as text, with their offsets
    assert op.invoke("results", "--run", str(run), "--out", str(as_csv)).exit_code == 0
    texts = {r["job_id"]: r for r in read_csv(as_csv)}
    for line in sent:
        job = jobs[str(line["job_id"])]
        assert line["job_status"] == job["jobStatus"] and line["job_status"] in FINAL
        assert line["attempts"] == job["attemptsCount"] >= 1  # a number cell
        finished = datetime.fromisoformat(texts[str(line["job_id"])]["finished_at"])
        assert finished.utcoffset() == timedelta(hours=3)  # Moscow, no DST
        assert finished.tzinfo is not None and finished.astimezone(moscow) == finished
        # XLSX has no zones: a date cell holding the Moscow wall clock the CSV shows.
        assert line["finished_at"] == finished.replace(tzinfo=None)
    with_result = [line for line in sent if line["call_result"]]
    assert with_result, "seed 0 answers some calls with a result"
    for line in with_result:
        assert line["job_status"] == "longCallWithResult"
        assert line["report.callResult"] == line["call_result"]  # reportData flattened
    # XLSX string cells are shown, never run: verbatim, no apostrophe (CSV keeps the rule).
    assert lines[8]["payload.name"] == '=HYPERLINK("http://x")'
    assert lines[8]["payload.note"] == "@evil"
    csv_names = [r["payload.name"] for r in read_csv(as_csv)]
    assert csv_names[8] == '\'=HYPERLINK("http://x")'

    stored = op.sql("SELECT job_status, attempts FROM job_outcomes ORDER BY row_id")
    assert len(stored) == 7 and all(status in FINAL for status, _ in stored)


def test_outcomes_are_refreshed_and_before_dialing_jobs_are_planned(
    op: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    run = op.upload(op.csv("a.csv", _rows(3)))
    out = tmp_path / "r.csv"
    assert op.invoke("results", "--run", str(run), "--out", str(out)).exit_code == 0
    assert {r["job_status"] for r in read_csv(out)} == {"planned"}
    assert {r["finished_at"] for r in read_csv(out)} == {""}

    emulator.advance(8 * 3600)
    assert op.invoke("results", "--run", str(run), "--out", str(out)).exit_code == 0
    assert {r["job_status"] for r in read_csv(out)} <= FINAL
    assert op.sql("SELECT count(*) FROM job_outcomes")[0][0] == 3  # replaced, not appended


def test_source_file_gives_the_original_columns_and_sent_only_drops_the_rest(
    op: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    source = op.csv("crm.csv", [*_rows(2), ("not a phone", "X", "y")])
    run = op.upload(source)
    out = tmp_path / "r.csv"
    result = op.invoke("results", "--run", str(run), "--source", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = read_csv(out)
    assert list(lines[0])[:3] == ["phone", "name", "note"]
    assert [r["name"] for r in lines] == ["Name0", "Name1", "X"]
    assert lines[2]["phone"] == "not a phone"  # the cell as exported, for the CRM to fix
    # The file's own "phone" column is kept; ours are prefixed so the file reads back.
    assert [r["result_state"] for r in lines] == ["sent", "sent", "rejected"]
    assert lines[0]["result_phone"] == phone(0)

    changed = op.csv("crm-changed.csv", _rows(2, start=50))
    result = op.invoke(
        "results",
        "--run",
        str(run),
        "--source",
        str(changed),
        "--sent-only",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "matches none of the selected uploads" in result.output
    lines = read_csv(out)
    assert [r["state"] for r in lines] == ["sent", "sent"]
    assert [r["payload.name"] for r in lines] == ["Name0", "Name1"]


def test_run_and_since_select_the_rows(op: Operator, tmp_path: Path) -> None:
    first = op.upload(op.csv("a.csv", _rows(2)))
    second = op.upload(op.csv("b.csv", _rows(3, start=10)))
    out = tmp_path / "r.csv"

    assert op.invoke("results", "--run", str(second), "--out", str(out)).exit_code == 0
    assert {r["file"] for r in read_csv(out)} == {"b.csv"} and len(read_csv(out)) == 3
    assert op.invoke("results", "--run", str(first), "--out", str(out)).exit_code == 0
    assert {r["file"] for r in read_csv(out)} == {"a.csv"}

    # Runs are stamped with the real clock: a day ago selects both, tomorrow none.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert op.invoke("results", "--since", yesterday, "--out", str(out)).exit_code == 0
    assert len(read_csv(out)) == 5
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert op.invoke("results", "--since", tomorrow, "--out", str(out)).exit_code == 0
    assert read_csv(out) == []

    missing = op.invoke("results", "--run", "999", "--out", str(out))
    assert missing.exit_code == 1 and "run 999 is not in the ledger" in missing.output


def test_more_rows_than_one_chunk_take_several_requests(
    op: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    run = op.upload(op.csv("a.csv", _rows(25)))
    emulator.advance(8 * 3600)
    out = tmp_path / "r.csv"
    result = op.invoke(
        "results", "--run", str(run), "--attempts", "--chunk-size", "10", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    paths = [e["path"] for e in emulator.requests_log()]
    assert sum(p.endswith("/callJob/getReport") for p in paths) == 3
    assert sum(p.endswith("/callAttempt/getReport") for p in paths) == 3
    lines = read_csv(out)
    assert len(lines) == 25 and all(r["job_status"] in FINAL for r in lines)


def test_a_job_unknown_to_the_server_is_isolated_and_the_rest_reported(
    op: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    run = op.upload(op.csv("a.csv", _rows(8)))
    # The ledger points at a job the server does not know (e.g. the campaign was recreated).
    engine = sa.create_engine(op.ledger_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE rows SET job_id = '1' WHERE row_number = 5"))
    engine.dispose()
    out = tmp_path / "r.csv"
    result = op.invoke("results", "--run", str(run), "--out", str(out))
    assert result.exit_code == 0, result.output
    statuses = [r["job_status"] for r in read_csv(out)]
    assert statuses[4] == "not_found"
    assert statuses[:4] + statuses[5:] == ["planned"] * 7
