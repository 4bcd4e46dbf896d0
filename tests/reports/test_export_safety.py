"""``ledger export`` writes its cells through the one formula rule (pipeline.reports.safety):
a cell that starts like a formula — after spaces, or behind a tab or a carriage return too —
gets its apostrophe, and phones, ids and times stay as they are."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.ledger import open_ledger
from pipeline.records import CallItem, Rejection
from pipeline.reports.safety import neutralise
from pipeline.reports.tables import write_csv
from tests.ledger.conftest import items, start

HOSTILE = ["=1+1", "\t=cmd|' /C calc'!A0", "\r=1", '  =HYPERLINK("x")', "@SUM(1)", "-2+3"]


@pytest.mark.parametrize("value", [*HOSTILE, "+7 916 000-00-01", "-1500", "Иванов", ""])
def test_write_csv_applies_the_shared_rule_to_every_cell(value: str) -> None:
    out = io.StringIO()
    assert write_csv(out, [["header"], [value], ["ok", value]]) == 2
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines == [["header"], [neutralise(value)], ["ok", neutralise(value)]]


def test_ledger_export_neutralises_what_a_file_and_its_rows_bring(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with open_ledger(url) as ledger:
        s = start(ledger)
        state = ledger.inputs.begin(s.lease, name="\t=cmd|' /C calc'!A0.csv", sha256="ab" * 32)
        records: list[CallItem | Rejection] = [
            *items(1),
            *(Rejection(2 + n, None, "bad_value", value) for n, value in enumerate(HOSTILE)),
        ]
        ledger.planning.plan_chunk(s.lease, state.id, records)
        ledger.inputs.complete(s.lease, state.id, rows_total=len(records))
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(cli, ["ledger", "export", "--ledger", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a file gets the BOM Excel needs
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    file_col, reason_col, phone_col = (header.index(c) for c in ("file", "reason", "phone"))
    assert {row[file_col] for row in rows} == {"'\t=cmd|' /C calc'!A0.csv"}
    assert [row[reason_col] for row in rows[1:]] == ["'" + value for value in HOSTILE]
    assert rows[0][phone_col] == items(1)[0].phone  # digits stay digits
