"""``ledger export`` through the one format decision: a file by its suffix (.csv with BOM and
reports.delimiter, .xlsx typed, .jsonl), stdout as CSV without BOM, other suffixes exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.cli.main import cli
from pipeline.ledger import open_ledger
from pipeline.records import CallItem, Rejection
from tests.ledger.conftest import items, start

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with open_ledger(url) as ledger:
        s = start(ledger)
        state = ledger.inputs.begin(s.lease, name="night.csv", sha256="ab" * 32)
        records: list[CallItem | Rejection] = [*items(2), Rejection(3, None, "bad", "=1+1")]
        ledger.planning.plan_chunk(s.lease, state.id, records)
        ledger.inputs.complete(s.lease, state.id, rows_total=len(records))
    return url


def _export(*args: str) -> tuple[int, bytes]:
    result = CliRunner().invoke(cli, ["ledger", "export", *args])
    return result.exit_code, result.stdout_bytes


def test_stdout_is_csv_without_bom_and_a_config_sets_the_delimiter(
    url: str, tmp_path: Path
) -> None:
    code, data = _export("--ledger", url)
    assert code == 0 and data.startswith(b"file,row,phone,")
    config = tmp_path / "c.yaml"
    config.write_text(f"version: 1\nledger: {{url: '{url}'}}\nreports: {{delimiter: ';'}}\n")
    code, data = _export("--config", str(config))
    assert code == 0 and data.startswith(b"file;row;phone;")
    out = tmp_path / "rows.csv"
    assert _export("--config", str(config), "--out", str(out))[0] == 0
    assert out.read_bytes().startswith(BOM + b"file;row;phone;")
    assert b"'=1+1" in out.read_bytes()  # CSV keeps the formula rule


def test_xlsx_export_types_rows_and_keeps_ids_and_phones_text(url: str, tmp_path: Path) -> None:
    out = tmp_path / "rows.xlsx"
    assert _export("--ledger", url, "--out", str(out))[0] == 0
    assert out.stat().st_mode & 0o077 == 0
    sheet = load_workbook(out).active
    assert isinstance(sheet, Worksheet)
    header = [c.value for c in sheet[1]]
    lines = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert [line["row"].value for line in lines] == [1, 2, 3]
    assert {line["phone"].data_type for line in lines[:2]} == {"s"}
    assert lines[0]["row_id"].data_type == "s"  # an id, never a number
    assert lines[2]["reason"].value == "=1+1"  # verbatim string cell, not a formula
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref is not None


def test_jsonl_export_and_a_refused_suffix(url: str, tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    assert _export("--ledger", url, "--out", str(out))[0] == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3] and rows[2]["reason"] == "=1+1"
    code, _ = _export("--ledger", url, "--out", str(tmp_path / "rows.pdf"))
    assert code == 2
    assert not (tmp_path / "rows.pdf").exists()
