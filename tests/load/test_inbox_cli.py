"""``jaicp-pipeline upload --inbox DIR`` from the command line: its lines, its JSON, and the
usage rule (FILE... or --inbox DIR, one of the two)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from tests.conftest import phone
from tests.load.conftest import write_csv

CONFIG = """\
ledger:
  url: sqlite:///{ledger}
columns:
  phone: phone
  payload: {{name: name}}
upload:
  batch_size: 5
  max_reject_ratio: 0.5
inbox:
  settle_s: 0
"""


def invoke(tmp_path: Path, emulator: Emulator, token: str, *args: str) -> Result:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(ledger=tmp_path / "l.sqlite3"), encoding="utf-8")
    env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url, "JAICP_PROGRESS": None}
    return CliRunner().invoke(cli, ["upload", "--config", str(config), *args], env=env)


def test_the_inbox_from_the_command_line(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "good.csv", [(phone(i), f"Anna {i}") for i in range(7)])

    shown = invoke(tmp_path, emulator, campaign["token"], "--inbox", str(inbox))

    assert shown.exit_code == 0, shown.output
    assert f"inbox {inbox}: 1 done, 0 failed, 0 left for the next run, 0 not taken" in shown.output
    assert "  done    good.csv: every row recorded -> " in shown.output
    assert "rows read 7 = sent 7 + rejected 0" in shown.output
    assert campaign["token"] not in shown.output

    write_csv(inbox / "bad.csv", [("", f"Nobody {i}") for i in range(4)])
    as_json = invoke(tmp_path, emulator, campaign["token"], "--summary-json", "--inbox", str(inbox))
    assert as_json.exit_code == 8, as_json.output
    data = json.loads(as_json.stdout)
    assert data["exit_code"] == 8 and data["counts"]["failed"] == 1
    assert data["files"][0]["status"] == "failed"
    assert (inbox / "failed" / "bad.csv.note.txt").exists()


def test_files_or_an_inbox_not_both_nor_neither(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    data = write_csv(tmp_path / "x.csv", [(phone(1), "Anna")])
    both = invoke(tmp_path, emulator, campaign["token"], "--inbox", str(tmp_path), str(data))
    neither = invoke(tmp_path, emulator, campaign["token"])
    for result in (both, neither):
        assert result.exit_code == 2
        assert "give the export FILE(s) or --inbox DIR, one of the two" in result.output


def test_an_inbox_run_refuses_one_report_page_for_many_runs(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "a.csv", [(phone(1), "Anna")])
    page = tmp_path / "night.html"
    result = invoke(
        tmp_path, emulator, campaign["token"], "--inbox", str(inbox), "--report", str(page)
    )
    assert result.exit_code == 2, result.output
    assert "report --run N" in result.output
    assert not page.exists() and (inbox / "a.csv").exists()  # refused before anything ran
