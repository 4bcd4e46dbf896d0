"""Opt-outs and the do-not-call list through the CLI, against the emulator over a socket, on
SQLite and PostgreSQL: `suppress add|remove|list|import`, `results` feeding the list from call
results, `cancel --suppressed` stopping calls queued before a phone was listed, and the next
upload leaving listed phones out."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from pipeline.emulator import Emulator
from tests.conftest import phone
from tests.results.support import Operator, read_csv


def _listed(op: Operator, *extra: str) -> list[dict[str, str]]:
    shown = op.invoke("suppress", "list", *extra)
    assert shown.exit_code == 0, shown.output
    return list(csv.DictReader(io.StringIO(shown.output)))


def _with_opt_outs(op: Operator, results: str) -> None:
    text = op.config.read_text(encoding="utf-8")
    op.config.write_text(text + f"suppress: {{opt_out_results: {results}}}\n", encoding="utf-8")


def test_add_remove_list_and_import_keep_who_when_why(op_each: Operator, tmp_path: Path) -> None:
    op = op_each
    added = op.invoke("suppress", "add", "8 (916) 000-00-01", "--reason", "asked", "--by", "ann")
    assert added.exit_code == 0, added.output
    assert "1 phone(s) added" in added.output
    (tmp_path / "crm.csv").write_text("Phone\n+7 916 000-00-02\n89160000001\n", encoding="utf-8")
    imported = op.invoke("suppress", "import", str(tmp_path / "crm.csv"))
    assert imported.exit_code == 0 and "1 phone(s) of crm.csv added" in imported.output
    removed = op.invoke("suppress", "remove", "79160000001", "--reason", "consent", "--by", "bob")
    assert "1 phone(s) taken off" in removed.output
    now = _listed(op)
    assert [(e["phone"], e["source"]) for e in now] == [("79160000002", "file")]
    history = _listed(op, "--history", "--phone", "+79160000001")
    assert [
        (e["added_by"], e["reason"], e["removed_by"], e["removed_reason"]) for e in history
    ] == [("ann", "asked", "bob", "consent")]
    assert history[0]["removed_at"] >= history[0]["added_at"] != ""


def test_a_value_that_is_no_phone_changes_nothing(op: Operator, tmp_path: Path) -> None:
    bad = op.invoke("suppress", "add", "79160000001", "12")
    assert bad.exit_code == 4 and "nothing was changed" in bad.output
    assert _listed(op) == []
    (tmp_path / "bad.csv").write_text("phone\n79160000001\n7,91612E+10\n", encoding="utf-8")
    broken = op.invoke("suppress", "import", str(tmp_path / "bad.csv"))
    assert broken.exit_code == 4 and "bad.csv row 2" in broken.output
    assert _listed(op) == []


def test_an_opt_out_result_feeds_the_list_cancel_stops_queued_calls_and_upload_skips_them(
    op_each: Operator, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    op = op_each
    _with_opt_outs(op, "[REFUSED]")
    rows = [(phone(i), f"N{i}", "n") for i in range(40)]
    op.upload(op.csv("a.csv", rows))
    emulator.advance(8 * 3600)
    done = op.invoke("results", "--out", str(op.tmp_path / "r.csv"))
    assert done.exit_code == 0, done.output
    # What the operator's results file says was refused (read back, not from the ledger).
    lines = read_csv(op.tmp_path / "r.csv")
    refused = {line["phone"]: line["job_id"] for line in lines if line["call_result"] == "REFUSED"}
    assert refused, "the emulator's seed gave no REFUSED result; pick another result"
    listed = _listed(op)
    assert {e["phone"]: e["job_id"] for e in listed} == refused
    assert {e["source"] for e in listed} == {"opt_out"}
    assert f"{len(refused)} phone(s) put on the do-not-call list" in done.output

    # A phone listed by hand after its row was sent: its queued call is cancelled.
    second = op.upload(op.csv("b.csv", [(phone(100), "late", "n"), (phone(101), "late", "n")]))
    assert second
    op.invoke("suppress", "add", phone(100), "--reason", "called the office")
    cancelled = op.invoke("cancel", "--suppressed", "--yes")
    assert cancelled.exit_code == 0, cancelled.output
    statuses = {j["phone"]: j["jobStatus"] for j in emulator.jobs(campaign["id"])}
    assert statuses[phone(100)] == "cancelledByUser"
    assert statuses[phone(101)] != "cancelledByUser"  # queued too, but not on the list
    others = [s for p, s in statuses.items() if p != phone(100)]
    assert "cancelledByUser" not in others  # phones not on the list: left alone

    # The next night's file, amounts changed: the listed phones are rejected, not called.
    before = len(emulator.jobs(campaign["id"]))
    op.upload(op.csv("c.csv", [(p, "again", "changed") for p in [*refused, phone(100)]]))
    assert len(emulator.jobs(campaign["id"])) == before
    third = int(op.sql("SELECT max(id) FROM runs WHERE command = 'upload'")[0][0])
    shown = op.invoke("results", "--run", str(third), "--out", str(op.tmp_path / "c.csv"))
    assert shown.exit_code == 0, shown.output
    reasons = {
        line["state"] + " " + line["reason"][:11] for line in read_csv(op.tmp_path / "c.csv")
    }
    assert reasons == {"rejected suppressed:"}
    got = op.sql(
        "SELECT reason_code, count(*) FROM rows WHERE state = 'rejected' GROUP BY reason_code"
    )
    assert got == [("suppressed", len(refused) + 1)]
