"""``jaicp-pipeline ledger runs|show|phone|verify|export`` through click's runner."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.errors import ExitCode
from pipeline.ledger import Ledger
from tests.ledger.test_verify import build_honest_ledger


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["ledger", *args])
    return result.exit_code, result.stdout, result.stderr


def test_runs_and_show(ledger: Ledger, ledger_url: str) -> None:
    build_honest_ledger(ledger)
    code, out, _ = run("runs", "--ledger", ledger_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "upload runs"
    assert lines[1].split()[:7] == ["run", "started", "took", "exit", "read", "sent", "of"]
    # run 1: exit 3, 6 rows read = 2 sent + 1 rejected + 1 duplicate + 2 pending
    assert lines[2].split()[4:7] == ["3", "6", "2"] and lines[2].endswith("export.csv")
    code, out, _ = run("show", "1", "--ledger", ledger_url)
    assert code == 0, out
    assert "run 1: upload" in out and "exit status 3" in out
    assert "batches: confirmed=1 unknown=1" in out
    code, _, err = run("show", "99", "--ledger", ledger_url)
    assert code == ExitCode.FAILED and "run 99 is not in the ledger" in err


def test_phone_history(ledger: Ledger, ledger_url: str) -> None:
    build_honest_ledger(ledger)
    code, out, _ = run("phone", "+7 916 000-00-01", "--ledger", ledger_url)
    assert code == 0
    assert "export.csv row 1" in out and "sent job=job-1" in out
    assert "batch 1 gen 1 key" in out and "confirmed, 1 attempt(s)" in out
    code, out, _ = run("phone", "70000000000", "--ledger", ledger_url)
    assert code == 0 and "no row with phone 70000000000" in out


def test_verify_exit_codes(ledger: Ledger, ledger_url: str) -> None:
    build_honest_ledger(ledger)
    code, out, _ = run("verify", "--ledger", ledger_url)
    assert code == 0 and "all invariants hold" in out
    with ledger.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rows SET job_id = 'job-1' WHERE state = 'sent'")
    code, _, err = run("verify", "--ledger", ledger_url)
    assert code == ExitCode.VERIFY_FAILED
    assert "no-job-id-twice" in err and "job-1" in err


def test_export_to_stdout_and_to_a_private_file(
    ledger: Ledger, ledger_url: str, tmp_path: Path
) -> None:
    build_honest_ledger(ledger)
    with ledger.store.engine.begin() as conn:  # a reason that a spreadsheet would run as a formula
        conn.exec_driver_sql("UPDATE rows SET reason = '=HYPERLINK(1)' WHERE state = 'rejected'")
    code, out, _ = run("export", "--ledger", ledger_url)
    assert code == 0
    lines = list(csv.DictReader(io.StringIO(out)))
    assert len(lines) == 6
    assert [line["state"] for line in lines] == [
        "sent", "sent", "pending", "pending", "rejected", "duplicate",
    ]  # fmt: skip
    assert lines[4]["reason"] == "'=HYPERLINK(1)"
    assert lines[0]["job_id"] == "job-1" and lines[0]["request_key"]
    target = tmp_path / "rows.csv"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o644)  # an existing readable file must not stay readable once it holds phones
    code, _, err = run("export", "--run", "1", "--out", str(target), "--ledger", ledger_url)
    assert code == 0 and "exported 6 rows" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_ledger_from_config_and_missing_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    config = tmp_path / "c.yaml"
    config.write_text(f"ledger:\n  url: sqlite:///{path}\n", encoding="utf-8")
    code, _, err = run("runs", "--config", str(config))
    assert code == ExitCode.FAILED and "there is no ledger" in err
    assert not path.exists()
    code, _, err = run("runs")
    assert code == ExitCode.USAGE and "--ledger URL or --config CONFIG" in err
