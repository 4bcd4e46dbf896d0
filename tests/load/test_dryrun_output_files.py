"""The dry run's output files (validate --accepted/--rejects) in every format their suffix
names: the input's delimiter with a BOM, reports.delimiter, a typed XLSX, JSON Lines, and a
suffix that names no format refused (exit 2) before the file is read."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.cli.main import cli
from tests.extract.helpers import read_all

ROOT = Path(__file__).resolve().parents[2]
BITRIX = ROOT / "sample_data" / "bitrix24_export.csv"  # ';', UTF-8 with BOM, Cyrillic
BITRIX_CONFIG = ROOT / "configs" / "bitrix24.yaml"
BOM = b"\xef\xbb\xbf"


def _validate(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), str(BITRIX), *args])
    return result.exit_code, result.output


def test_accepted_and_rejects_keep_the_inputs_semicolon_with_a_bom(tmp_path: Path) -> None:
    accepted, rejects = tmp_path / "accepted.csv", tmp_path / "rejects.csv"
    code, out = _validate(BITRIX_CONFIG, "--accepted", str(accepted), "--rejects", str(rejects))
    assert code == 0, out
    for path in (accepted, rejects):
        assert path.read_bytes().startswith(BOM)
        info, rows, _ = read_all(path)
        assert (info.encoding, info.delimiter) == ("utf-8-sig", ";")
        assert rows


def test_reports_delimiter_overrides_the_inputs(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    text = BITRIX_CONFIG.read_text(encoding="utf-8") + "\nreports:\n  delimiter: tab\n"
    config.write_text(text, encoding="utf-8")
    accepted = tmp_path / "accepted.csv"
    code, out = _validate(config, "--accepted", str(accepted))
    assert code == 0, out
    info, _, _ = read_all(accepted)
    assert (info.encoding, info.delimiter) == ("utf-8-sig", "\t")


def test_an_xlsx_accepted_file_has_typed_cells_and_text_phones(tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.xlsx"
    code, out = _validate(BITRIX_CONFIG, "--accepted", str(accepted))
    assert code == 0, out
    sheet = load_workbook(accepted).active
    assert isinstance(sheet, Worksheet)
    header = [c.value for c in sheet[1]]
    # bitrix24.yaml lists three phone headers: the column each number came from follows it
    assert header[:6] == [
        "row", "phone", "phone_column", "payload.name", "payload.debt", "payload.due_date"
    ]  # fmt: skip
    first = dict(zip(header, sheet[2], strict=True))
    assert (first["phone_column"].data_type, first["phone_column"].value) == ("s", "Телефон")
    assert first["row"].data_type == "n" and isinstance(first["row"].value, int)
    assert first["phone"].data_type == "s" and len(str(first["phone"].value)) == 11
    debt = first["payload.debt"]  # decimal → a number cell shown with two decimals
    assert (debt.data_type, debt.value) == ("n", 1000) and debt.number_format.startswith("#,##0.00")
    due = first["payload.due_date"]  # date → a date cell
    assert isinstance(due.value, datetime) and due.number_format == "yyyy-mm-dd"
    assert first["maxAttempts"].value == 3  # a count of the call policy
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
    # the same rows as the CSV, cell for cell, once read back as text
    as_csv = tmp_path / "accepted.csv"
    assert _validate(BITRIX_CONFIG, "--accepted", str(as_csv))[0] == 0
    xlsx_rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert len(xlsx_rows) == len(read_all(as_csv)[1])


def test_jsonl_accepted_rows(tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.jsonl"
    code, out = _validate(BITRIX_CONFIG, "--accepted", str(accepted))
    assert code == 0, out
    rows = [json.loads(line) for line in accepted.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 23 and all(isinstance(r["row"], int) for r in rows)
    assert all(isinstance(r["phone"], str) for r in rows)


@pytest.mark.parametrize("option", ["--accepted", "--rejects"])
def test_a_suffix_that_names_no_format_is_refused_at_once(tmp_path: Path, option: str) -> None:
    code, out = _validate(BITRIX_CONFIG, option, str(tmp_path / "out.dat"))
    assert code == 2, out
    assert "out.dat" in out and ".xlsx, .jsonl or .json" in out
    assert list(tmp_path.iterdir()) == []
