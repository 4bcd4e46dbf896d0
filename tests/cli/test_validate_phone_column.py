"""validate's accepted file names, per row, the phone column its number came from when
``columns.phone`` lists several (the shipped amoCRM config), the same on every validate way;
with one phone column the file has no such column."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from pipeline.config import load_config, parse_config
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.ranges import plan_ranges
from tests.cli.test_validate_parallel import _assert_same, _run
from tests.extract.helpers import read_all

ROOT = Path(__file__).resolve().parents[2]
AMOCRM = ROOT / "configs" / "amocrm.yaml"
MOBILE, WORK, OTHER = "Мобильный телефон", "Рабочий телефон", "Телефон"
HEADER = [MOBILE, WORK, OTHER, "Основной контакт", "Название сделки", "Бюджет", "Дата создания",
          "Часовой пояс"]  # fmt: skip


def _export(path: Path, rows: int, seed: int) -> dict[int, str]:
    """An amoCRM export; returns data row → the header its number should be taken from."""
    rnd = random.Random(seed)
    want: dict[int, str] = {}
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(HEADER)
        for row in range(1, rows + 1):
            number = f"+7 916 {row:07d}"
            kind = rnd.randrange(5)
            phones = {
                0: [number, "", ""],  # mobile only
                1: ["", number, ""],  # only the work phone (was phone_missing)
                2: ["не указан", "", number],  # the third listed one
                3: [number, "+7 916 999-99-99", ""],  # both: the first listed wins
                4: ["", "", ""],  # none: rejected, never dropped
            }[kind]
            if kind < 4:
                want[row] = [MOBILE, WORK, OTHER, MOBILE][kind]
            deal = f"Сделка {row}\nline 2" if row % 7 == 0 else f"Сделка {row}"
            writer.writerow([*phones, f"Контакт {row}", deal, "1500", "31.12.2024 10:15", ""])
    return want


def test_the_accepted_file_names_the_column_each_number_came_from(tmp_path: Path) -> None:
    path = tmp_path / "amocrm.csv"
    want = _export(path, 3000, seed=3)
    with open_table(path, ReadOptions()) as table:
        assert isinstance(table, CsvTable)
        parts = plan_ranges(path, table.info, table.data_line, 3)
    assert parts is not None and len(parts) == 3  # the parallel path really runs
    config = load_config(AMOCRM, environ={})
    serial = _assert_same(config, path, tmp_path, workers=3)  # row way = 1 = 3 processes
    assert serial.accepted == len(want) and serial.rejected == 3000 - len(want)

    info, rows, _ = read_all(tmp_path / "rows" / "accepted.csv")
    assert list(info.header[:3]) == ["row", "phone", "phone_column"]
    got = {int(cells[0]): cells[2] for _, cells in rows}
    assert got == want
    assert WORK in got.values() and OTHER in got.values()


def test_one_phone_column_adds_no_column(tmp_path: Path) -> None:
    config = parse_config(
        {"columns": {"phone": MOBILE, "payload": {"name": "Основной контакт"}}}, environ={}
    )
    path = tmp_path / "amocrm.csv"
    _export(path, 10, seed=1)
    _summary, files = _run(config, path, tmp_path / "one", 0)
    assert files["accepted.csv"].decode("utf-8-sig").splitlines()[0].split(";")[:3] == [
        "row", "phone", "payload.name"
    ]  # fmt: skip
