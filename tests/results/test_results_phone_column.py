"""`results` names the listed phone column a row's number came from, as a column present only
when some row's number came from one other than the first (``columns.phone`` with several)."""

from __future__ import annotations

from pathlib import Path

from pipeline.emulator import Emulator
from tests.conftest import phone
from tests.results.support import Operator, read_csv


def _listing_two_phone_columns(op: Operator) -> None:
    text = op.config.read_text(encoding="utf-8")
    op.config.write_text(text.replace("  phone: phone\n", "  phone: [phone, work]\n"), "utf-8")


def _csv(op: Operator, name: str, rows: list[tuple[str, str, str]]) -> Path:
    path = op.tmp_path / name
    lines = ["phone,work,name,note", *(f"{p},{w},{n},x" for p, w, n in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_results_name_the_work_column_for_rows_whose_number_came_from_it(
    op: Operator, emulator: Emulator, campaign: dict[str, object], tmp_path: Path
) -> None:
    _listing_two_phone_columns(op)
    run = op.upload(_csv(op, "amo.csv", [(phone(0), "", "A"), ("", phone(1), "B")]))
    out = tmp_path / "results.csv"
    result = op.invoke("results", "--run", str(run), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = read_csv(out)
    assert [(r["phone"], r["phone_column"]) for r in lines] == [(phone(0), ""), (phone(1), "work")]

    # every number from the first listed column: no such column at all
    again = op.upload(_csv(op, "plain.csv", [(phone(2), "", "C")]))
    plain = tmp_path / "plain.csv"
    assert op.invoke("results", "--run", str(again), "--out", str(plain)).exit_code == 0
    assert "phone_column" not in read_csv(plain)[0]
